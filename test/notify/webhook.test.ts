import { expect } from 'chai';
import { inspect } from 'node:util';
import { deliverWebhook, redactWebhookUrl, WebhookChannel, WebhookError } from '../../functions/notify/webhook';
import { startReceiver, type Receiver } from './support/http';
import { hostileNotice, openedNotice } from './support/notices';

const SLACK_PATH = '/services/T0SECRET/B0SECRET/xoxSecretToken123456';
const CONNECTOR_PATH = '/webhookb2/1234@5678/IncomingWebhook/abcdSecretConnector/ef01';
const WORKFLOW_PATH = '/workflows/7c1dSecretWorkflow/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SigSecretValue123';
const fast = { attempts: 2, baseDelayMs: 10, timeoutMs: 2000 };

async function failure(fn: () => Promise<unknown>): Promise<WebhookError> {
  try {
    await fn();
  } catch (error) {
    expect(error).to.be.instanceOf(WebhookError);
    return error as WebhookError;
  }
  throw new Error('expected a WebhookError');
}

function expectNoSecret(text: string): void {
  for (const secret of ['T0SECRET', 'xoxSecretToken123456', 'abcdSecretConnector', '7c1dSecretWorkflow', 'SigSecretValue123', 'sig=']) expect(text).to.not.include(secret);
}

describe('webhook channels against a real HTTP receiver on loopback', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('Slack: posts { text, blocks } as JSON', async () => {
    await new WebhookChannel({ kind: 'slack', url: `${receiver.base}${SLACK_PATH}` }).send(hostileNotice());
    expect(receiver.posts).to.have.length(1);
    const post = receiver.posts[0]!;
    expect(post.path).to.equal(SLACK_PATH);
    expect(post.contentType).to.equal('application/json');
    const body = post.body as { text: string; blocks: { type: string }[] };
    expect(Object.keys(body)).to.deep.equal(['text', 'blocks']);
    expect(body.text).to.include('CRITICAL opened: Security group open to the internet on tcp/22');
    expect(JSON.stringify(body)).to.not.include('<script');
  });

  it('Teams connector: posts { text } only', async () => {
    await new WebhookChannel({ kind: 'teams', url: `${receiver.base}${CONNECTOR_PATH}` }).send(openedNotice());
    const body = receiver.posts[0]!.body as Record<string, string>;
    expect(Object.keys(body)).to.deep.equal(['text']);
    expect(body['text']).to.include('**CRITICAL opened: Security group open to the internet on tcp/22**');
  });

  it('Teams Workflows: posts an Adaptive Card message (202 Accepted is success)', async () => {
    receiver.respond = () => ({ status: 202 });
    await new WebhookChannel({ kind: 'teams', url: `${receiver.base}${WORKFLOW_PATH}` }).send(openedNotice());
    const body = receiver.posts[0]!.body as { type: string; attachments: { contentType: string; content: { type: string } }[] };
    expect(body.type).to.equal('message');
    expect(body.attachments[0]!.contentType).to.equal('application/vnd.microsoft.card.adaptive');
    expect(body.attachments[0]!.content.type).to.equal('AdaptiveCard');
  });

  it('a 500 is retried, then throws naming the receiver but not its URL', async () => {
    receiver.respond = () => ({ status: 500, body: `upstream error for ${SLACK_PATH}` });
    const channel = new WebhookChannel({ kind: 'slack', url: `${receiver.base}${SLACK_PATH}`, delivery: fast });
    const error = await failure(() => channel.send(openedNotice()));
    expect(receiver.hits).to.equal(2);
    expect(error.message).to.equal(`slack webhook ${receiver.base}/[redacted] failed after 2 attempt(s): HTTP 500, the receiver failed (upstream error for [redacted])`);
    expect(error.status).to.equal(500);
    expect(error.retryable).to.equal(true);
    expectNoSecret(`${error.message}\n${error.stack}`);
  });

  it('a 4xx (wrong or revoked URL) throws at once with a clear message', async () => {
    receiver.respond = () => ({ status: 404, body: 'no_service' });
    const error = await failure(() => new WebhookChannel({ kind: 'slack', url: `${receiver.base}${SLACK_PATH}`, delivery: fast }).send(openedNotice()));
    expect(receiver.hits).to.equal(1);
    expect(error.message).to.include('HTTP 404, the webhook URL is wrong or was revoked (no_service)');
    expect(error.retryable).to.equal(false);
    expectNoSecret(error.message);
  });

  it('a receiver that never answers times out, and the URL stays out of the error', async () => {
    receiver.respond = () => undefined;
    const started = Date.now();
    const error = await failure(() => new WebhookChannel({ kind: 'teams', url: `${receiver.base}${WORKFLOW_PATH}`, delivery: { attempts: 1, timeoutMs: 300 } }).send(openedNotice()));
    expect(Date.now() - started).to.be.lessThan(3000);
    expect(error.message).to.include('failed after 1 attempt(s): timed out after 300 ms');
    expectNoSecret(error.message);
  });

  it('a closed port is a network error, retried, without the URL', async () => {
    const base = receiver.base;
    await receiver.close();
    const error = await failure(() => deliverWebhook(`${base}${SLACK_PATH}`, { text: 'x' }, { label: 'slack webhook', ...fast }));
    expect(error.message).to.match(/failed after 2 attempt\(s\): /);
    expect(error.retryable).to.equal(true);
    expectNoSecret(error.message);
    receiver = await startReceiver();
  });

  it('honours Retry-After on 429, then succeeds', async () => {
    receiver.respond = (_req, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '0' } } : { status: 200, body: 'ok' });
    const result = await deliverWebhook(`${receiver.base}${SLACK_PATH}`, { text: 'x' }, { label: 'slack webhook', attempts: 3, baseDelayMs: 5000, timeoutMs: 2000 });
    expect(result).to.deep.equal({ status: 200, attempts: 2 });
  });

  it('a 3xx is not followed (a webhook never redirects; following would post the body elsewhere)', async () => {
    receiver.respond = () => ({ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } });
    const error = await failure(() => deliverWebhook(`${receiver.base}${SLACK_PATH}`, { text: 'x' }, { label: 'slack webhook', ...fast }));
    expect(receiver.hits).to.equal(1);
    expect(error.message).to.include('HTTP 302, the receiver redirected');
  });

  it('the channel shows only the redacted URL when logged or serialised; a bad URL is refused without echoing it', () => {
    const channel = new WebhookChannel({ kind: 'slack', url: `https://hooks.slack.com${SLACK_PATH}` });
    expectNoSecret([inspect(channel, { depth: 10, showHidden: true }), JSON.stringify(channel), String(channel)].join('\n'));
    expect(JSON.stringify(channel)).to.include('https://hooks.slack.com/[redacted]');
    expect(() => new WebhookChannel({ kind: 'slack', url: 'ftp://hooks.example.com/T0SECRET' })).to.throw(WebhookError, 'slack webhook URL is not an http(s) URL');
    expect(redactWebhookUrl(`https://prod-12.westeurope.logic.azure.com:443${WORKFLOW_PATH}`)).to.equal('https://prod-12.westeurope.logic.azure.com/[redacted]');
  });
});
