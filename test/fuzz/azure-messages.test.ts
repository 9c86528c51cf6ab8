import { expect } from 'chai';
import fc from 'fast-check';
import { InvocationContext } from '@azure/functions';
import { classifyEvent, decodeEvents, MessageFormatError, type ClassifiedEvent } from '../../functions/azure/deployment-event';
import { parsePollMessage, PollMessageError } from '../../functions/azure/poll-message';
import { createPollScan, type PollOutcome } from '../../functions/azure/poll-scan';
import { MemoryTelemetry } from '../../functions/azure/telemetry';
import { DEPLOYMENT_EVENT, DEPLOYMENT_OUTCOMES } from '../../functions/azure/telemetry-names';
import type { CheckOutcome, ScanTicket } from '../../shared/qualys/contracts';
import { SCHEMA_VERSION, type ScanResult, type ScanTarget } from '../../shared/scan-result';
import { emptyCounts } from '../../shared/severity';
import { memoryDeployment } from '../support/memory-deployment';
import { memoryStores } from '../support/memory-storage';
import { expectLinear } from '../support/growth';
import { azureEventSeeds, imageReferenceSeeds, pollMessageSeeds } from './support/seeds';
import { base64Garbage, fuzz, hostileString, jsonText, hostileValue, longArray, mutated, mutatedText, nested, nestedText, repeatTo } from './support/hostile';
import { describe as show, expectNoPollution, expectProperty, prototypeSnapshot, typedOutcome, typedOutcomeAsync } from './support/typed';

/**
 * The Azure entry points under generated and mutated input: the `deployments` queue message (Event Grid
 * or CloudEvents, decoded and classified, then the whole onDeployment handler) and the `scan-polls`
 * message (parsed, then the whole pollScan handler), over in-memory storage that refuses what Azure
 * Storage refuses.
 */

const seeds = azureEventSeeds();
const seedTexts = seeds.map((s) => JSON.stringify(s));

/** A CloudEvent of the seeds whose payload is in `data_base64` only, and that is garbage. */
const cloudEventWithGarbage = fc.tuple(fc.constantFrom(...seeds.flat().filter((e) => (e as Record<string, unknown>).specversion !== undefined)), base64Garbage).map(([event, garbage]) => {
  const { data: _data, ...rest } = event as Record<string, unknown>;
  return [{ ...rest, data_base64: garbage }];
});

/** Everything the queue trigger could hand the handler: host-parsed values, text, base64 text and bytes. */
const queueMessage: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: mutated(seeds) },
  { weight: 2, arbitrary: mutatedText(seedTexts) },
  { weight: 1, arbitrary: hostileValue },
  { weight: 1, arbitrary: cloudEventWithGarbage },
  { weight: 1, arbitrary: mutated(seeds).map((v) => Buffer.from(jsonText(v)).toString('base64')) },
  { weight: 1, arbitrary: mutatedText(seedTexts).map((t) => Buffer.from(t)) },
  { weight: 1, arbitrary: fc.constantFrom(nestedText(5_000, 'array'), nestedText(5_000, 'object'), `[${nestedText(5_000, 'array')}]`, nested(5_000, 'object'), [nested(5_000, 'array')], '', '   ', '[]', '{}', 'null', '"text"', '1') },
);

function expectClassified(c: ClassifiedEvent, raw: unknown): void {
  expect(['deployment', 'ignored', 'malformed']).to.include(c.kind);
  expect(Object.getPrototypeOf(c)).to.equal(Object.prototype);
  if (c.kind === 'deployment') {
    for (const key of ['id', 'resourceId', 'resourceKey', 'subscriptionId', 'resourceGroup', 'name', 'correlationId', 'operationName'] as const) {
      expect(c.event[key], `${key} of ${show(raw)}`).to.be.a('string').that.is.not.empty;
    }
    expect(['ACI', 'ACA']).to.include(c.event.containerType);
  } else {
    expect(c.reason, `reason for ${show(raw)}`).to.be.a('string').that.is.not.empty;
  }
}

describe('fuzz: Azure queue messages', function () {
  this.timeout(120_000);
  const prototypes = prototypeSnapshot();
  afterEach(() => expectNoPollution(prototypes));

  it('decodes and classifies any message: MessageFormatError or one classification per event', async () => {
    await expectProperty(
      fc.property(queueMessage, (message) => {
        const events = typedOutcome(() => decodeEvents(message), [MessageFormatError], message);
        for (const raw of events ?? []) expectClassified(classifyEvent(raw), raw);
        expectNoPollution(prototypes);
      }),
      fuzz(500),
    );
  });

  it('onDeployment answers any message without throwing: every event has an outcome, one record and one event per kind at most', async () => {
    const images = fc.array(fc.oneof(fc.constantFrom(...imageReferenceSeeds()), hostileString), { minLength: 1, maxLength: 3 });
    const reached = new Set<string>();
    await expectProperty(
      fc.asyncProperty(queueMessage, images, async (message, workloadImages) => {
        const d = memoryDeployment({
          workload: (event) => ({ kind: 'found', workload: { resourceId: event.resourceId, containerType: event.containerType, containers: workloadImages.map((image, i) => ({ name: `c${i}`, image, init: i > 0 })), registryServers: [] } }),
        });
        let count: number;
        try {
          count = decodeEvents(message).length;
        } catch {
          count = 1;
        }
        const outcome = await d.handle(message, { id: 'fuzzed' });
        expect(outcome.events, show(message)).to.have.length(count);
        const kinds = outcome.events.map((e) => e.outcome);
        const malformed = kinds.filter((k) => k === DEPLOYMENT_OUTCOMES.malformed).length;
        const ignored = kinds.filter((k) => k === DEPLOYMENT_OUTCOMES.ignored).length;
        expect(d.stores.results.names('errors/messages/')).to.have.length(malformed > 0 ? 1 : 0);
        const sent = (outcome: string) => d.telemetry.events.filter((e) => e.name === DEPLOYMENT_EVENT && e.properties.Outcome === outcome);
        expect(sent(DEPLOYMENT_OUTCOMES.malformed).map((e) => Number(e.properties.Count))).to.deep.equal(malformed > 0 ? [malformed] : []);
        expect(sent(DEPLOYMENT_OUTCOMES.ignored).map((e) => Number(e.properties.Count))).to.deep.equal(ignored > 0 ? [ignored] : []);
        for (const e of outcome.events) {
          reached.add(e.outcome);
          for (const image of e.images ?? []) {
            expect(['submitted', 'resumed', 'cached', 'in-flight', 'waiting', 'failed', 'deferred'], show(image)).to.include(image.kind);
            reached.add(`image ${image.kind}`);
          }
        }
      }),
      fuzz(300),
    );
    // The inputs reach every part of the handler, not only its first checks.
    expect([...reached].sort()).to.include.members(['Accepted', 'Ignored', 'Malformed', 'image failed', 'image submitted']);
  });

  it('onDeployment records arrays of 1,000 to 10,000 bad events once', async () => {
    const bad = fc.oneof(hostileValue, mutated(seeds.flat()));
    await expectProperty(
      fc.asyncProperty(longArray(bad), async (events) => {
        const d = memoryDeployment();
        const outcome = await d.handle(events, { id: 'long' });
        expect(outcome.events).to.have.length(events.length);
        expect(d.stores.results.names('errors/messages/').length).to.be.at.most(1);
        expect(d.telemetry.events.filter((e) => e.properties.Outcome === DEPLOYMENT_OUTCOMES.malformed).length).to.be.at.most(1);
        expect(d.telemetry.events.filter((e) => e.properties.Outcome === DEPLOYMENT_OUTCOMES.ignored).length).to.be.at.most(1);
      }),
      fuzz(15),
    );
  });

  it('onDeployment costs time in proportion to the message, whatever it repeats', async () => {
    const shapes = fc.sample(fc.oneof(hostileValue, mutated(seeds.flat())), { seed: 18, numRuns: 6 });
    const fixed: Record<string, unknown> = {
      'an empty object': {},
      'a number': 1,
      'an ignored storage write': (seeds[0] as unknown[])[0],
      'a write without data': { eventType: 'Microsoft.Resources.ResourceWriteSuccess', id: 'x', data: {} },
      'a CloudEvent with base64 garbage': { specversion: '1.0', type: 'Microsoft.Resources.ResourceWriteSuccess', id: 'x', data_base64: 'eyJ'.repeat(40) },
    };
    const all = [...Object.entries(fixed), ...shapes.map((s, i): [string, unknown] => [`sample ${i}: ${show(s).slice(0, 60)}`, s])];
    for (const [what, event] of all) {
      await expectLinear(`${what}, repeated`, (n) => Array.from({ length: n }, () => event), (message) => memoryDeployment().handle(message), { small: 500 });
    }
    // One event carrying a huge field: the record keeps its start, the work still follows the size.
    await expectLinear('one event with a huge field', (n) => [{ eventType: 'Microsoft.Resources.ResourceWriteSuccess', id: repeatTo('-eyJ', n), data: { resourceUri: repeatTo('/x', n) } }], (message) => memoryDeployment().handle(message), { small: 4_000 });
  });
});

function completedResult(target: ScanTarget): ScanResult {
  const at = new Date().toISOString();
  return { schemaVersion: SCHEMA_VERSION, scanId: 'engine-id', status: 'COMPLETED', target, engine: { name: 'qualys-csapi' }, startedAt: at, completedAt: at, counts: emptyCounts(), vulnerabilities: [] };
}

describe('fuzz: Azure scan-poll messages', function () {
  this.timeout(120_000);
  const prototypes = prototypeSnapshot();
  afterEach(() => expectNoPollution(prototypes));
  let polls: unknown[] = [];

  // The messages onDeployment itself enqueues are the seeds.
  before(async () => {
    polls = await pollMessageSeeds();
    expect(polls.length).to.be.at.least(4);
  });

  const pollMessage = () =>
    fc.oneof(
      { weight: 4, arbitrary: mutated(polls) },
      { weight: 2, arbitrary: mutatedText(polls.map((p) => JSON.stringify(p))) },
      { weight: 1, arbitrary: mutated(polls).map((p) => Buffer.from(jsonText(p)).toString('base64')) },
      { weight: 1, arbitrary: hostileValue },
      { weight: 1, arbitrary: fc.constantFrom(...polls) },
    );

  it('parsePollMessage reads a poll message or throws PollMessageError', async () => {
    await expectProperty(
      fc.property(mutated(polls), (message) => {
        const parsed = typedOutcome(() => parsePollMessage(message), [PollMessageError], message);
        if (parsed) expect(parsed.kind).to.equal('scan-poll');
      }),
      fuzz(500),
    );
  });

  it('pollScan answers any message without throwing: malformed ones are recorded once, readable ones checked and stored', async () => {
    const checks = fc.constantFrom<CheckOutcome['state']>('PENDING', 'RUNNING', 'COMPLETED', 'FAILED');
    const reached = new Set<string>();
    await expectProperty(
      fc.asyncProperty(pollMessage(), checks, async (message, state) => {
        const stores = memoryStores();
        const pollScan = createPollScan({
          checker: { check: async (ticket: ScanTicket): Promise<CheckOutcome> => ({ state, detail: `fuzzed ${state}`, ticket }) },
          workflow: { results: async (_ticket: ScanTicket, target: ScanTarget) => completedResult(target) },
          store: stores.store,
          locks: stores.locks,
          polls: stores.polls,
          pollDelay: () => 30,
          telemetry: new MemoryTelemetry(),
          maxDequeueCount: 8,
        });
        const context = new InvocationContext({ invocationId: 'inv', triggerMetadata: { id: 'poll-fuzzed', dequeueCount: 1 }, logHandler: () => undefined });
        const outcome = await typedOutcomeAsync<PollOutcome>(() => pollScan(message, context), [], message);
        expect(['requeued', 'stored', 'duplicate', 'malformed'], show(message)).to.include(outcome!.kind);
        const records = stores.results.names('errors/messages/');
        expect(records).to.have.length(outcome!.kind === 'malformed' ? 1 : 0);
        reached.add(outcome!.kind === 'stored' ? `stored ${outcome!.status}` : outcome!.kind);
      }),
      fuzz(300),
    );
    expect([...reached].sort()).to.include.members(['malformed', 'requeued', 'stored COMPLETED', 'stored FAILED']);
  });
});
