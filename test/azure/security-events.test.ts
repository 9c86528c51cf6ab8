import { expect } from 'chai';
import type { TokenCredential } from '@azure/identity';
import { ArmRequestError, ArmRestReader, armPath, retryAfterMs } from '../../functions/azure/security-events';
import { functionsFromEnv } from '../../functions/azure/app';
import { loadSettings, secretValues, SettingsError } from '../../functions/azure/settings';
import { startArmStub, type ArmStub } from '../../local/arm-stub/server';

const credential: TokenCredential = { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3600_000 }) };
const BASE = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', QUALYS_POD: 'US2', QUALYS_ACCESS_TOKEN: 'qualys-token-value-123' };
const NSG = '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/web';

function settingsError(env: Record<string, string>): string {
  try {
    loadSettings({ ...BASE, ...env });
  } catch (error) {
    expect(error).to.be.instanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error('expected a SettingsError');
}

describe('onSecurityEvent: the ARM GET (functions/azure/security-events/arm-resource)', () => {
  let arm: ArmStub;
  const waits: number[] = [];
  const reader = (options: ConstructorParameters<typeof ArmRestReader>[2] = {}) =>
    new ArmRestReader(credential, arm.endpoint, { sleep: async (ms) => void waits.push(ms), ...options });

  before(async () => {
    arm = await startArmStub();
    arm.put({ id: NSG, name: 'web', type: 'Microsoft.Network/networkSecurityGroups', properties: { securityRules: [] } });
  });
  after(() => arm.stop());
  beforeEach(() => {
    waits.length = 0;
    arm.failNext(0);
  });

  it('reads Retry-After as seconds or an HTTP date, and nothing else', () => {
    expect(retryAfterMs('7')).to.equal(7000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).to.equal(6000);
    expect(retryAfterMs('soon')).to.equal(undefined);
    expect(retryAfterMs(null)).to.equal(undefined);
  });

  it('encodes each segment of an id and refuses what is no id', () => {
    expect(armPath('/subscriptions/{subscription-id}/resourcegroups/rg/providers/Microsoft.Storage/storageAccounts/a b')).to.equal(
      '/subscriptions/%7Bsubscription-id%7D/resourcegroups/rg/providers/Microsoft.Storage/storageAccounts/a%20b',
    );
    expect(armPath('/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/r?x=1')).to.match(/r%3Fx%3D1$/);
    for (const bad of ['subscriptions/s', '/subscriptions/../x', '//x', '/']) expect(() => armPath(bad), bad).to.throw(ArmRequestError);
  });

  it('GETs the resource with the api-version and a bearer token, case-insensitively by id', async () => {
    const read = await reader().get(NSG.toLowerCase(), '2024-05-01');
    expect(read).to.deep.include({ kind: 'found' });
    expect((read as { body: { name: string } }).body.name).to.equal('web');
    expect(arm.requests.at(-1)).to.include({ apiVersion: '2024-05-01', authorized: true, status: 200 });
  });

  it('a 404 means the resource is gone', async () => {
    expect(await reader().get(`${NSG}-deleted`, '2024-05-01')).to.deep.equal({ kind: 'gone', status: 404 });
  });

  it('retries throttling and server errors, honouring Retry-After, then reads', async () => {
    arm.failNext(2, 429, { 'retry-after': '3' });
    expect((await reader().get(NSG, '2024-05-01')).kind).to.equal('found');
    expect(waits).to.deep.equal([3000, 3000]);
    arm.failNext(2, 503);
    expect((await reader({ baseDelayMs: 100 }).get(NSG, '2024-05-01')).kind).to.equal('found');
    expect(waits.slice(2)).to.have.length(2);
    for (const wait of waits.slice(2)) expect(wait).to.be.within(25, 200);
  });

  it('gives up after its attempts, and at once on a Retry-After longer than an invocation should wait', async () => {
    arm.failNext(5, 503);
    const spent = await reader({ attempts: 3 }).get(NSG, '2024-05-01').catch((e: unknown) => e);
    expect(spent).to.be.instanceOf(ArmRequestError).and.to.include({ status: 503 });
    expect(waits).to.have.length(2);
    arm.failNext(1, 429, { 'retry-after': '600' });
    const long = await reader().get(NSG, '2024-05-01').catch((e: unknown) => e);
    expect((long as Error).message).to.match(/HTTP 429 TooManyRequests.*asked to wait 600 s/);
  });

  it('a refusal (403) is not retried here: the queue delivers again', async () => {
    arm.failNext(1, 403);
    const refused = await reader().get(NSG, '2024-05-01').catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(ArmRequestError).and.to.include({ status: 403 });
    expect(waits).to.deep.equal([]);
  });

  it('refuses plain http off loopback', () => {
    expect(() => new ArmRestReader(credential, 'http://management.example.com')).to.throw(/must use https/);
  });
});

describe('onSecurityEvent: findings settings', () => {
  it('defaults: the registry runs, findings in Findings / FindingsByState, events on security-events', () => {
    const s = loadSettings(BASE);
    expect(s).to.deep.include({ findingsTable: 'Findings', findingsIndexTable: 'FindingsByState', securityEventsQueue: 'security-events', securityEvents: { enabled: true } });
    expect(s.findings.config).to.deep.include({ severityThreshold: 'HIGH', notifyOnResolve: false, disabledRules: [] });
    expect(s.findings.smtpCredentials).to.equal(undefined);
  });

  it('merges the secrets of their own settings into the config, and hands them to the redactor', () => {
    const s = loadSettings({
      ...BASE,
      FINDINGS_CONFIG: JSON.stringify({ severityThreshold: 'CRITICAL', email: { from: 'a@example.com', to: ['b@example.com'], smtp: { host: 'smtp.example.com' } } }),
      FINDINGS_SMTP_USERNAME: 'relay-user',
      FINDINGS_SMTP_PASSWORD: 'relay-password-value',
      FINDINGS_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/slack-secret',
      FINDINGS_TEAMS_WEBHOOK_URL: 'https://contoso.webhook.office.com/webhookb2/teams-secret',
    });
    expect(s.findings.config.severityThreshold).to.equal('CRITICAL');
    expect(s.findings.config.email?.smtp).to.deep.include({ host: 'smtp.example.com', port: 587, secure: false });
    expect(s.findings.smtpCredentials).to.deep.equal({ username: 'relay-user', password: 'relay-password-value' });
    expect(s.findings.config).to.include({ slackWebhookUrl: 'https://hooks.slack.com/services/T/B/slack-secret', teamsWebhookUrl: 'https://contoso.webhook.office.com/webhookb2/teams-secret' });
    expect(secretValues(s)).to.include.members(['relay-password-value', 'https://hooks.slack.com/services/T/B/slack-secret', 'https://contoso.webhook.office.com/webhookb2/teams-secret']);
  });

  it('refuses secrets inside FINDINGS_CONFIG without echoing them', () => {
    const text = settingsError({ FINDINGS_CONFIG: JSON.stringify({ slackWebhookUrl: 'https://hooks.slack.com/services/leak', email: { from: 'a@example.com', to: ['b@example.com'], smtp: { host: 'h', username: 'u', password: 'pw-leak' } } }) });
    expect(text).to.match(/FINDINGS_CONFIG: holds secrets.*email\.smtp\.password \(use FINDINGS_SMTP_PASSWORD\).*slackWebhookUrl \(use FINDINGS_SLACK_WEBHOOK_URL\)/);
    expect(text).to.not.include('pw-leak');
    expect(text).to.not.include('services/leak');
  });

  it('names what is wrong in FINDINGS_CONFIG, email without a relay included', () => {
    expect(settingsError({ FINDINGS_CONFIG: '{nope' })).to.match(/FINDINGS_CONFIG: JSON of the shipscan:findings config/);
    expect(settingsError({ FINDINGS_CONFIG: JSON.stringify({ severityThreshold: 'SEVERE' }) })).to.match(/FINDINGS_CONFIG: severityThreshold: /);
    expect(settingsError({ FINDINGS_CONFIG: JSON.stringify({ email: { from: 'a@example.com', to: ['b@example.com'] } }) })).to.match(/FINDINGS_CONFIG: email\.smtp: on Azure email goes through an SMTP relay/);
    expect(settingsError({ FINDINGS_SMTP_USERNAME: 'u' })).to.match(/FINDINGS_SMTP_PASSWORD: FINDINGS_SMTP_USERNAME and FINDINGS_SMTP_PASSWORD go together/);
    expect(settingsError({ FINDINGS_SMTP_PASSWORD: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/findings-smtp-password/)', FINDINGS_SMTP_USERNAME: 'u' })).to.match(
      /FINDINGS_SMTP_PASSWORD: is an unresolved Key Vault reference/,
    );
    expect(settingsError({ FINDINGS_SLACK_WEBHOOK_URL: 'http://hooks.slack.com/services/x' })).to.match(/FINDINGS_SLACK_WEBHOOK_URL: an https URL/);
  });

  it('SECURITY_EVENTS_ENABLED false registers no onSecurityEvent (azure.securityEvents.enabled false)', () => {
    const names = (env: Record<string, string>) => functionsFromEnv({ ...BASE, ...env }).map((f) => `${f.name}:${f.queueName}`);
    expect(names({})).to.deep.equal(['onDeployment:deployments', 'pollScan:scan-polls', 'onSecurityEvent:security-events']);
    expect(names({ SECURITY_EVENTS_ENABLED: 'false' })).to.deep.equal(['onDeployment:deployments', 'pollScan:scan-polls']);
    expect(settingsError({ SECURITY_EVENTS_ENABLED: 'yes' })).to.match(/SECURITY_EVENTS_ENABLED: true or false/);
  });
});
