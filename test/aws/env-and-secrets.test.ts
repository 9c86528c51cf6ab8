import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EnvError, loadBulkEnv, loadScannerEnv } from '../../functions/aws/env';
import { QualysTokenError, QualysTokenProvider, tokenFromSecretString } from '../../functions/aws/qualys-token';
import { scanTags } from '../../functions/aws/function-tags';
import { findingMessage } from '../../functions/aws/notify/scan-notifier';
import { scanProfile, settingsFromEnv } from '../../functions/aws/scanner/from-env';
import { queueUrlFromArn } from '../../functions/aws/scanner/handler';

const scannerEnv = {
  RESULTS_BUCKET: 'shipscan-results',
  CACHE_TABLE: 'shipscan-cache',
  FINDINGS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:findings',
  QUALYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:q',
  QUALYS_POD: 'US2',
  AWS_REGION: 'eu-west-1',
};

describe('AWS function environment, secrets, tags and messages', () => {
  it('scanner env: defaults applied, lists and spokes parsed', () => {
    const env = loadScannerEnv({
      ...scannerEnv,
      SELF_FUNCTION_NAMES: 'shipscan-scanner, shipscan-bulk',
      SPOKE_ROLES: JSON.stringify([{ accountId: '210987654321', roleArn: 'arn:aws:iam::210987654321:role/shipscan-spoke', externalId: 'ext-1' }]),
      TAG_FUNCTIONS: 'false',
      CACHE_TTL_DAYS: '7',
      QUALYS_GATEWAY: '',
    });
    expect(env).to.deep.include({ CACHE_TTL_DAYS: 7, TAG_FUNCTIONS: false, SEVERITY_THRESHOLD: 'HIGH', METRICS_NAMESPACE: 'Shipscan', QSCANNER_PATH: '/opt/qscanner/qscanner' });
    expect(env.SELF_FUNCTION_NAMES).to.deep.equal(['shipscan-scanner', 'shipscan-bulk']);
    expect(env.SPOKE_ROLES[0]!.externalId).to.equal('ext-1');
  });

  it('scanner env: EXCLUDE_PATTERNS parsed like the bulk one, default none, reaching the pipeline settings as regexes', () => {
    expect(loadScannerEnv(scannerEnv).EXCLUDE_PATTERNS).to.deep.equal([]);
    const env = loadScannerEnv({ ...scannerEnv, EXCLUDE_PATTERNS: '["^test-", "-dev$"]' });
    expect(env.EXCLUDE_PATTERNS).to.deep.equal(['^test-', '-dev$']);
    const patterns = settingsFromEnv(env).excludePatterns ?? [];
    expect(patterns.map((p) => p.source)).to.deep.equal(['^test-', '-dev$']);
    expect(() => loadScannerEnv({ ...scannerEnv, EXCLUDE_PATTERNS: '["(unclosed"]' })).to.throw(EnvError, /EXCLUDE_PATTERNS: \[0\] not a regular expression/);
  });

  it('scanner env: every problem named by variable', () => {
    let error: unknown;
    try {
      loadScannerEnv({ ...scannerEnv, CACHE_TTL_DAYS: '0', SPOKE_ROLES: '[{"accountId":"1"}]', SEVERITY_THRESHOLD: 'SEVERE', RESULTS_BUCKET: undefined });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(EnvError);
    const variables = (error as EnvError).problems.map((p) => p.variable);
    expect(variables).to.include.members(['CACHE_TTL_DAYS', 'SPOKE_ROLES', 'SEVERITY_THRESHOLD', 'RESULTS_BUCKET']);
    expect((error as Error).message).to.match(/SPOKE_ROLES: \[0\.roleArn\]/);
    expect(() => loadScannerEnv({ ...scannerEnv, QUALYS_POD: undefined })).to.throw(EnvError, /QUALYS_POD: set QUALYS_POD or QUALYS_GATEWAY/);
  });

  it('bulk env: regex list validated', () => {
    expect(loadBulkEnv({ SCAN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q', EXCLUDE_PATTERNS: '["^test-", "-dev$"]', AWS_REGION: 'eu-west-1' }).EXCLUDE_PATTERNS).to.deep.equal(['^test-', '-dev$']);
    expect(() => loadBulkEnv({ SCAN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q', EXCLUDE_PATTERNS: '["(unclosed"]', AWS_REGION: 'eu-west-1' })).to.throw(EnvError, /EXCLUDE_PATTERNS: \[0\] not a regular expression/);
    expect(() => loadBulkEnv({ AWS_REGION: 'eu-west-1' })).to.throw(EnvError, /SCAN_QUEUE_URL/);
  });

  it('Qualys token: JSON or plain string, errors never echo the value', () => {
    expect(tokenFromSecretString('s', '{"accessToken":"abc123"}')).to.equal('abc123');
    expect(tokenFromSecretString('s', '  plain-token \n')).to.equal('plain-token');
    for (const bad of ['{"accessToken": ""}', '{"token":"secret-value-1"}', '{secret-value-2', '']) {
      let error: unknown;
      try {
        tokenFromSecretString('s', bad);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(QualysTokenError);
      expect((error as Error).message).not.to.match(/secret-value/);
    }
  });

  it('Qualys token: cached for the TTL, fetched again after it', async () => {
    const mock = mockClient(SecretsManagerClient);
    try {
      mock.on(GetSecretValueCommand).resolvesOnce({ SecretString: '{"accessToken":"one"}' }).resolves({ SecretString: 'two' });
      let now = 0;
      const provider = new QualysTokenProvider(new SecretsManagerClient({ region: 'eu-west-1' }), 'arn', 1000, () => now);
      expect(await provider.token()).to.equal('one');
      now = 999;
      expect(await provider.token()).to.equal('one');
      now = 1000;
      expect(await provider.token()).to.equal('two');
      expect(mock.commandCalls(GetSecretValueCommand)).to.have.length(2);
    } finally {
      mock.restore();
    }
  });

  it('tags: only Shipscan* keys, values cleaned to what Lambda accepts', () => {
    const contentId = `zip-${'ab'.repeat(32)}-layers-0123456789ab`;
    const tags = scanTags({ status: 'COMPLETED', time: '2026-01-01T00:00:00.000Z', counts: { critical: 1, high: 0, medium: 0, low: 0, informational: 0, total: 1 }, resultKey: `results/a/b/c#d/${'x'.repeat(300)}.json`, contentId });
    expect(Object.keys(tags).every((key) => key.startsWith('Shipscan'))).to.equal(true);
    expect(tags.ShipscanContentResult!.length).to.equal(256);
    expect(tags.ShipscanContentResult).not.to.include('#');
    expect(tags.ShipscanContent).to.equal(contentId);
    // The content-addressed names replace the old per-function-sounding one.
    expect(tags).not.to.have.property('ShipscanResult');
  });

  it('SNS message: attributes for filtering, subject within SNS limits', () => {
    const { subject, attributes, message } = findingMessage({
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f',
      functionName: `f${'é'.repeat(200)}`,
      account: '123456789012',
      region: 'eu-west-1',
      status: 'COMPLETED',
      scanId: 's1',
      counts: { critical: 0, high: 3, medium: 0, low: 0, informational: 0, total: 3 },
      resultBucket: 'b',
      resultKey: 'k',
      cacheHit: false,
    });
    expect(subject.length).to.be.at.most(99);
    expect(subject).to.match(/^[\x20-\x7e]+$/);
    expect(attributes).to.include({ severity: 'HIGH', account: '123456789012' });
    expect(JSON.parse(message)).to.include({ highestSeverity: 'HIGH', result: 's3://b/k' });
  });

  it('scan profile is order-independent; queue URL derives from the source ARN', () => {
    expect(scanProfile(['secret', 'pkg'], [])).to.equal(scanProfile(['pkg', 'secret', 'pkg'], []));
    expect(scanProfile(['pkg'], ['b', 'a'])).to.equal('pkg/policy=a+b');
    expect(queueUrlFromArn('arn:aws-cn:sqs:cn-north-1:123456789012:q')).to.equal('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q');
    expect(() => queueUrlFromArn('nope')).to.throw(/eventSourceARN/);
  });
});
