import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runPlanDetailed, type PlanResult, type PlannedResource } from '../../../local/plan';

/** Values the AWS infra tests plan with; the token must never appear in a plan. */
export const QUALYS_TOKEN = 'qualys-token-under-test-8c1f';
export const QUALYS_GATEWAY = 'https://gateway.qg2.apps.qualys.com';
export const LAYER_ARN = 'arn:aws:lambda:us-east-1:123456789012:layer:qscanner:3';
export const HUB_ACCOUNT = '111111111111';
export const SPOKE_A = { accountId: '222222222222', externalId: 'spoke-a-external-id-7f3e', roleName: 'shipscan-spoke' };
export const SPOKE_B = { accountId: '333333333333', externalId: 'spoke-b-external-id-91aa', roleName: 'scanner-access' };
export const ORG_ID = 'o-abc123defg';
export const HUB_BUS_ARN = `arn:aws:events:us-east-1:${HUB_ACCOUNT}:event-bus/shipscan-prod-central`;
export const HUB_EXTERNAL_ID = 'hub-presents-this-4d2b';
/** The hub's roles as a hub stack named `prod` names them (its aws.spokeHub.roleArns output). */
export const HUB_ROLE_ARNS = [`arn:aws:iam::${HUB_ACCOUNT}:role/shipscan-prod-scanner`, `arn:aws:iam::${HUB_ACCOUNT}:role/shipscan-prod-bulk`];

let bundleRoot: string | undefined;

/** Placeholder bundles laid out like `functions/dist` (the runtimes' build is not needed to plan). */
export function placeholderBundles(): string {
  if (bundleRoot) return bundleRoot;
  const root = mkdtempSync(path.join(tmpdir(), 'shipscan-bundles-'));
  for (const name of ['scanner', 'bulk', 'artifacts', 'security-events']) {
    const dir = path.join(root, 'aws', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'index.js'), 'exports.handler = async () => undefined;\n');
    writeFileSync(path.join(dir, 'index.js.map'), '{"version":3,"sources":[],"mappings":""}\n');
  }
  // The dev stack also enables Azure, whose package the Azure side locates under the same root.
  mkdirSync(path.join(root, 'azure', 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'azure', 'host.json'), '{"version":"2.0"}\n');
  writeFileSync(path.join(root, 'azure', 'package.json'), '{"name":"placeholder","main":"dist/index.js"}\n');
  writeFileSync(path.join(root, 'azure', 'dist', 'index.js'), 'module.exports = {};\n');
  bundleRoot = root;
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  return root;
}

export const QUALYS = { pod: 'US2', accessToken: { secret: QUALYS_TOKEN } };

/** Stack config for an AWS-only stack; `qualys: null` leaves the Qualys settings out. */
export function awsConfig(aws: Record<string, unknown>, qualys: Record<string, unknown> | null = QUALYS): Record<string, unknown> {
  return { 'aws:region': 'us-east-1', 'shipscan:aws': { enabled: true, ...aws }, ...(qualys ? { 'shipscan:qualys': qualys } : {}) };
}

export const MODES = {
  /** Defaults only: what a first standalone deployment gets. */
  'standalone-defaults': awsConfig({ mode: 'standalone', qscannerLayerArn: LAYER_ARN }),
  /** Every optional part switched on. */
  'standalone-full': awsConfig({
    mode: 'standalone',
    qscannerLayerArn: LAYER_ARN,
    createTrail: true,
    scanOnConfigurationChange: true,
    bulkSchedule: 'cron(0 3 ? * SUN *)',
    excludePatterns: ['^test-', 'sandbox'],
    alertEmail: 'security@example.com',
    memoryMb: 3008,
    timeoutSec: 600,
    ephemeralMb: 4096,
    maxConcurrency: 25,
    cacheTtlDays: 14,
    severityThreshold: 'CRITICAL',
    logRetentionDays: 30,
    resultRetentionDays: 180,
  }, { gateway: QUALYS_GATEWAY, accessToken: { secret: QUALYS_TOKEN } }),
  /** S3 server access logging switched off (it is on by default). */
  'standalone-no-access-logs': awsConfig({ mode: 'standalone', qscannerLayerArn: LAYER_ARN, createTrail: true, accessLogging: false }),
  hub: awsConfig({ mode: 'hub', qscannerLayerArn: LAYER_ARN, organizationId: ORG_ID, spokes: [SPOKE_A, SPOKE_B], createTrail: true }),
  spoke: awsConfig(
    { mode: 'spoke', createTrail: true, hub: { accountId: HUB_ACCOUNT, eventBusArn: HUB_BUS_ARN, roleArns: HUB_ROLE_ARNS, externalId: HUB_EXTERNAL_ID } },
    // A spoke stack needs no Qualys settings at all.
    null,
  ),
} as const;

export type Mode = keyof typeof MODES;

/**
 * The hub and spoke modes with every ExternalId set as a secret (`pulumi config set --secret
 * --path ...`). Kept out of MODES: their ExternalId-bearing inputs are masked, so the invariant
 * checks cannot read those documents; tests compare them with the plain plans instead.
 */
export const SECRET_ID_MODES = {
  'hub-secret-ids': awsConfig({
    mode: 'hub',
    qscannerLayerArn: LAYER_ARN,
    organizationId: ORG_ID,
    spokes: [SPOKE_A, SPOKE_B].map((spoke) => ({ ...spoke, externalId: { secret: spoke.externalId } })),
    createTrail: true,
  }),
  'spoke-secret-ids': awsConfig(
    { mode: 'spoke', createTrail: true, hub: { accountId: HUB_ACCOUNT, eventBusArn: HUB_BUS_ARN, roleArns: HUB_ROLE_ARNS, externalId: { secret: HUB_EXTERNAL_ID } } },
    null,
  ),
} as const;

export type SecretIdMode = keyof typeof SECRET_ID_MODES;

export const ORG_OU = 'ou-ab12-cdef3456';
export const ARTIFACTS = {
  enabled: true,
  buckets: { include: ['team-uploads', 'release-artifacts'], exclude: [] },
  prefixes: { include: [], exclude: ['tmp/'] },
  excludedMimeTypes: ['application/pdf'],
};

/** aws.artifacts on (issue 16), planned on request: standalone, a hub with a StackSet and an org trail, a spoke. */
export const ARTIFACT_MODES = {
  'standalone-artifacts': awsConfig({ mode: 'standalone', qscannerLayerArn: LAYER_ARN, artifacts: ARTIFACTS }),
  'hub-artifacts': awsConfig({
    mode: 'hub',
    qscannerLayerArn: LAYER_ARN,
    organizationId: ORG_ID,
    spokes: [SPOKE_A, SPOKE_B],
    createTrail: true,
    artifacts: { ...ARTIFACTS, organizationUnitIds: [ORG_OU], stackSetRegions: ['us-east-1', 'eu-west-1'], createOrgTrail: true },
  }),
  'spoke-artifacts': awsConfig(
    { mode: 'spoke', createTrail: true, hub: { accountId: HUB_ACCOUNT, eventBusArn: HUB_BUS_ARN, roleArns: [...HUB_ROLE_ARNS, `arn:aws:iam::${HUB_ACCOUNT}:role/shipscan-prod-objects`], externalId: HUB_EXTERNAL_ID }, artifacts: ARTIFACTS },
    null,
  ),
} as const;

export type ArtifactMode = keyof typeof ARTIFACT_MODES;

const cache = new Map<string, Promise<PlanResult>>();
/** Plans run two at a time: each is a separate Node process, and CI machines have two cores. */
const PARALLEL_PLANS = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL_PLANS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await task();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function startPlan(mode: Mode | SecretIdMode | ArtifactMode): Promise<PlanResult> {
  let plan = cache.get(mode);
  if (!plan) {
    const config = mode in MODES ? MODES[mode as Mode] : mode in ARTIFACT_MODES ? ARTIFACT_MODES[mode as ArtifactMode] : SECRET_ID_MODES[mode as SecretIdMode];
    plan = limited(() => runPlanDetailed({ config, stack: 'prod', env: { SHIPSCAN_BUNDLE_DIR: placeholderBundles() } }));
    // Failures surface in the test that awaits the plan; this only keeps Node from reporting them twice.
    plan.catch(() => undefined);
    cache.set(mode, plan);
  }
  return plan;
}

/**
 * One plan per mode for the whole mocha run (each plan is a child process of a few seconds). The
 * first request starts every mode, since the AWS test files need all of them.
 */
export function planMode(mode: Mode): Promise<PlanResult> {
  const requested = startPlan(mode);
  for (const other of Object.keys(MODES) as Mode[]) startPlan(other);
  return requested;
}

/** A plan with aws.artifacts on, started on first request (one test file needs them). */
export function planArtifactMode(mode: ArtifactMode): Promise<PlanResult> {
  return startPlan(mode);
}

/** A plan with secret ExternalIds, started on first request (they are not needed by every file). */
export function planSecretIdMode(mode: SecretIdMode): Promise<PlanResult> {
  return startPlan(mode);
}

export function ofType(plan: PlanResult, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type);
}

export function oneOfType(plan: PlanResult, type: string, name?: string): PlannedResource {
  const found = ofType(plan, type).filter((r) => name === undefined || r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}: ${found.map((r) => r.name).join(', ')}`);
  return found[0] as PlannedResource;
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | { AWS?: string | string[]; Service?: string | string[] };
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: string | string[];
  NotResource?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDoc {
  Version: string;
  Statement: Statement[];
}

export function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function parsePolicy(text: unknown, where: string): PolicyDoc {
  if (typeof text !== 'string') throw new Error(`${where}: policy is not a JSON string (${JSON.stringify(text)})`);
  const doc = JSON.parse(text) as PolicyDoc;
  if (doc.Version !== '2012-10-17' || !Array.isArray(doc.Statement)) throw new Error(`${where}: not a 2012-10-17 policy document`);
  return doc;
}

export function statement(doc: PolicyDoc, sid: string): Statement {
  const found = doc.Statement.filter((s) => s.Sid === sid);
  if (found.length !== 1) throw new Error(`expected one statement ${sid}, found ${found.length} (have ${doc.Statement.map((s) => s.Sid).join(', ')})`);
  return found[0] as Statement;
}

export type PolicyKind = 'identity' | 'trust' | 'resource' | 'key';

/** Every IAM policy document in a plan, with where it sits and what kind it is. */
export function policyDocuments(plan: PlanResult): { resource: PlannedResource; field: string; kind: PolicyKind; doc: PolicyDoc }[] {
  const found: { resource: PlannedResource; field: string; kind: PolicyKind; doc: PolicyDoc }[] = [];
  const add = (resource: PlannedResource, field: string, kind: PolicyKind) => {
    const value = resource.inputs[field];
    if (value !== undefined && value !== null) found.push({ resource, field, kind, doc: parsePolicy(value, `${resource.type} ${resource.name}.${field}`) });
  };
  for (const r of plan.resources) {
    switch (r.type) {
      case 'aws:iam/role:Role':
        add(r, 'assumeRolePolicy', 'trust');
        for (const [index, inline] of list(r.inputs['inlinePolicies'] as { policy?: string }[] | undefined).entries()) {
          if (inline.policy) found.push({ resource: r, field: `inlinePolicies[${index}]`, kind: 'identity', doc: parsePolicy(inline.policy, `${r.name} inline`) });
        }
        break;
      case 'aws:iam/rolePolicy:RolePolicy':
      case 'aws:iam/policy:Policy':
        add(r, 'policy', 'identity');
        break;
      case 'aws:kms/key:Key':
        add(r, 'policy', 'key');
        break;
      case 'aws:s3/bucketPolicy:BucketPolicy':
      case 'aws:sqs/queuePolicy:QueuePolicy':
      case 'aws:sns/topicPolicy:TopicPolicy':
      case 'aws:cloudwatch/eventBusPolicy:EventBusPolicy':
      case 'aws:secretsmanager/secretPolicy:SecretPolicy':
        add(r, 'policy', 'resource');
        break;
      default:
        if (/policy/i.test(r.type) && r.type.startsWith('aws:')) throw new Error(`policy resource ${r.type} is unknown to the invariant checks: add it to policyDocuments()`);
    }
  }
  return found;
}
