import { expect } from 'chai';
import { startDynalite, type RunningEmulator } from '../../local/emulators/dynalite';
import { LocalAwsInventory } from '../../local/inventory/aws-pipeline';
import { emptyAccount, FakeAws, PAB_ON } from '../../local/inventory/fake-aws';
import { parseCloudTrailInput, eventContext } from '../../shared/rules/aws/parse';
import { DEFAULT_ALLOW_LISTS } from '../../shared/rules/allow-lists';
import { RESOURCE_TYPES } from '../../shared/rules/aws/posture/kinds';
import type { StoredFinding } from '../../shared/findings/store';
import { loadCorpus } from '../support/corpus';

/**
 * The findings lifecycle end to end on dynalite, through the same planner, collectors, evaluator and
 * real-time hook the Lambdas run, against the local fake of the AWS APIs (real SDK clients, paged answers):
 * a bucket created with a public policy -> inventory + evaluation: ACTIVE -> the policy is deleted and the
 * CloudTrail event replayed: RESOLVED ("fixed") within the hook -> the bucket is deleted and the next
 * inventory no longer sees it -> the finding stays RESOLVED with its reason. And: a failed shard deletes
 * nothing; a redelivered shard counts once.
 */

// The corpus's PutBucketPolicy event (account 012345678901, us-east-1, a policy with Principal "*").
const PUT_POLICY = 'aws/eventbridge-cloudtrail-s3-PutBucketPolicy.cloud-buddy.json';
type Envelope = { account: string; region: string; detail: Record<string, unknown> & { requestParameters: { bucketName: string; bucketPolicy: unknown } } };

const envelope = loadCorpus<Envelope>(PUT_POLICY);
const ACCOUNT = envelope.account;
const SPOKE = '210987654321';
const BUCKET = envelope.detail.requestParameters.bucketName;
const REGIONS = ['us-east-1', 'eu-west-1'];
const RULE = 'aws.s3.bucket-policy-public';

function fixtures(): FakeAws {
  const fake = new FakeAws({ pageSize: 2 });
  for (const id of [ACCOUNT, SPOKE]) {
    const account = emptyAccount(id, REGIONS);
    account.accountPab = PAB_ON;
    fake.accounts.set(id, account);
  }
  const account = fake.account(ACCOUNT);
  account.buckets.set(BUCKET, {
    region: envelope.region,
    created: new Date('2025-01-01T00:00:00Z'),
    policy: JSON.stringify(envelope.detail.requestParameters.bucketPolicy),
    encryption: 'AES256',
    versioning: 'Enabled',
    logging: { TargetBucket: 'logs', TargetPrefix: BUCKET },
  });
  for (let i = 0; i < 5; i++) account.buckets.set(`quiet-${i}`, { region: REGIONS[i % 2]!, created: new Date('2025-01-01T00:00:00Z'), pab: PAB_ON, encryption: 'AES256', versioning: 'Enabled', logging: { TargetBucket: 'logs', TargetPrefix: `quiet-${i}` } });
  return fake;
}

/** The corpus event as the fixing call: DeleteBucketPolicy on the same bucket, just after the evaluation. */
function fixingEvent() {
  const detail = { ...envelope.detail, eventName: 'DeleteBucketPolicy', eventTime: new Date(Date.now() + 1000).toISOString(), eventID: 'fixing-event-1', requestParameters: { bucketName: BUCKET } };
  const parsed = parseCloudTrailInput({ ...envelope, detail });
  expect(parsed.errors).to.deep.equal([]);
  const event = parsed.events[0]!;
  return { record: event.record, ctx: eventContext(event, DEFAULT_ALLOW_LISTS) };
}

let dynalite: RunningEmulator;
let tables = 0;
const pipelines: LocalAwsInventory[] = [];

async function pipeline(fake: FakeAws, options: { maxReceives?: number } = {}): Promise<LocalAwsInventory> {
  const created = await LocalAwsInventory.create({
    endpoint: dynalite.endpoint,
    clients: () => fake.clientFactory({ maxAttempts: 2 }),
    accounts: [ACCOUNT, SPOKE],
    regions: REGIONS,
    services: ['s3', 'iam'],
    tablePrefix: `lifecycle-${++tables}`,
    ...options,
  });
  pipelines.push(created);
  return created;
}

async function findingsOf(p: LocalAwsInventory, state: 'ACTIVE' | 'RESOLVED'): Promise<StoredFinding[]> {
  return (await p.findings.query({ state, ruleId: RULE, cloud: 'aws' })).filter((f) => f.finding.resource.id.endsWith(`:::${BUCKET}`));
}

describe('AWS inventory lifecycle on dynalite', function () {
  this.timeout(120_000);
  before(async () => {
    dynalite = await startDynalite();
  });
  after(async () => {
    for (const p of pipelines) p.destroy();
    await dynalite?.stop();
  });

  it('created failing -> ACTIVE -> a fixing event -> RESOLVED -> deleted and inventoried -> stays RESOLVED with its reason', async () => {
    const fake = fixtures();
    const p = await pipeline(fake);

    const first = await p.inventory({ service: 'all' });
    // s3 and iam are account-wide: one shard per account each.
    expect(first.planned.shards).to.equal(4);
    expect(first.run.status).to.equal('complete');
    expect(first.drained.deadLettered).to.deep.equal([]);
    const stored = await p.resources.get(ACCOUNT, 's3', `arn:aws:s3:::${BUCKET}`);
    expect(stored?.type).to.equal(RESOURCE_TYPES.bucket);

    const evaluation = await p.evaluate({});
    expect(evaluation.transitions.opened).to.be.greaterThan(0);
    const active = await findingsOf(p, 'ACTIVE');
    expect(active).to.have.length(1);
    expect(active[0]!.finding.scope.account).to.equal(ACCOUNT);

    // A second evaluation with nothing changed writes nothing.
    const again = await p.evaluate({});
    expect(again.findingWrites).to.equal(0);

    fake.account(ACCOUNT).buckets.get(BUCKET)!.policy = undefined;
    const { record, ctx } = fixingEvent();
    const hooked = await p.hook(record, ctx);
    expect(hooked.resources.map((r) => r.outcome)).to.deep.equal(['evaluated']);
    expect(hooked.transitions.map((t) => [t.kind, t.finding.ruleId])).to.deep.include(['resolve', RULE]);
    const resolved = await findingsOf(p, 'RESOLVED');
    expect(resolved).to.have.length(1);
    expect(resolved[0]!.finding.resolvedReason).to.equal('fixed');
    expect(await findingsOf(p, 'ACTIVE')).to.have.length(0);

    fake.account(ACCOUNT).buckets.delete(BUCKET);
    const second = await p.inventory({ service: 's3', accountId: ACCOUNT });
    expect(second.planned.shards).to.equal(1);
    expect(second.run.status).to.equal('complete');
    expect(second.run.counts.deleted).to.equal(1);
    expect(await p.resources.get(ACCOUNT, 's3', `arn:aws:s3:::${BUCKET}`)).to.equal(undefined);
    const after = await findingsOf(p, 'RESOLVED');
    expect(after).to.have.length(1);
    expect(after[0]!.finding.resolvedReason).to.equal('fixed');
  });

  it('resolves the findings of a resource a complete run no longer sees with "resource deleted"', async () => {
    const fake = fixtures();
    const p = await pipeline(fake);
    await p.inventory({ service: 's3' });
    await p.evaluate({ ruleId: RULE });
    expect(await findingsOf(p, 'ACTIVE')).to.have.length(1);
    fake.account(ACCOUNT).buckets.delete(BUCKET);
    const run = await p.inventory({ service: 's3' });
    expect(run.run.status).to.equal('complete');
    expect(run.run.counts.deleted).to.equal(1);
    const resolved = await findingsOf(p, 'RESOLVED');
    expect(resolved.map((f) => f.finding.resolvedReason)).to.deep.equal(['resource deleted']);
  });

  it('a failed shard deletes nothing: the run is incomplete, every resource and finding stays', async () => {
    const fake = fixtures();
    const p = await pipeline(fake, { maxReceives: 2 });
    await p.inventory({ service: 's3' });
    await p.evaluate({});
    const before = await p.resources.shardIndex(ACCOUNT, 's3', 'global');
    expect(before.size).to.be.greaterThan(5);

    // Every bucket gone from the listing of one account, and the other account's shard failing every delivery.
    fake.account(ACCOUNT).buckets.clear();
    fake.account(SPOKE).buckets.set('spoke-bucket', { region: 'us-east-1', created: new Date('2025-01-01T00:00:00Z'), deny: [] });
    const listBuckets = fake.answer.bind(fake);
    fake.answer = (client, command, account, region, input) => {
      if (account === SPOKE && command === 'ListBuckets') throw Object.assign(new Error('service unavailable'), { name: 'ServiceUnavailable', $fault: 'server', $metadata: {} });
      return listBuckets(client, command, account, region, input);
    };
    const run = await p.inventory({ service: 's3' });
    expect(run.drained.deadLettered.map((d) => d.message.account)).to.deep.equal([SPOKE]);
    expect(run.run.status).to.equal('incomplete');
    expect(run.run.failedShards).to.deep.equal([`${SPOKE}/global/s3`]);
    expect(run.run.reason).to.match(/ServiceUnavailable/);
    const afterRun = await p.resources.shardIndex(ACCOUNT, 's3', 'global');
    expect([...afterRun.keys()].sort()).to.deep.equal([...before.keys()].sort());
    expect(await findingsOf(p, 'ACTIVE')).to.have.length(1);
    expect(await findingsOf(p, 'RESOLVED')).to.have.length(0);
  });

  it('a redelivered shard reports once and the run completes once', async () => {
    const fake = fixtures();
    const p = await pipeline(fake);
    const planned = await p.plan({ service: 's3', accountId: ACCOUNT });
    const [message] = p.queue;
    p.queue.push(message!);
    const drained = await p.drain();
    expect(drained.shards.map((s) => s.duplicate).sort()).to.deep.equal([false, true]);
    const run = await p.runs.get(planned.runId);
    expect(run?.reported).to.equal(1);
    expect(run?.status).to.equal('complete');
    expect(drained.shards.filter((s) => s.completion).length).to.equal(1);
  });

  it('evaluates one service, one account or one rule only; a rule scoped away from an account resolves there as "out of rule scope"', async () => {
    const fake = fixtures();
    fake.account(SPOKE).buckets.set('spoke-open', { region: 'us-east-1', created: new Date('2025-01-01T00:00:00Z'), policy: JSON.stringify(envelope.detail.requestParameters.bucketPolicy).replaceAll('jcazure2-dummy-bucket6', 'spoke-open') });
    const p = await pipeline(fake);
    await p.inventory({ service: 'all' });
    const iamOnly = await p.evaluate({ service: 'iam' });
    expect(iamOnly.scope).to.equal('all rules, service iam');
    expect(await p.findings.query({ state: 'ACTIVE', ruleId: RULE, cloud: 'aws' })).to.have.length(0);
    const spokeOnly = await p.evaluate({ ruleId: RULE, accountId: SPOKE });
    expect(spokeOnly.transitions.opened).to.equal(1);
    const open = await p.findings.query({ state: 'ACTIVE', ruleId: RULE, cloud: 'aws' });
    expect(open.map((f) => f.finding.scope.account)).to.deep.equal([SPOKE]);
    const all = await p.evaluate({ ruleId: RULE });
    expect(all.transitions.opened).to.equal(1);

    // The same table, the rule now scoped to the own account only: the spoke's finding resolves with the reason.
    const scoped = await LocalAwsInventory.create({ endpoint: dynalite.endpoint, clients: () => fake.clientFactory(), accounts: [ACCOUNT, SPOKE], regions: REGIONS, services: ['s3'], scopes: { [RULE]: { accounts: [ACCOUNT] } }, tablePrefix: `lifecycle-${tables}-scoped`, sharedTables: p.tables });
    pipelines.push(scoped);
    const after = await scoped.evaluate({ ruleId: RULE });
    expect(after.transitions.resolved).to.equal(1);
    const resolved = (await scoped.findings.query({ state: 'RESOLVED', ruleId: RULE, cloud: 'aws' })).map((f) => [f.finding.scope.account, f.finding.resolvedReason]);
    expect(resolved).to.deep.equal([[SPOKE, 'out of rule scope']]);
  });

  it('refuses a request for an account that is not configured with a typed error', async () => {
    const p = await pipeline(fixtures());
    let caught: unknown;
    try {
      await p.plan({ service: 's3', accountId: '999999999999' });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(Error);
    expect((caught as Error).name).to.equal('InventoryRequestError');
    expect(p.queue).to.have.length(0);
  });
});
