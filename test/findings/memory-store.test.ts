import { expect } from 'chai';
import { MemoryFindingStore } from '../../shared/findings/memory-store';
import type { FindingKey } from '../../shared/findings/finding';
import type { StoredFinding, WriteExpectation } from '../../shared/findings/store';
import { findingStoreContract, parallelDeliveries } from './support/store-contract';

describe('findings store contract: memory', () => {
  findingStoreContract(async () => {
    const store = new MemoryFindingStore();
    return { store, connect: () => store };
  });
});

/** A store that writes without its conditions: what the contract's race tests must catch. */
class UnconditionalStore extends MemoryFindingStore {
  override async put(key: FindingKey, record: StoredFinding, _expected: WriteExpectation): Promise<void> {
    const current = await this.get(key);
    await super.put(key, record, current ? { version: current.version } : { absent: true });
  }
  override async claimNotification(): Promise<boolean> {
    return true;
  }
}

describe('findings store contract: the parallel delivery scenario', () => {
  it('catches a store whose writes are not conditional (more than one transition or notice)', async () => {
    const store = new UnconditionalStore();
    const { kinds, notices } = await parallelDeliveries(() => store);
    expect(kinds.length + notices).to.be.greaterThan(2);
  });
});
