import { startDynalite } from '../emulators/dynalite';
import { loadCorpus } from '../corpus';
import type { FindingRow } from '../start/summary';
import type { Finding } from '../../shared/findings/finding';
import { DEFAULT_ALLOW_LISTS } from '../../shared/rules/allow-lists';
import { eventContext, parseCloudTrailInput } from '../../shared/rules/aws/parse';
import { LocalAwsInventory } from './aws-pipeline';
import { seedEstate } from './aws-seed';
import { FakeAws } from './fake-aws';

/**
 * The AWS half of `npm start -- --inventory`: seeded fake accounts (the corpus's account and one spoke, two
 * regions) answered by the local fake of the AWS APIs through real SDK clients, dynalite for the resources
 * and findings tables, and the same planner, collectors, evaluator and real-time hook as the Lambdas. It
 * inventories everything, evaluates every rule, prints the findings, then replays a fixing CloudTrail event
 * (the corpus's PutBucketPolicy turned into DeleteBucketPolicy on the same bucket) and shows the finding
 * RESOLVED.
 */

const PUT_POLICY = 'aws/eventbridge-cloudtrail-s3-PutBucketPolicy.cloud-buddy.json';
type Envelope = { account: string; region: string; detail: Record<string, unknown> & { requestParameters: { bucketName: string; bucketPolicy: unknown } } };

export const AWS_INVENTORY_REGIONS = ['us-east-1', 'eu-west-1'] as const;
export const AWS_INVENTORY_SPOKE = '210987654321';

export interface AwsInventoryStep {
  step: string;
  detail: string;
}

export interface AwsInventoryDemo {
  findings: FindingRow[];
  steps: AwsInventoryStep[];
  /** The finding the fixing event resolved. */
  fixed?: FindingRow;
}

export function findingRow(f: Finding): FindingRow {
  return { cloud: 'aws', ruleId: f.ruleId, category: f.category, severity: f.severity, state: f.state, resourceId: f.resource.id };
}

export async function runAwsInventoryDemo(log: (line: string) => void): Promise<AwsInventoryDemo> {
  const envelope = loadCorpus<Envelope>(PUT_POLICY);
  const own = envelope.account;
  const bucket = envelope.detail.requestParameters.bucketName;
  const fake = new FakeAws({ pageSize: 5 });
  const seeded = seedEstate(fake, { accounts: [own, AWS_INVENTORY_SPOKE], regions: AWS_INVENTORY_REGIONS, perRegion: 3, perAccount: 3, failEvery: 3 });
  // The corpus event's bucket, created with the public policy the event set.
  fake.account(own).buckets.set(bucket, {
    region: envelope.region,
    created: new Date('2025-01-01T00:00:00Z'),
    policy: JSON.stringify(envelope.detail.requestParameters.bucketPolicy),
    pab: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    encryption: 'AES256',
    versioning: 'Enabled',
    logging: { TargetBucket: 'acct0-logs', TargetPrefix: `${bucket}/` },
  });
  const dynalite = await startDynalite();
  const inventory = await LocalAwsInventory.create({ endpoint: dynalite.endpoint, clients: () => fake.clientFactory(), accounts: [own, AWS_INVENTORY_SPOKE], regions: AWS_INVENTORY_REGIONS, tablePrefix: 'shipscan-local' });
  const steps: AwsInventoryStep[] = [];
  const step = (name: string, detail: string) => {
    steps.push({ step: name, detail });
    log(`aws inventory: ${name}: ${detail}`);
  };
  try {
    step('seeded', `accounts ${own} (own) and ${AWS_INVENTORY_SPOKE} (spoke), regions ${AWS_INVENTORY_REGIONS.join(', ')}, ${seeded + 1} resources`);
    const run = await inventory.inventory({ service: 'all' });
    step('inventory {"service":"all"}', `${run.planned.shards} shards, run ${run.run.status}, ${run.run.counts.collected ?? 0} resources collected in ${fake.log.total()} API calls`);
    const evaluation = await inventory.evaluate({});
    step('evaluation {}', `${evaluation.resources} resources x rules = ${evaluation.evaluations} evaluations, ${evaluation.transitions.opened} findings opened, ${evaluation.findingWrites} finding writes`);

    // The fix: the policy is deleted, and CloudTrail's record of it replayed through the real-time hook.
    fake.account(own).buckets.get(bucket)!.policy = undefined;
    const detail = { ...envelope.detail, eventName: 'DeleteBucketPolicy', eventTime: new Date(Date.now() + 1000).toISOString(), eventID: `local-fix-${Date.now()}`, requestParameters: { bucketName: bucket } };
    const parsed = parseCloudTrailInput({ ...envelope, detail });
    const event = parsed.events[0];
    if (!event) throw new Error(`the fixing event did not parse: ${parsed.errors.map((e) => e.message).join('; ')}`);
    const hooked = await inventory.hook(event.record, eventContext(event, DEFAULT_ALLOW_LISTS));
    const resolved = hooked.transitions.filter((t) => t.kind === 'resolve');
    step('replayed DeleteBucketPolicy', `${bucket}: ${resolved.map((t) => `${t.finding.ruleId} RESOLVED (${t.finding.resolvedReason ?? ''})`).join(', ') || 'nothing resolved'}`);

    const all: Finding[] = [];
    for (const state of ['ACTIVE', 'RESOLVED'] as const) all.push(...(await inventory.findings.query({ state, cloud: 'aws' })).map((r) => r.finding));
    const fixed = resolved[0] ? findingRow({ ...resolved[0].finding }) : undefined;
    return { findings: all.map(findingRow), steps, ...(fixed ? { fixed } : {}) };
  } finally {
    inventory.destroy();
    await dynalite.stop();
  }
}
