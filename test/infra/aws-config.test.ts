import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runPlan, runPlanDetailed, PlanError, type PlanResult } from '../../local/plan';
import { validateConfig, ConfigError } from '../../shared/config';
import { LAYER_ARN, awsConfig, oneOfType, placeholderBundles } from './support/aws-plans';
import { checkAwsInvariants, invariantContext } from './support/aws-invariants';

const QUALYS = { pod: 'US2', accessToken: 'token' };
const base = { enabled: true, qscannerLayerArn: LAYER_ARN };

function configError(aws: Record<string, unknown>, qualys: Record<string, unknown> | undefined = QUALYS): string {
  try {
    validateConfig({ aws, ...(qualys ? { qualys } : {}) });
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`config was accepted: ${JSON.stringify(aws)}`);
}

const HUB_ROLE = 'arn:aws:iam::111111111111:role/shipscan-prod-scanner';
const SPOKE_HUB = { accountId: '111111111111', eventBusArn: 'arn:aws:events:us-east-1:111111111111:event-bus/b', roleArns: [HUB_ROLE], externalId: 'abc-123' };

describe('AWS config validation (key, value and what is allowed)', function () {
  const cases: [string, Record<string, unknown>, string][] = [
    ['memory below range', { ...base, memoryMb: 100 }, 'shipscan:aws.memoryMb = 100: Too small: expected number to be >=512'],
    ['timeout above 15 minutes', { ...base, timeoutSec: 1000 }, 'shipscan:aws.timeoutSec = 1000: Too big: expected number to be <=900'],
    ['cache TTL of zero days', { ...base, cacheTtlDays: 0 }, 'shipscan:aws.cacheTtlDays = 0: Too small: expected number to be >=1'],
    ['unknown mode', { ...base, mode: 'edge' }, 'shipscan:aws.mode = "edge": Invalid option: expected one of "standalone"|"hub"|"spoke"'],
    ['hub without spokes or organization', { ...base, mode: 'hub' }, 'shipscan:aws.spokes = (unset): hub mode needs spokes [{accountId, externalId, roleName}] or organizationId'],
    ['spoke without hub', { enabled: true, mode: 'spoke' }, 'shipscan:aws.hub = (unset): spoke mode needs hub {accountId, eventBusArn, roleArns, externalId}'],
    ['spokes outside hub mode', { ...base, spokes: [{ accountId: '222222222222', externalId: 'abc-123' }] }, 'shipscan:aws.spokes = [{"accountId":"222222222222","externalId":"[secret]"}]: spokes are only used in hub mode'],
    ['bad spoke account id', { ...base, mode: 'hub', spokes: [{ accountId: '12', externalId: 'abc-123' }] }, 'shipscan:aws.spokes.0.accountId = "12": a 12-digit AWS account id'],
    ['no QScanner source', { enabled: true }, 'shipscan:aws.qscannerLayerArn = (unset): set qscannerLayerArn or qscannerZip'],
    ['both QScanner sources', { ...base, qscannerZip: 'qscanner.zip' }, 'shipscan:aws.qscannerZip = "qscanner.zip": set only one of qscannerLayerArn and qscannerZip'],
    ['bad layer ARN', { enabled: true, qscannerLayerArn: 'qscanner' }, 'shipscan:aws.qscannerLayerArn = "qscanner": a Lambda layer version ARN'],
    ['bad exclusion pattern', { ...base, excludePatterns: ['('] }, 'shipscan:aws.excludePatterns.0 = "(": not a valid regular expression'],
    ['bad schedule', { ...base, bulkSchedule: 'weekly' }, 'shipscan:aws.bulkSchedule = "weekly": an EventBridge schedule expression such as rate(7 days)'],
    ['bad log retention', { ...base, logRetentionDays: 10 }, 'shipscan:aws.logRetentionDays = 10:'],
    ['bad spoke role name', { enabled: true, mode: 'spoke', spokeRoleName: 'has space', hub: { accountId: '111111111111', eventBusArn: 'arn:aws:events:us-east-1:111111111111:event-bus/b', roleArns: [HUB_ROLE], externalId: 'abc-123' } }, 'shipscan:aws.spokeRoleName = "has space": an IAM role name'],
    ['unknown key', { ...base, memory: 1024 }, 'shipscan:aws.memory = 1024: unknown key; allowed: enabled, mode,'],
    // The spoke trusts exactly the hub's roles: named, in the hub account, never a pattern.
    ['spoke without the hub roles', { enabled: true, mode: 'spoke', hub: { ...SPOKE_HUB, roleArns: undefined } }, "shipscan:aws.hub.roleArns = (unset): the spoke trusts exactly the hub's roles: set the hub stack's aws.spokeHub.roleArns output"],
    ['spoke with no hub role', { enabled: true, mode: 'spoke', hub: { ...SPOKE_HUB, roleArns: [] } }, 'shipscan:aws.hub.roleArns = []: Too small'],
    ['a wildcard hub role', { enabled: true, mode: 'spoke', hub: { ...SPOKE_HUB, roleArns: ['arn:aws:iam::111111111111:role/shipscan-scanner-role-*'] } }, 'shipscan:aws.hub.roleArns.0 = "arn:aws:iam::111111111111:role/shipscan-scanner-role-*": an IAM role ARN without wildcards'],
    ['a hub role in another account', { enabled: true, mode: 'spoke', hub: { ...SPOKE_HUB, roleArns: ['arn:aws:iam::999999999999:role/shipscan-prod-scanner'] } }, 'shipscan:aws.hub.roleArns.0 = "arn:aws:iam::999999999999:role/shipscan-prod-scanner": a role of the hub account 111111111111'],
  ];
  for (const [title, aws, message] of cases) {
    it(`rejects ${title}`, function () {
      expect(configError(aws)).to.include(message);
    });
  }

  it('accepts a spoke without any Qualys settings', function () {
    const config = validateConfig({ aws: { enabled: true, mode: 'spoke', hub: { accountId: '111111111111', eventBusArn: 'arn:aws:events:us-east-1:111111111111:event-bus/b', roleArns: [HUB_ROLE], externalId: 'abc-123' } } });
    expect(config.aws.spokeRoleName).to.equal('shipscan-spoke');
  });
});

describe('AWS program failures under the plan', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  const zipDir = mkdtempSync(path.join(tmpdir(), 'shipscan-qscanner-'));
  const zip = path.join(zipDir, 'qscanner.zip');
  writeFileSync(zip, 'placeholder: the plan never reads the layer archive');
  const emptyBundles = mkdtempSync(path.join(tmpdir(), 'shipscan-no-bundles-'));
  const settle = <T>(promise: Promise<T>) => promise.then((value) => ({ value }), (error: unknown) => ({ error }));
  let results: {
    invalid: { value?: unknown; error?: unknown };
    noToken: { value?: unknown; error?: unknown };
    noBundle: { value?: unknown; error?: unknown };
    missingZip: { value?: unknown; error?: unknown };
    zipLayer: { value?: PlanResult; error?: unknown };
    orgOnly: { value?: PlanResult; error?: unknown };
  };

  before(async function () {
    const env = { SHIPSCAN_BUNDLE_DIR: placeholderBundles() };
    const zipConfig = awsConfig({ qscannerZip: zip });
    // Independent child processes: run them side by side.
    const [invalid, noToken, noBundle, missingZip, zipLayer, orgOnly] = await Promise.all([
      settle(runPlan({ config: awsConfig({ ...base, memoryMb: 100 }), env })),
      settle(runPlan({ config: awsConfig(base, { username: 'user', password: { secret: 'pw-under-test' }, pod: 'US2' }), env })),
      settle(runPlan({ config: awsConfig(base), env: { SHIPSCAN_BUNDLE_DIR: emptyBundles } })),
      settle(runPlan({ config: awsConfig({ qscannerZip: path.join(zipDir, 'absent.zip') }), env })),
      settle(runPlanDetailed({ config: zipConfig, stack: 'prod', env })),
      settle(runPlanDetailed({ config: awsConfig({ ...base, mode: 'hub', organizationId: 'o-abc123defg' }), env })),
    ]);
    results = { invalid, noToken, noBundle, missingZip, zipLayer, orgOnly };
  });

  it('stops the program on invalid config with the key, the value and what is allowed', function () {
    expect(results.invalid.error).to.be.instanceOf(PlanError);
    expect((results.invalid.error as Error).message).to.include('shipscan:aws.memoryMb = 100: Too small: expected number to be >=512');
  });

  it('requires a Qualys access token for the AWS scanner, without echoing other credentials', function () {
    const message = (results.noToken.error as Error).message;
    expect(message).to.include('shipscan:qualys.accessToken = (unset): the AWS scanner (QScanner) authenticates with an access token');
    expect(message).not.to.include('pw-under-test');
  });

  it('fails clearly, not with a hang, when the function bundles were never built', function () {
    expect(results.noBundle.error).to.be.instanceOf(PlanError);
    const message = (results.noBundle.error as Error).message;
    expect(message).to.include('BundleMissingError');
    expect(message).to.include(`${path.join(emptyBundles, 'aws', 'scanner', 'index.js')}, ${path.join(emptyBundles, 'aws', 'bulk', 'index.js')}: run npm run build:functions first`);
  });

  it('names a qscannerZip that does not exist', function () {
    expect((results.missingZip.error as Error).message).to.include(`shipscan:aws.qscannerZip = "${path.join(zipDir, 'absent.zip')}": no such file`);
  });

  it('publishes qscannerZip as a Node 22 x86_64 layer that the scanner uses', function () {
    const plan = results.zipLayer.value;
    if (!plan) throw results.zipLayer.error as Error;
    const layer = oneOfType(plan, 'aws:lambda/layerVersion:LayerVersion');
    expect(layer.inputs).to.deep.include({ layerName: 'shipscan-prod-qscanner', code: { '@archive': zip }, compatibleRuntimes: ['nodejs22.x'], compatibleArchitectures: ['x86_64'] });
    expect(oneOfType(plan, 'aws:lambda/function:Function', 'shipscan-scanner').inputs['layers']).to.deep.equal([String(layer.id)]);
    expect(checkAwsInvariants(plan, invariantContext(awsConfig({ qscannerZip: zip })))).to.deep.equal([]);
  });

  it('warns when a hub accepts the whole organization but can assume no spoke role', function () {
    const plan = results.orgOnly.value;
    if (!plan) throw results.orgOnly.error as Error;
    expect(plan.warnings.some((w) => w.includes('the hub accepts events from the whole organization but lists no spokes'))).to.equal(true, plan.warnings.join('\n'));
    expect(plan.resources.some((r) => r.type === 'aws:cloudwatch/eventBusPolicy:EventBusPolicy')).to.equal(true);
    expect(results.zipLayer.value?.warnings).to.deep.equal([]);
  });
});
