import { expect } from 'chai';
import fc from 'fast-check';
import { EVIDENCE_MAX_BYTES, parseFinding, type Finding } from '../../../shared/findings/finding';
import { decide } from '../../../shared/findings/lifecycle';
import { AWS_ACTIVITY_DETECTORS, CloudTrailInputError, DetectorError, eventContext, evaluateCloudTrail, parseCloudTrailInput, toObservation } from '../../../shared/rules/aws';
import { allowLists, recordIn, type Json } from './support/records';
import { securityEventMix } from './support/mix';

/**
 * 10,000 generated CloudTrail-shaped events through the parser and the registry. Each starts from the
 * corpus-derived mix, is sent to a (random) detector's event name, and has parts of it replaced by generated
 * JSON built from the words the detectors read (keys such as ipPermissions / Statement / policyDocument,
 * values such as "*", "0.0.0.0/0", "NONE"), so the shapes reach deep into every detector. Whatever comes in,
 * the outcome is typed: parse errors or events, detections or nothing, and never an exception; every
 * detection becomes a valid Finding v1 with bounded evidence; no detector fails on any of it.
 */

const SEED = 20261214;
const RUNS = 10_000;

const ROUTES: [string, string][] = AWS_ACTIVITY_DETECTORS.flatMap((d) => d.eventNames.map((name): [string, string] => [d.eventSource, name]));
const DATED = ['AddPermission20150331v2', 'RemovePermission20150331', 'CreateFunctionUrlConfig20211031', 'UpdateFunctionUrlConfig20211031', 'DeleteFunctionUrlConfig20211031'];

const KEYS = [
  'ipPermissions', 'items', 'item', 'ipProtocol', 'fromPort', 'toPort', 'ipRanges', 'ipv6Ranges', 'cidrIp', 'cidrIpv6', 'cidrIpv4', 'groupId', 'groupName',
  'securityGroupRuleSet', 'revokedSecurityGroupRuleSet', 'isEgress', 'ModifySecurityGroupRulesRequest', 'SecurityGroupRule', 'GroupId', 'CidrIpv4', 'FromPort', 'ToPort', 'IpProtocol',
  'bucketName', 'bucketPolicy', 'Statement', 'Effect', 'Principal', 'NotPrincipal', 'AWS', 'Action', 'NotAction', 'Resource', 'Condition', 'StringEquals', 'IpAddress',
  'aws:SourceVpce', 'aws:SourceIp', 'aws:PrincipalOrgID', 'x-amz-acl', 'x-amz-grant-read', 'AccessControlPolicy', 'AccessControlList', 'Grant', 'Grantee', 'URI', 'Permission',
  'PublicAccessBlockConfiguration', 'BlockPublicAcls', 'RestrictPublicBuckets', 'userName', 'accessKey', 'accessKeyId', 'status', 'policyArn', 'policyName', 'policyDocument',
  'roleName', 'assumeRolePolicyDocument', 'role', 'name', 'trailName', 'trailARN', 'isMultiRegionTrail', 'enableLogFileValidation', 'eventSelectors', 'includeManagementEvents',
  'readWriteType', 'advancedEventSelectors', 'fieldSelectors', 'field', 'equals', 'ConsoleLogin', 'MFAUsed', 'dBInstanceIdentifier', 'dBClusterIdentifier', 'publiclyAccessible',
  'loadBalancers', 'loadBalancerArn', 'loadBalancerName', 'scheme', 'listeners', 'listenerArn', 'protocol', 'port', 'defaultActions', 'type', 'redirectConfig', 'functionName',
  'statementId', 'principal', 'sourceArn', 'sourceAccount', 'statement', 'authType', 'functionUrlAuthType', 'qualifier', 'functionArn', 'keyId', 'pendingWindowInDays',
  'detectorId', 'enable', 'configurationRecorderName', 'deliveryChannelName', 'deliveryChannel', 'DeleteFlowLogsRequest', 'FlowLogId', 'content', 'DeleteFlowLogsResponse',
  'unsuccessful', '__proto__', 'constructor', 'toString', 'length',
];

const WORDS = [
  '*', '*:*', '0.0.0.0/0', '::/0', '0.0.0.0/1', '10.0.0.0/8', 'fc00::/7', '208.236.235.254/0', '1.2.3.4', 'not-a-cidr', 'tcp', 'udp', '-1', '6', 'icmp', 'NONE', 'AWS_IAM',
  'HTTP', 'HTTPS', 'TCP', 'redirect', 'forward', 'Allow', 'Deny', 'Success', 'Failure', 'Yes', 'No', 'true', 'false', 'public-read', 'public-read-write', 'authenticated-read',
  'http://acs.amazonaws.com/groups/global/AllUsers', 'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"', 'FULL_CONTROL', 'READ',
  'arn:aws:iam::aws:policy/AdministratorAccess', 'arn:aws:iam::111122223333:root', '111122223333', 'arn:aws:lambda:us-east-1:123456789012:function:f:prod', '123456789012:function:f',
  'fl-0abc', 'sg-1', 'alias/x', 'arn:aws:kms:us-east-1:123456789012:key/k', 'internet-facing', 'internal', 'ReadOnly', 'WriteOnly', 'All', 'Management', 'eventCategory', 'readOnly',
  '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}', '{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}', '%7B%22Statement%22%3A%5B%5D%7D',
  '{"Sid":"x","Effect":"Allow","Principal":"*"}', '{not json', '', ' ', 'x'.repeat(700),
];

type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

const leaf: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.integer({ min: -2, max: 70_000 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

const { json } = fc.letrec<{ json: Value; array: Value[]; object: { [key: string]: Value } }>((tie) => ({
  json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), tie('json'), { maxKeys: 6 }),
}));

const IDENTITIES: Value[] = [
  { type: 'Root', arn: 'arn:aws:iam::123456789012:root', accountId: '123456789012' },
  { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/alice', userName: 'alice', accountId: '123456789012' },
  { type: 'AssumedRole', arn: 'arn:aws:sts::123456789012:assumed-role/ci/session', sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::123456789012:role/ci' }, attributes: { mfaAuthenticated: 'false' } } },
  { type: 'AWSService', invokedBy: 'cloudformation.amazonaws.com' },
  { type: 7, arn: ['x'] },
];

interface Mutation {
  pick: number;
  kind: 'replace' | 'delete';
  value: Value;
}

/** Every path into the value (depth-limited), the root included. */
function pathsOf(value: unknown, prefix: string[] = [], out: string[][] = [], depth = 0): string[][] {
  out.push(prefix);
  if (depth > 6 || typeof value !== 'object' || value === null) return out;
  for (const key of Object.keys(value)) pathsOf((value as Record<string, unknown>)[key], [...prefix, key], out, depth + 1);
  return out;
}

function mutate(root: Json, mutation: Mutation): void {
  const paths = pathsOf(root).filter((p) => p.length > 0);
  if (paths.length === 0) return;
  const path = paths[mutation.pick % paths.length]!;
  let parent: Record<string, unknown> = root;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (mutation.kind === 'delete') delete parent[last];
  else Object.defineProperty(parent, last, { value: mutation.value, enumerable: true, writable: true, configurable: true });
}

const MIX = securityEventMix();

/** `arbitrary` with weight `some`, else null with weight `rest`: most events keep the mix's shape for that part. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, some: number, rest: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: rest, arbitrary: fc.constant(null) }, { weight: some, arbitrary });
}

const generatedEvent = fc
  .record({
    base: fc.nat({ max: MIX.length - 1 }),
    route: sometimes(fc.oneof(fc.constantFrom(...ROUTES), fc.constantFrom(...DATED).map((n): [string, string] => ['lambda.amazonaws.com', n])), 1, 2),
    request: sometimes(json, 1, 4),
    response: sometimes(json, 1, 4),
    identity: sometimes(fc.constantFrom(...IDENTITIES), 1, 3),
    errorCode: sometimes(fc.constantFrom('AccessDenied', '', 'Client.UnauthorizedOperation'), 1, 9),
    mutations: fc.array(fc.record({ pick: fc.nat(), kind: fc.constantFrom<'replace' | 'delete'>('replace', 'delete'), value: json }), { maxLength: 3 }),
  })
  .map((g) => {
    const input = structuredClone(MIX[g.base]!.input);
    const record = recordIn(input);
    if (g.route) [record.eventSource, record.eventName] = g.route;
    if (g.request !== null) record.requestParameters = g.request;
    if (g.response !== null) record.responseElements = g.response;
    if (g.identity !== null) record.userIdentity = g.identity;
    if (g.errorCode !== null) record.errorCode = g.errorCode;
    // Mutations land on the record's call (requestParameters, responseElements...), rarely on the envelope itself.
    for (const m of g.mutations) mutate(record, m);
    return input;
  });

describe('AWS registry property: generated CloudTrail-shaped events give only typed outcomes', function () {
  this.timeout(120_000);

  it(`${RUNS.toLocaleString('en-US')} events (seed ${SEED}): no throw, no DetectorError, every detection a valid Finding v1 with bounded evidence`, () => {
    const lists = allowLists();
    const seen = { events: 0, parseErrors: 0, detections: 0, fails: 0, passes: 0, rules: new Set<string>() };
    fc.assert(
      fc.property(generatedEvent, (input) => {
        const parsed = parseCloudTrailInput(input);
        for (const error of parsed.errors) expect(error).to.be.instanceOf(CloudTrailInputError);
        seen.parseErrors += parsed.errors.length;
        for (const event of parsed.events) {
          seen.events += 1;
          const ctx = eventContext(event, lists);
          const result = evaluateCloudTrail(event.record, ctx);
          for (const error of result.errors) expect(error).to.be.instanceOf(DetectorError);
          expect(result.errors.map((e) => e.message), 'detector errors').to.deep.equal([]);
          for (const { detector, detection } of result.detections) {
            seen.detections += 1;
            seen.rules.add(detector.id);
            const observation = toObservation(detector, detection, event.record, ctx);
            expect(Buffer.byteLength(JSON.stringify(observation.evidence))).to.be.at.most(EVIDENCE_MAX_BYTES);
            let finding: Finding;
            if (observation.outcome === 'fail') {
              seen.fails += 1;
              const opened = decide(undefined, observation, undefined);
              if (opened.kind === 'none') throw new Error('a failing observation on nothing must open a finding');
              finding = parseFinding(opened.finding);
            } else {
              seen.passes += 1;
              // A pass resolves what an earlier failure of the same subject opened.
              const earlier = decide(undefined, { ...observation, outcome: 'fail', observedAt: new Date(Date.parse(observation.observedAt) - 60_000).toISOString() }, undefined);
              if (earlier.kind === 'none') throw new Error('unreachable');
              const resolved = decide(parseFinding(earlier.finding), observation, undefined);
              if (resolved.kind !== 'resolve') throw new Error(`a pass on an ACTIVE finding must resolve it, got ${resolved.kind}`);
              finding = parseFinding(resolved.finding);
            }
            expect(finding.ruleId).to.equal(detector.id);
          }
        }
      }),
      // endOnFailure: report the first counterexample instead of shrinking through 10,000-run neighbourhoods (bounded time on 2 shared cores).
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The generator must actually reach the detectors, or the property says little.
    const stats = `${seen.events} events parsed, ${seen.parseErrors} parse errors, ${seen.detections} detections (${seen.fails} fail, ${seen.passes} pass)`;
    expect(seen.events, `events that parsed: ${stats}`).to.be.greaterThan(RUNS * 0.75);
    expect(seen.fails, `failing detections: ${stats}`).to.be.greaterThan(1000);
    expect(seen.passes, `passing detections: ${stats}`).to.be.greaterThan(300);
    expect(seen.rules.size, `rules reached: ${[...seen.rules].sort().join(', ')}`).to.equal(AWS_ACTIVITY_DETECTORS.length);
  });
});
