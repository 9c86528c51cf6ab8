import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { resourceKey, type Finding } from '../../shared/findings/finding';
import { resourceKeyOf } from '../../shared/rules/azure';
import { TableFindingStore } from '../../functions/azure/findings-store';
import { SECURITY_EVENT, SECURITY_FINDING_EVENT } from '../../functions/azure/telemetry-names';
import type { SecurityEventOutcome } from '../../functions/azure/security-events';
import { armEventVariant } from '../../local/arm-stub/arm-events';
import { loadCorpus } from '../support/corpus';
import { startSmtpServer, type TestSmtpServer } from '../notify/support/smtp';
import { startReceiver, type Receiver } from '../notify/support/http';
import { fixture } from '../rules/azure/support';
import { offMachineFetches, RESOURCE_GROUP, startStack, SUBSCRIPTION, type AzureStack } from './support/stack';

/**
 * onSecurityEvent end to end on loopback: Azurite (queue, Findings tables, error records), the ARM stub
 * answering the GET of the resource, a real SMTP server (smtp-server, read with mailparser) and a real
 * webhook receiver, driven by the queue pump as the Functions host drives it.
 */

const EG_WRITE = 'azure/eventgrid-resourcewritesuccess-storage.azuredocs.json';
const SMTP_USER = 'relay-user-7c1e';
const SMTP_PASSWORD = 'relay-password-under-test-90ab';
const ACTOR = 'alice@contoso.example';
type Json = Record<string, unknown>;

function nsgId(name: string): string {
  return `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Network/networkSecurityGroups/${name}`;
}

/** The NSG of the REST spec example under another id, with these security rules (variants of its rule1). */
function nsg(id: string, rules: { name: string; port: string; source: string }[]): { id: string } & Json {
  const body = fixture('nsg-get');
  const template = ((body.properties as Json).securityRules as Json[])[0]!;
  body.id = id;
  body.name = id.split('/').pop();
  (body.properties as Json).securityRules = rules.map((r, i) => ({
    ...structuredClone(template),
    name: r.name,
    id: `${id}/securityRules/${r.name}`,
    properties: { ...(structuredClone(template.properties) as Json), protocol: 'Tcp', destinationPortRange: r.port, sourceAddressPrefix: r.source, priority: 100 + i },
  }));
  return body as { id: string } & Json;
}

const OPEN_SSH = { name: 'allow-ssh', port: '22', source: 'Internet' };
const WEB = { name: 'allow-https', port: '443', source: '*' };

let clock = Date.parse('2026-03-01T10:00:00Z');
/** Event times that only go forward, so every new event is later than the last one the findings saw. */
const nextTime = () => new Date((clock += 60_000)).toISOString();

function event(operationName: string, resourceUri: string, options: { eventTime?: string; eventId?: string } = {}): unknown {
  return armEventVariant(loadCorpus(EG_WRITE), {
    operationName,
    resourceUri,
    eventId: options.eventId ?? randomUUID(),
    eventTime: options.eventTime ?? nextTime(),
    subscriptionId: SUBSCRIPTION,
    upn: ACTOR,
    ipAddress: '203.0.113.7',
  });
}

const write = (id: string, options?: { eventTime?: string; eventId?: string }) => event('Microsoft.Network/networkSecurityGroups/write', id, options);
const remove = (id: string) => event('Microsoft.Network/networkSecurityGroups/delete', id);

describe('onSecurityEvent on Azurite + ARM stub + SMTP + webhook', function () {
  this.timeout(120_000);
  let stack: AzureStack;
  let smtp: TestSmtpServer;
  let hook: Receiver;
  let store: TableFindingStore;

  before(async () => {
    smtp = await startSmtpServer({ credentials: { username: SMTP_USER, password: SMTP_PASSWORD } });
    hook = await startReceiver();
    stack = await startStack({
      env: {
        FINDINGS_CONFIG: JSON.stringify({
          severityThreshold: 'HIGH',
          email: { from: 'shipscan@example.com', to: ['secops@example.com'], smtp: { host: smtp.host, port: smtp.port, secure: false } },
        }),
        // As the platform hands over resolved Key Vault references.
        FINDINGS_SMTP_USERNAME: SMTP_USER,
        FINDINGS_SMTP_PASSWORD: SMTP_PASSWORD,
        FINDINGS_SLACK_WEBHOOK_URL: `${hook.base}/services/T000/B000/slack-secret-under-test`,
      },
    });
    store = new TableFindingStore(stack.table('Findings'), stack.table('FindingsByState'));
  });
  after(async () => {
    await stack?.stop();
    await smtp?.close();
    await hook?.close();
  });

  async function deliver(message: unknown, copies = 1): Promise<void> {
    const text = Buffer.from(JSON.stringify(message)).toString('base64');
    const queue = stack.queues.getQueueClient('security-events');
    await Promise.all(Array.from({ length: copies }, () => queue.sendMessage(text)));
    await stack.pump.drain(60_000);
  }

  const findingsOf = async (id: string): Promise<Finding[]> =>
    (await store.listByResource(resourceKey('azure', { subscription: SUBSCRIPTION }, resourceKeyOf(id)))).map((r) => r.finding);
  const transitionsOf = (resourceId: string) =>
    stack.telemetry.events.filter((e) => e.name === SECURITY_FINDING_EVENT && e.properties.ResourceId === resourceKeyOf(resourceId)).map((e) => e.properties);
  const mailsAbout = (name: string) => smtp.received.filter((m) => (m.parsed.text ?? '').includes(name));
  const invocationsOf = () => stack.pump.invocations.filter((i) => i.function === 'onSecurityEvent');

  it('an NSG opened to SSH from the internet: one ACTIVE CRITICAL finding, one SecurityFinding event, one email through the relay', async () => {
    const id = nsgId('web-nsg');
    stack.arm.put(nsg(id, [WEB, OPEN_SSH]));
    await deliver(write(id));

    const findings = await findingsOf(id);
    expect(findings.map((f) => [f.ruleId, f.subject, f.state, f.severity])).to.deep.equal([['azure.network.nsg-open-admin-port', 'allow-ssh', 'ACTIVE', 'CRITICAL']]);
    expect(findings[0]!.source).to.include({ trigger: 'event', actor: ACTOR, sourceIp: '203.0.113.7', eventName: 'Microsoft.Network/networkSecurityGroups/write' });
    expect(transitionsOf(id).map((t) => [t.Transition, t.State, t.Severity, t.Actor])).to.deep.equal([['open', 'ACTIVE', 'CRITICAL', ACTOR]]);

    // The GET used the rule's api-version, with the identity's bearer token.
    const get = stack.arm.requests.filter((r) => r.path.toLowerCase() === id.toLowerCase());
    expect(get.map((r) => [r.apiVersion, r.authorized, r.status])).to.deep.equal([['2024-05-01', true, 200]]);

    await smtp.waitFor(1);
    const mails = mailsAbout('web-nsg');
    expect(mails).to.have.length(1);
    const mail = mails[0]!;
    expect(mail.mailFrom).to.equal('shipscan@example.com');
    expect(mail.rcptTo).to.deep.equal(['secops@example.com']);
    expect(mail.parsed.subject).to.match(/CRITICAL/);
    expect(mail.parsed.headers.get('x-shipscan-rule-id')).to.equal('azure.network.nsg-open-admin-port');
    expect(mail.parsed.text).to.include(ACTOR);
    expect(mail.parsed.html || '').to.include('allow-ssh');
    // The relay was logged into with the credentials the settings carried (Key Vault references in Azure).
    expect(smtp.auths.some((a) => a.username === SMTP_USER && a.password === SMTP_PASSWORD)).to.equal(true);
    expect(hook.taken().filter((p) => JSON.stringify(p.body).includes('web-nsg'))).to.have.length(1);
    expect(stack.telemetry.events.filter((e) => e.name === SECURITY_EVENT && e.properties.ResourceId === resourceKeyOf(id)).map((e) => e.properties.Outcome)).to.deep.equal(['Evaluated']);
  });

  it('the same NSG fixed by a later write (the rule removed): the finding is RESOLVED as fixed, no second email', async () => {
    const id = nsgId('web-nsg');
    stack.arm.put(nsg(id, [WEB]));
    await deliver(write(id));
    const [finding] = await findingsOf(id);
    expect(finding).to.include({ state: 'RESOLVED', resolvedReason: 'fixed' });
    expect(transitionsOf(id).map((t) => t.Transition)).to.deep.equal(['open', 'resolve']);
    // notifyOnResolve is off: only the opening was told.
    expect(mailsAbout('web-nsg')).to.have.length(1);
  });

  it('an NSG deleted: its open findings are RESOLVED with "resource deleted"', async () => {
    const id = nsgId('jump-nsg');
    stack.arm.put(nsg(id, [OPEN_SSH]));
    await deliver(write(id));
    expect((await findingsOf(id)).map((f) => f.state)).to.deep.equal(['ACTIVE']);
    stack.arm.remove(id);
    await deliver(remove(id));
    const [finding] = await findingsOf(id);
    expect(finding).to.include({ state: 'RESOLVED', resolvedReason: 'resource deleted' });
    expect(transitionsOf(id).map((t) => [t.Transition, t.ResolvedReason])).to.deep.equal([
      ['open', undefined],
      ['resolve', 'resource deleted'],
    ]);
  });

  it('a 404 on the GET after a write: the resource is gone, its findings resolved; nothing retried', async () => {
    const id = nsgId('short-lived-nsg');
    stack.arm.put(nsg(id, [OPEN_SSH]));
    await deliver(write(id));
    stack.arm.remove(id);
    const before = invocationsOf().length;
    await deliver(write(id));
    const [finding] = await findingsOf(id);
    expect(finding).to.include({ state: 'RESOLVED', resolvedReason: 'resource deleted' });
    const runs = invocationsOf().slice(before);
    expect(runs.map((r) => [r.ok, r.dequeueCount])).to.deep.equal([[true, 1]]);
    expect((runs[0]!.result as SecurityEventOutcome).events.map((e) => e.outcome)).to.deep.equal(['ResourceGone']);
    // A write of something that never existed for this identity: gone, nothing to resolve.
    await deliver(write(nsgId('never-there')));
    expect(await findingsOf(nsgId('never-there'))).to.deep.equal([]);
  });

  it('a 429 from ARM (Retry-After 1 s) is retried within the invocation; a 403 fails the delivery so the queue retries it', async () => {
    const id = nsgId('throttled-nsg');
    stack.arm.put(nsg(id, [OPEN_SSH]));
    stack.arm.failNext(1, 429, { 'retry-after': '1' });
    const before = invocationsOf().length;
    await deliver(write(id));
    expect(invocationsOf().slice(before).map((r) => r.ok)).to.deep.equal([true]);
    expect((await findingsOf(id)).map((f) => f.state)).to.deep.equal(['ACTIVE']);

    const denied = nsgId('denied-nsg');
    stack.arm.put(nsg(denied, [OPEN_SSH]));
    // A 403 (the role missing, say) is not retried within the invocation: the first delivery fails, the next reads.
    stack.arm.failNext(1, 403);
    await deliver(write(denied));
    const runs = invocationsOf().slice(before + 1);
    expect(runs.map((r) => [r.ok, r.dequeueCount])).to.deep.equal([
      [false, 1],
      [true, 2],
    ]);
    expect(runs[0]!.error).to.match(/HTTP 403/);
    expect((await findingsOf(denied)).map((f) => f.state)).to.deep.equal(['ACTIVE']);
  });

  it('10 parallel deliveries of one event: exactly one transition and one notification', async () => {
    const id = nsgId('burst-nsg');
    stack.arm.put(nsg(id, [OPEN_SSH]));
    const before = invocationsOf().length;
    await deliver(write(id), 10);
    const runs = invocationsOf().slice(before);
    expect(runs).to.have.length(10);
    expect(runs.every((r) => r.ok)).to.equal(true);
    expect(transitionsOf(id).map((t) => t.Transition)).to.deep.equal(['open']);
    await smtp.waitFor(smtp.received.length);
    // Give a second sender time to show itself, should there be one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsAbout('burst-nsg')).to.have.length(1);
    expect(hook.taken().filter((p) => JSON.stringify(p.body).includes('burst-nsg'))).to.have.length(1);
  });

  it('a malformed message: one record under errors/messages, one Malformed event, the message not retried', async () => {
    const before = invocationsOf().length;
    const queue = stack.queues.getQueueClient('security-events');
    const sent = await queue.sendMessage(Buffer.from('{"this is": not json').toString('base64'));
    await stack.pump.drain(60_000);
    const runs = invocationsOf().slice(before);
    expect(runs.map((r) => [r.ok, r.dequeueCount])).to.deep.equal([[true, 1]]);
    const blob = stack.blobs.getContainerClient('scan-results').getBlobClient(`errors/messages/${sent.messageId}.json`);
    const record = JSON.parse((await blob.downloadToBuffer()).toString('utf8')) as Json;
    expect(record).to.include({ messageId: sent.messageId, queue: 'security-events' });
    expect(String(record.reason)).to.match(/not JSON/);
    const malformed = stack.telemetry.events.filter((e) => e.name === SECURITY_EVENT && e.properties.MessageId === sent.messageId);
    expect(malformed.map((e) => [e.properties.Outcome, e.properties.Count])).to.deep.equal([['Malformed', '1']]);

    // Events of one message that lead nowhere are recorded once for the message.
    const mixed = [{ eventType: 'Microsoft.Resources.ResourceWriteSuccess', id: 'x' }, 'not an event', ...(write(nsgId('web-nsg')) as unknown[]), { eventType: 'Some.Other.Event', id: 'y', subject: 's', data: {} }];
    const mixedSent = await queue.sendMessage(Buffer.from(JSON.stringify(mixed)).toString('base64'));
    await stack.pump.drain(60_000);
    const mixedRecord = JSON.parse((await stack.blobs.getContainerClient('scan-results').getBlobClient(`errors/messages/${mixedSent.messageId}.json`).downloadToBuffer()).toString('utf8')) as Json;
    expect(mixedRecord).to.include({ events: 4, malformed: 2 });
    const outcomes = stack.telemetry.events.filter((e) => e.name === SECURITY_EVENT && e.properties.MessageId === mixedSent.messageId).map((e) => `${e.properties.Outcome}:${e.properties.Count}`);
    expect(outcomes.sort()).to.deep.equal(['Evaluated:1', 'Ignored:1', 'Malformed:2']);
  });

  it('a channel that throws: the delivery is retried, the webhook sent again alone, the email never twice', async () => {
    const id = nsgId('flaky-nsg');
    stack.arm.put(nsg(id, [OPEN_SSH]));
    // Every attempt of the first send fails (the channel tries 3 times), the next delivery's succeeds.
    let failures = 0;
    hook.respond = () => (failures < 3 ? ((failures += 1), { status: 503, body: 'busy' }) : { status: 200, body: 'ok' });
    const before = invocationsOf().length;
    try {
      await deliver(write(id));
    } finally {
      hook.respond = () => ({ status: 200, body: 'ok' });
    }
    const runs = invocationsOf().slice(before);
    expect(runs.map((r) => [r.ok, r.dequeueCount])).to.deep.equal([
      [false, 1],
      [true, 2],
    ]);
    expect(runs[0]!.error).to.match(/notification of finding .* failed on slack/);
    expect(runs[0]!.error).to.not.include('slack-secret-under-test');
    expect(mailsAbout('flaky-nsg')).to.have.length(1);
    expect(hook.taken().filter((p) => JSON.stringify(p.body).includes('flaky-nsg'))).to.have.length(1);
    // The transition was reported when it was written, not again on the redelivery.
    expect(transitionsOf(id).map((t) => t.Transition)).to.deep.equal(['open']);
  });

  it('fetched nothing off this machine, and no log line carries a secret', () => {
    expect(offMachineFetches).to.deep.equal([]);
    const logs = stack.logs.join('\n');
    for (const secret of [SMTP_PASSWORD, 'slack-secret-under-test']) expect(logs).to.not.include(secret);
  });
});
