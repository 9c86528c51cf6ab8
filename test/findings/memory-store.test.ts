import { MemoryFindingStore } from '../../shared/findings/memory-store';
import { findingStoreContract } from './support/store-contract';

describe('findings store contract: memory', () => {
  findingStoreContract(async () => new MemoryFindingStore());
});
