import { expect } from 'chai';
import { TableClient } from '@azure/data-tables';
import { startAzurite, type RunningAzurite } from '../../local/emulators/azurite';
import { ScanLocks } from '../../functions/azure/scan-locks';
import { EventDedupe } from '../../functions/azure/event-dedupe';
import { classifyMessage, type DeploymentEvent } from '../../functions/azure/deployment-event';
import { deploymentEventVariant, resourceId } from '../../local/arm-stub/variants';
import { functionsFromEnv } from '../../functions/azure/app';
import { SettingsError } from '../../functions/azure/settings';
import { loadCorpus } from '../support/corpus';
import { InvocationContext } from '@azure/functions';

function event(correlationId: string): DeploymentEvent {
  const [c] = classifyMessage(deploymentEventVariant(loadCorpus('azure/eventgrid-resourcewritesuccess-storage.azuredocs.json'), { kind: 'ACI', resourceUri: resourceId('ACI', 's', 'rg', 'g'), correlationId, eventId: 'e' }));
  if (c?.kind !== 'deployment') throw new Error('expected a deployment');
  return c.event;
}

describe('azure lock and dedupe rows on Azurite', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  const table = (name: string) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });

  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  it('gives a content lock to one of many concurrent takers, lets a dead lock be taken over once, and keeps the cache row', async () => {
    const locks = new ScanLocks(table('LocksA'));
    await locks.ensure();
    const key = 'sha256:' + 'a'.repeat(64);
    const t0 = new Date('2026-01-15T09:00:00Z');
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => locks.acquire(key, { scanId: `scan-${i}`, owner: `owner-${i}`, image: 'x', ttlMs: 60_000, now: t0 })),
    );
    expect(outcomes.filter((o) => o.kind === 'acquired')).to.have.length(1);
    expect(outcomes.filter((o) => o.kind === 'held')).to.have.length(7);
    const winner = outcomes.find((o) => o.kind === 'acquired')!.scanId;
    // The owner's redelivery resumes with the stored ticket.
    const ownerIndex = Number(winner.split('-')[1]);
    await locks.markSubmitted(key, winner, { v: 1, image: 'x', registry: 'r', repository: 'x', reused: false, submittedAt: t0.toISOString() });
    const again = await locks.acquire(key, { scanId: 'other', owner: `owner-${ownerIndex}`, image: 'x', ttlMs: 60_000, now: t0 });
    expect(again).to.deep.include({ kind: 'resumed', scanId: winner });
    expect((again as { ticket?: { image: string } }).ticket?.image).to.equal('x');
    // Past its expiry the lock is taken over by exactly one of the racers.
    const later = new Date(t0.getTime() + 120_000);
    const takeovers = await Promise.all(Array.from({ length: 4 }, (_, i) => locks.acquire(key, { scanId: `late-${i}`, owner: `late-${i}`, image: 'x', ttlMs: 60_000, now: later })));
    expect(takeovers.filter((o) => o.kind === 'acquired')).to.have.length(1);
    // The old owner's release does not drop the new owner's lock.
    await locks.release(key, winner);
    expect((await locks.inflight(key))?.scanId).to.match(/^late-/);
    const current = (await locks.inflight(key))!.scanId;
    await locks.complete(key, current, { scanId: current, status: 'COMPLETED', completedAt: later.toISOString(), blobPath: 'b', partitionKey: 'p', critical: 1, high: 0, medium: 0, low: 0, informational: 0, total: 1 });
    expect(await locks.inflight(key)).to.equal(undefined);
    expect(await locks.latest(key)).to.deep.include({ scanId: current, critical: 1, total: 1 });
  });

  it('lets the same message resume its claim, skips other messages, and takes over a stale claim once', async () => {
    const dedupe = new EventDedupe(table('DedupeA'));
    await dedupe.ensure();
    const ev = event('corr-1');
    const t0 = new Date('2026-01-15T09:00:00Z');
    expect(await dedupe.claim(ev, 'msg-1', { staleMs: 60_000, now: t0 })).to.deep.equal({ kind: 'new' });
    expect(await dedupe.claim(ev, 'msg-1', { staleMs: 60_000, now: t0 })).to.deep.equal({ kind: 'resume' });
    expect((await dedupe.claim(ev, 'msg-2', { staleMs: 60_000, now: t0 })).kind).to.equal('duplicate');
    const stale = new Date(t0.getTime() + 120_000);
    const racers = await Promise.all(['msg-3', 'msg-4', 'msg-5'].map((m) => dedupe.claim(ev, m, { staleMs: 60_000, now: stale })));
    expect(racers.filter((r) => r.kind === 'resume')).to.have.length(1);
    await dedupe.finish(ev, 'done', { images: [] });
    expect(await dedupe.claim(ev, 'msg-1', { staleMs: 60_000, now: stale })).to.deep.include({ kind: 'duplicate', state: 'done' });
    expect((await dedupe.claim(event('corr-2'), 'msg-9', { staleMs: 60_000 })).kind).to.equal('new');
  });

  it('hands a claim over with its progress, counted from when the re-sent copy shows up', async () => {
    const dedupe = new EventDedupe(table('DedupeB'));
    await dedupe.ensure();
    const ev = event('corr-h');
    const t0 = new Date('2026-01-15T09:00:00Z');
    expect((await dedupe.claim(ev, 'msg-1', { staleMs: 60_000, now: t0 })).kind).to.equal('new');
    const progress = { defers: 1, firstDeferredAt: t0.toISOString(), settled: [{ image: 'nginx', kind: 'submitted', scanId: 's-1' }], waitedOn: ['other-scan'] };
    // The copy becomes visible in 10 minutes: the claim must not look abandoned before then.
    await dedupe.handOver(ev, 'msg-1', 'msg-2', t0, progress, new Date(t0.getTime() + 600_000));
    expect((await dedupe.claim(ev, 'msg-3', { staleMs: 60_000, now: new Date(t0.getTime() + 300_000) })).kind).to.equal('duplicate');
    expect(await dedupe.claim(ev, 'msg-2', { staleMs: 60_000, now: new Date(t0.getTime() + 600_000) })).to.deep.equal({ kind: 'resume', progress });
    let refused: unknown;
    await dedupe.handOver(ev, 'msg-1', 'msg-4', t0).catch((e) => (refused = e));
    expect((refused as Error).message).to.match(/not processing by msg-1/);
  });

  it('with invalid settings every invocation fails with the settings error (messages wait, never vanish)', async () => {
    // The host logs the settings error once, as JSON on stderr: captured here and checked, not left in the test output.
    const logged: string[] = [];
    const error_ = console.error;
    console.error = (line: unknown) => void logged.push(String(line));
    let fns: ReturnType<typeof functionsFromEnv>;
    try {
      fns = functionsFromEnv({ DEPLOYMENTS_QUEUE: 'deployments', QUALYS_POD: 'US2' });
    } finally {
      console.error = error_;
    }
    expect(logged).to.have.length(1);
    const entry = JSON.parse(logged[0]!) as { level: string; msg: string };
    expect(entry.level).to.equal('error');
    expect(entry.msg).to.match(/^invalid Function App settings:[\s\S]*QUALYS_ACCESS_TOKEN/);
    expect(fns.map((f) => `${f.name}:${f.queueName}`)).to.deep.equal(['onDeployment:deployments', 'pollScan:scan-polls', 'onSecurityEvent:security-events']);
    let error: unknown;
    await fns[0]!.handler({}, new InvocationContext({ logHandler: () => undefined })).catch((e) => (error = e));
    expect(error).to.be.instanceOf(SettingsError);
    expect((error as Error).message).to.contain('QUALYS_ACCESS_TOKEN');
  });
});
