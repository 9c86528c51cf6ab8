import { expect } from 'chai';
import { InvocationContext } from '@azure/functions';
import { parsePollMessage, PollMessageError, type PollMessage } from '../../functions/azure/poll-message';
import { createPollScan } from '../../functions/azure/poll-scan';
import { MemoryTelemetry } from '../../functions/azure/telemetry';
import type { CheckOutcome, ScanTicket } from '../../shared/qualys/contracts';
import { memoryStores } from '../support/memory-storage';

/** A scan-poll message read back from the queue is untrusted: what it accepts, it must be able to record. */

const message = (): PollMessage => ({
  v: 1,
  kind: 'scan-poll',
  scanId: '8663838a-7e82-4385-a0be-b32bacb6ac41',
  contentKey: 'docker.io/library/nginx:1.27',
  owner: '/subscriptions/s/resourcegroups/rg/providers/microsoft.containerinstance/containergroups/cg|corr',
  image: { registry: 'docker.io', repository: 'library/nginx', tag: '1.27', reference: 'docker.io/library/nginx:1.27' },
  containerType: 'ACI',
  workload: { resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/cg', subscriptionId: 's', resourceGroup: 'rg', location: 'westeurope' },
  ticket: { v: 1, image: 'docker.io/library/nginx:1.27', registry: 'docker.io', repository: 'library/nginx', tag: '1.27', reused: false, submittedAt: '2026-01-15T09:00:00.000Z' },
  eventAt: '2026-01-15T09:00:00.000Z',
  startedAt: '2026-01-15T09:00:00.000Z',
  deadline: '2099-01-15T09:30:00.000Z',
  checks: 0,
});

describe('azure scan-poll messages', () => {
  it('reads the message onDeployment writes', () => {
    expect(parsePollMessage(JSON.parse(JSON.stringify(message())))).to.deep.equal(message());
  });

  const refused: [string, (m: PollMessage) => unknown, RegExp][] = [
    ['a digest that is not sha256:<64 hex>', (m) => ({ ...m, image: { ...m.image, digest: 'sha256:aaaa' } }), /image\.digest/],
    ['an empty location', (m) => ({ ...m, workload: { ...m.workload, location: '' } }), /workload\.location/],
    ['an image reference longer than a Table column holds', (m) => ({ ...m, image: { ...m.image, reference: 'x'.repeat(40_000) } }), /image\.reference/],
    ['a resource id longer than ARM makes', (m) => ({ ...m, workload: { ...m.workload, resourceId: 'x'.repeat(2_000) } }), /workload\.resourceId/],
  ];
  it('refuses a message larger than onDeployment could write, so re-sending it always fits a queue message', () => {
    const big = { ...message(), ticket: { ...message().ticket, note: 'x'.repeat(40_000) } };
    expect(() => parsePollMessage(big)).to.throw(PollMessageError, /^scan-poll message of 4\d{4} characters \(at most 16384\)$/);
    let deep: unknown = 1;
    for (let i = 0; i < 5_000; i++) deep = [deep];
    expect(() => parsePollMessage({ ...message(), ticket: { ...message().ticket, note: deep } })).to.throw(PollMessageError, /nested too deeply/);
  });

  for (const [what, change, path] of refused) {
    it(`refuses ${what}, naming the field, so what it accepts can always be recorded`, () => {
      expect(() => parsePollMessage(change(message()))).to.throw(PollMessageError, path);
    });
  }

  it('pollScan records such a message as malformed instead of failing every delivery on the result it cannot store', async () => {
    const stores = memoryStores();
    const pollScan = createPollScan({
      checker: { check: async (ticket: ScanTicket): Promise<CheckOutcome> => ({ state: 'FAILED', detail: 'failed at Qualys', ticket }) },
      workflow: { results: async () => Promise.reject(new Error('not asked')) },
      store: stores.store,
      locks: stores.locks,
      polls: stores.polls,
      pollDelay: () => 30,
      telemetry: new MemoryTelemetry(),
      maxDequeueCount: 8,
    });
    const bad = { ...message(), image: { ...message().image, digest: 'sha256:aaaa' } };
    const context = new InvocationContext({ invocationId: 'inv', triggerMetadata: { id: 'poll-bad-digest', dequeueCount: 1 }, logHandler: () => undefined });
    const outcome = await pollScan(Buffer.from(JSON.stringify(bad)).toString('base64'), context);
    expect(outcome).to.have.property('kind', 'malformed');
    expect(stores.results.names('errors/')).to.deep.equal(['errors/messages/poll-poll-bad-digest.json']);
  });
});
