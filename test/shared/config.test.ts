import { expect } from 'chai';
import fc from 'fast-check';
import { FindingsConfigSchema } from '../../shared/findings/config';
import {
  AwsConfigSchema,
  AzureConfigSchema,
  ConfigError,
  QualysConfigSchema,
  StackConfigSchema,
  holdsSecretKeys,
  isSecretKey,
  nearestKey,
  validateConfig,
} from '../../shared/config';

const QUALYS = { pod: 'US2', accessToken: 'token-value' };
const LAYER = 'arn:aws:lambda:eu-west-1:123456789012:layer:qscanner:3';

function errorOf(raw: unknown): ConfigError {
  try {
    validateConfig(raw);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

/** Sets `value` at a dotted path inside a copy of `base`. */
function withValue(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(base);
  const steps = key.split('.');
  let here = copy;
  for (const step of steps.slice(0, -1)) {
    here[step] = here[step] ?? {};
    here = here[step] as Record<string, unknown>;
  }
  here[steps[steps.length - 1]!] = value;
  return copy;
}

describe('validateConfig', () => {
  it('applies the documented defaults to an empty config', () => {
    for (const raw of [undefined, null, {}]) {
      const config = validateConfig(raw);
      expect(config.qualys).to.equal(undefined);
      const aws = config.aws;
      expect(aws).to.deep.equal({
        enabled: false,
        mode: 'standalone',
        createTrail: false,
        scanOnConfigurationChange: false,
        cacheTtlDays: 30,
        memoryMb: 2048,
        timeoutSec: 900,
        ephemeralMb: 2048,
        maxConcurrency: 10,
        excludePatterns: [],
        spokes: [],
        spokeRoleName: 'shipscan-spoke',
        severityThreshold: 'HIGH',
        logRetentionDays: 90,
        resultRetentionDays: 365,
        accessLogging: true,
        tagFunctions: true,
        inventory: {
          enabled: false,
          inventorySchedule: 'cron(0 0 ? * SAT *)',
          evaluationSchedule: 'cron(0 4 * * ? *)',
          timezone: 'UTC',
          services: ['s3', 'ec2', 'iam', 'lambda', 'rds', 'elbv2', 'cloudtrail', 'kms'],
          regions: [],
          ruleScopes: {},
          accessKeyMaxAgeDays: 90,
          accessKeyUnusedDays: 90,
          passwordMinLength: 14,
          passwordReusePrevention: 24,
          maxConcurrency: 10,
          spokeRoleName: 'shipscan-inventory',
          runDeadlineHours: 6,
        },
        securityEvents: { enabled: true, maxConcurrency: 5, memoryMb: 512, timeoutSec: 60, maxReceiveCount: 5 },
        artifacts: {
          enabled: false,
          buckets: { include: [], exclude: [] },
          allBuckets: false,
          prefixes: { include: [], exclude: [] },
          maxObjectMb: 512,
          excludedMimeTypes: [],
          crossAccountRoleName: 'shipscan-object-reader',
          organizationUnitIds: [],
          stackSetRegions: [],
          createOrgTrail: false,
          ecrPushes: true,
          memoryMb: 2048,
          ephemeralMb: 4096,
          maxConcurrency: 5,
          extractMaxMb: 2048,
          extractMaxEntries: 20000,
          extractMaxRatio: 100,
          extractMaxDepth: 3,
        },
      });
      expect(config.azure).to.include({
        enabled: false,
        location: 'westeurope',
        cacheHours: 24,
        pollMinSec: 10,
        maxScanMinutes: 30,
        severityThreshold: 'HIGH',
        resultRetentionDays: 365,
        logRetentionDays: 90,
      });
      expect(config.azure.acrResourceIds).to.deep.equal([]);
    }
  });

  it('accepts complete configurations for each mode', () => {
    expect(validateConfig({ aws: { enabled: true, qscannerLayerArn: LAYER }, qualys: QUALYS }).aws.enabled).to.equal(true);
    const hub = validateConfig({
      aws: {
        enabled: true,
        mode: 'hub',
        qscannerZip: 'qscanner.zip',
        spokes: [{ accountId: '210987654321', externalId: 'shipscan-ext-1' }],
        organizationId: 'o-abc123defg',
      },
      qualys: { gateway: 'https://gateway.qg2.apps.qualys.com', username: 'user', password: 'pass' },
    });
    expect(hub.aws.spokes[0]!.roleName).to.equal('shipscan-spoke');
    const spoke = validateConfig({
      aws: {
        enabled: true,
        mode: 'spoke',
        hub: {
          accountId: '123456789012',
          eventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/shipscan',
          roleArns: ['arn:aws:iam::123456789012:role/shipscan-prod-scanner', 'arn:aws:iam::123456789012:role/shipscan-prod-bulk'],
          externalId: 'shipscan-ext-1',
        },
      },
    });
    expect(spoke.qualys, 'a spoke needs no Qualys settings').to.equal(undefined);
    expect(validateConfig({ azure: { enabled: true }, qualys: QUALYS }).azure.enabled).to.equal(true);
  });

  /**
   * One invalid value per key: the error must name `shipscan:<key>`, show the value and say what is allowed.
   * Values of secret keys are shown as [secret].
   */
  const invalid: Record<string, [unknown, RegExp]> = {
    'aws.enabled': ['yes', /expected boolean/],
    'aws.mode': ['central', /"standalone"\|"hub"\|"spoke"/],
    'aws.createTrail': [1, /expected boolean/],
    'aws.qscannerLayerArn': ['layer:qscanner', /a Lambda layer version ARN/],
    'aws.qscannerZip': ['', />=1 characters/],
    'aws.scanOnConfigurationChange': ['no', /expected boolean/],
    'aws.cacheTtlDays': [400, /<=365/],
    'aws.memoryMb': [100, />=512/],
    'aws.timeoutSec': [1000, /<=900/],
    'aws.ephemeralMb': [20000, /<=10240/],
    'aws.maxConcurrency': [1, />=2/],
    'aws.bulkSchedule': ['daily', /rate\(7 days\)/],
    'aws.excludePatterns': ['^prod-', /expected array/],
    'aws.hub': ['123456789012', /expected object/],
    'aws.spokes': [{ accountId: '1' }, /expected array/],
    'aws.spokeRoleName': ['role/with/slash', /an IAM role name/],
    'aws.organizationId': ['org-1', /o-abc123defg/],
    'aws.alertEmail': ['ops-at-example', /email/],
    'aws.severityThreshold': ['SEVERE', /"CRITICAL"\|"HIGH"\|"MEDIUM"\|"LOW"\|"INFORMATIONAL"/],
    'aws.logRetentionDays': [10, /one of 1, 3, 5, 7, 14, 30/],
    'aws.resultRetentionDays': [0, />=1/],
    'aws.tagFunctions': ['true', /expected boolean/],
    'aws.securityEvents': [{ maxReceiveCount: 0 }, />=1/],
    'aws.artifacts': [{ enabled: true, buckets: { include: [] } }, /list the buckets to read, or set allBuckets true/],
    'aws.accessLogging': ['on', /expected boolean/],
    'aws.inventory': [{ inventorySchedule: 'cron(0 4 * * * *)' }, /\? in exactly one of day-of-month and day-of-week/],
    'azure.enabled': ['true', /expected boolean/],
    'azure.location': ['West Europe', /westeurope/],
    'azure.resourceGroupName': ['rg/with/slashes', /resource group name/],
    'azure.existingSystemTopicId': ['my-topic', /system topic resource id/],
    'azure.cacheHours': [-1, />=0/],
    'azure.pollMinSec': [1, />=5/],
    'azure.maxScanMinutes': [0, />=1/],
    'azure.alertWebhookUrl': ['http://hooks.example.com/x', /https:\/\/ URL/],
    'azure.severityThreshold': ['high', /"CRITICAL"\|"HIGH"/],
    'azure.alertEmail': ['nobody', /email/],
    'azure.resultRetentionDays': [5000, /<=3650/],
    'azure.logRetentionDays': [7, />=30/],
    'azure.acrResourceIds': [['my-registry'], /container registry resource id/],
    'azure.artifacts': [{ enabled: true }, /registries and\/or storageAccounts/],
    'azure.securityEvents': [{ enabled: 'yes' }, /boolean/],
    'azure.inventory': [{ enabled: 'yes' }, /boolean/],
    'qualys.pod': ['US9', /"US1"\|"US2"/],
    'qualys.gateway': ['http://gateway.example.com', /https:\/\/ URL/],
    'qualys.accessToken': ['', />=1 characters/],
    'qualys.username': ['', />=1 characters/],
    'qualys.password': ['', />=1 characters/],
    'findings.severityThreshold': ['SEVERE', /"CRITICAL"\|"HIGH"/],
    'findings.notifyOnResolve': ['yes', /expected boolean/],
    'findings.suppressions': [[{ ruleId: 'aws.s3.*', resource: '*', reason: 'accepted', expiresAt: 'never' }], /ISO 8601 date-time/],
    'findings.disabledRules': ['aws.s3.public-acl', /expected array/],
    'findings.allowLists': [{ publicPorts: [70000] }, /<=65535/],
    'findings.email': [{ from: 'secops@example.com', to: ['not-an-address'] }, /email/],
    'findings.slackWebhookUrl': ['http://hooks.slack.com/x', /https:\/\/ URL/],
    'findings.teamsWebhookUrl': ['ftp://teams', /https:\/\/ URL/],
  };

  it('has an invalid-value case for every key of the schema', () => {
    const keys = [
      ...Object.keys(AwsConfigSchema.shape).map((k) => `aws.${k}`),
      ...Object.keys(AzureConfigSchema.shape).map((k) => `azure.${k}`),
      ...Object.keys(QualysConfigSchema.shape).map((k) => `qualys.${k}`),
      ...Object.keys(FindingsConfigSchema.shape).map((k) => `findings.${k}`),
    ];
    expect(Object.keys(StackConfigSchema.shape)).to.deep.equal(['aws', 'azure', 'qualys', 'findings']);
    expect(Object.keys(invalid).sort()).to.deep.equal(keys.sort());
  });

  for (const [key, [value, allowed]] of Object.entries(invalid)) {
    it(`rejects shipscan:${key} = ${JSON.stringify(value)}`, () => {
      const base = key.startsWith('qualys.') ? { qualys: { ...QUALYS } } : {};
      const error = errorOf(withValue(base, key, value));
      const problem = error.problems.find((p) => p.key.startsWith(key));
      expect(problem, error.message).to.not.equal(undefined);
      // A plain value where an object holding secrets belongs (aws.hub) may itself be the secret.
      const shown = isSecretKey(key) ? '"[secret]"' : holdsSecretKeys(key) && typeof value !== 'object' ? '"[hidden]"' : JSON.stringify(value);
      const line = error.message.split('\n').find((l) => l.startsWith(`  - shipscan:${problem!.key} = `));
      expect(line, error.message).to.be.a('string');
      if (problem!.key === key) expect(line).to.include(`shipscan:${key} = ${shown}: `);
      expect(line).to.match(allowed);
    });
  }

  it('names nested keys inside lists and objects', () => {
    const error = errorOf({
      aws: {
        mode: 'hub',
        spokes: [{ accountId: '210987654321', externalId: '!' }],
        hub: { accountId: '123', eventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/x', externalId: 'ok-id' },
        excludePatterns: ['^ok$', '('],
      },
    });
    // An ExternalId is treated as a secret: named, never shown.
    expect(error.message).to.include('shipscan:aws.spokes.0.externalId = "[secret]": 2-1224 characters');
    expect(error.message).to.include('shipscan:aws.hub.accountId = "123": a 12-digit AWS account id');
    expect(error.message).to.match(/shipscan:aws\.excludePatterns\.1 = "\(": not a valid regular expression/);
  });

  it('names each unknown key and lists the allowed ones, hiding its value where secrets live', () => {
    const error = errorOf({
      aws: { memoryMB: 4096, mode: 'hub', hub: { accountId: '123456789012', eventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/x', externalID: 'typo-external-id' } },
      extra: 1,
      qualys: { pod: 'US2', acessToken: 'typo-token' },
    });
    expect(error.message).to.include('shipscan:aws.memoryMB = 4096: unknown key; did you mean shipscan:aws.memoryMb? allowed: enabled, mode,');
    expect(error.message).to.include('shipscan:aws.hub.externalID = "[hidden]": unknown key');
    expect(error.message).to.not.include('typo-external-id');
    expect(error.message).to.include('shipscan:extra = "[hidden]": unknown key; allowed: aws, azure, qualys');
    expect(error.message).to.include('shipscan:qualys.acessToken = "[hidden]": unknown key; did you mean shipscan:qualys.accessToken? allowed: pod, gateway, accessToken');
    expect(error.message).to.not.include('typo-token');
  });

  it('a misspelt top-level key is an error naming the nearest valid key, never a silently dropped half', () => {
    const error = errorOf({ awss: { enabled: true }, azure: { enabled: false } });
    expect(error.message).to.include('shipscan:awss = "[hidden]": unknown key; did you mean shipscan:aws? allowed: aws, azure, qualys');
    expect(errorOf({ Azure: {} }).message).to.include('did you mean shipscan:azure?');
    expect(errorOf({ qualy: {} }).message).to.include('did you mean shipscan:qualys?');
    expect(errorOf({ 'aws.enabled': 'true' }).message).to.include('shipscan:aws.enabled = "[hidden]": unknown key; set nested keys with --path (pulumi config set --path shipscan:aws.enabled <value>)');
    expect(errorOf({ notifications: {} }).message).to.match(/shipscan:notifications = "\[hidden\]": unknown key; allowed: aws, azure, qualys, findings$/m);
  });

  it('suggests a key only when it is close', () => {
    expect(nearestKey('qscannerLayerARN', ['qscannerLayerArn', 'qscannerZip'])).to.equal('qscannerLayerArn');
    expect(nearestKey('cacheTTLDays', ['cacheTtlDays', 'memoryMb'])).to.equal('cacheTtlDays');
    expect(nearestKey('somethingElse', ['aws', 'azure', 'qualys'])).to.equal(undefined);
  });

  it('checks the rules that span keys', () => {
    expect(errorOf({ aws: { enabled: true }, qualys: QUALYS }).message).to.include('shipscan:aws.qscannerLayerArn = (unset): set qscannerLayerArn or qscannerZip');
    expect(errorOf({ aws: { qscannerLayerArn: LAYER, qscannerZip: 'q.zip' } }).message).to.include('shipscan:aws.qscannerZip = "q.zip": set only one of');
    expect(errorOf({ aws: { enabled: true, mode: 'spoke' } }).message).to.include('shipscan:aws.hub = (unset): spoke mode needs hub');
    expect(errorOf({ aws: { spokes: [{ accountId: '210987654321', externalId: 'ok-id' }] } }).message).to.include('spokes are only used in hub mode');
    expect(errorOf({ azure: { enabled: true } }).message).to.include('shipscan:qualys = (unset): set qualys.pod (or gateway) and credentials');
    expect(errorOf({ qualys: { accessToken: 't' } }).message).to.include('shipscan:qualys.pod = (unset): set pod (e.g. US2) or gateway');
    expect(errorOf({ qualys: { pod: 'US2', gateway: 'https://g.example.com', accessToken: 't' } }).message).to.include('set only one of pod and gateway');
    expect(errorOf({ qualys: { pod: 'US2' } }).message).to.include('set accessToken, or username and password');
    expect(errorOf({ qualys: { pod: 'US2', username: 'u' } }).message).to.include('shipscan:qualys.password = (unset): username and password go together');
  });

  it('never echoes a secret value, whatever else is wrong', () => {
    const secret = fc.string({ minLength: 6, maxLength: 30 }).map((s) => `SECRET-${s}`);
    const mistakes: ((s: string) => unknown)[] = [
      (s) => ({ qualys: { pod: 'US9', accessToken: s } }),
      (s) => ({ qualys: { pod: 'US2', accessToken: s, extra: true } }),
      (s) => ({ qualys: { pod: 'US2', username: s } }),
      (s) => ({ qualys: { pod: 'US2', username: 'u', password: s, bogus: 1 } }),
      (s) => ({ qualys: s }),
      (s) => ({ azure: { alertWebhookUrl: `http://${s}` } }),
      (s) => ({ azure: { alertWebhookUrl: `https://hooks.example.com/${s}`, unknown: 1 } }),
      (s) => ({ azure: s }),
      (s) => ({ qualys: { pod: 'US2', accessToken: s }, other: 1 }),
      (s) => s,
      (s) => [s],
      (s) => ({ qualys: { pod: 'US2', acessToken: s } }),
      (s) => ({ azure: { webhookUrl: s } }),
      (s) => ({ aws: { mode: 'hub', spokes: [{ accountId: '1', externalId: s }] } }),
      (s) => ({ aws: { mode: 'spoke', hub: { accountId: '123456789012', eventBusArn: 'bus', externalId: s } } }),
      (s) => ({ aws: { mode: 'spoke', hub: s } }),
      (s) => ({ aws: { spokes: [{ accountId: '210987654321', externalId: s, role: 'x' }] } }),
    ];
    fc.assert(
      fc.property(secret, fc.constantFrom(...mistakes), (value, mistake) => {
        const error = errorOf(mistake(value));
        expect(error.message).to.not.include(value);
        expect(JSON.stringify(error.problems)).to.not.include(value);
      }),
      { numRuns: 300 },
    );
  });
});

describe('validateConfig: aws.inventory', () => {
  const inventory = (value: Record<string, unknown>) => ({ aws: { inventory: value } });

  it('takes the seed schedules, a time zone, regions and rule scopes', () => {
    const config = validateConfig(inventory({ enabled: true, timezone: 'Europe/Paris', regions: ['eu-west-1', 'us-east-1'], ruleScopes: { 'aws.s3.bucket-versioning-off': { tags: { env: 'prod' } } } }));
    expect(config.aws.inventory).to.include({ enabled: true, timezone: 'Europe/Paris', inventorySchedule: 'cron(0 0 ? * SAT *)' });
    expect(config.aws.inventory.ruleScopes['aws.s3.bucket-versioning-off']).to.deep.equal({ tags: { env: 'prod' } });
  });

  it('names the key of an unknown rule id, a time zone that does not exist and a region listed twice', () => {
    const problems = (value: Record<string, unknown>) => errorOf(inventory(value)).problems.map((p) => `${p.key}: ${p.message}`);
    expect(problems({ ruleScopes: { 'aws.s3.no-such-rule': {} } })).to.satisfy((lines: string[]) => lines.some((l) => l.startsWith('aws.inventory.ruleScopes.aws.s3.no-such-rule: no AWS posture rule')));
    expect(problems({ timezone: 'Mars/Olympus' })).to.satisfy((lines: string[]) => lines.some((l) => l.startsWith('aws.inventory.timezone: an IANA time zone')));
    expect(problems({ regions: ['eu-west-1', 'eu-west-1'] })).to.satisfy((lines: string[]) => lines.some((l) => l.startsWith('aws.inventory.regions: each region once')));
  });
});
