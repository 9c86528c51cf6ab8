import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { simpleParser } from 'mailparser';
import { SmtpEmailChannel, SmtpSendError } from '../../functions/notify/smtp-email';
import { MailRecorder, OutboxEmailChannel } from '../../functions/notify/mail-recorder';
import { escapeHtml } from '../../shared/notify/text';
import { captureOutput, startSmtpServer, type TestSmtpServer } from './support/smtp';
import { HOSTILE, hostileNotice, openedNotice } from './support/notices';

const FROM = 'security@example.com';
const TO = ['secops@example.com', 'oncall@example.org'];
const CREDENTIALS = { username: 'shipscan-relay-user', password: 'S3cr3t-relay-pa55word!' };

function base64Forms(): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [CREDENTIALS.password, b64(CREDENTIALS.password), b64(`\u0000${CREDENTIALS.username}\u0000${CREDENTIALS.password}`)];
}

describe('SMTP email channel against a real SMTP server on loopback', () => {
  let server: TestSmtpServer;
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-mail-'));
  });
  afterEach(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function channel(extra: Partial<ConstructorParameters<typeof SmtpEmailChannel>[0]> = {}) {
    return new SmtpEmailChannel({ from: FROM, to: TO, smtp: { host: server.host, port: server.port, secure: false }, plaintextLoopback: true, ...extra });
  }

  it('delivers one message: envelope, subject, HTML and text parts, finding headers, escaped values', async () => {
    server = await startSmtpServer();
    const notice = hostileNotice();
    await channel().send(notice);
    await server.waitFor(1);
    expect(server.received).to.have.length(1);
    const [mail] = server.received;
    expect(mail!.mailFrom).to.equal(FROM);
    expect(mail!.rcptTo).to.deep.equal(TO);
    const parsed = mail!.parsed;
    expect(parsed.subject).to.equal(`[shipscan] CRITICAL opened: Security group open to the internet on tcp/22 (sg-0abc"><script>alert('x')</script>)`);
    expect(parsed.from?.value[0]).to.deep.include({ address: FROM, name: 'shipscan' });
    expect(parsed.text).to.include('Opened at 2026-12-01T10:00:00.000Z.');
    expect(parsed.text).to.include(HOSTILE.actor);
    const html = String(parsed.html);
    expect(html).to.include(escapeHtml(HOSTILE.name));
    expect(html).to.not.include('<script');
    expect(html).to.not.include('<img');
    expect(parsed.headers.get('x-shipscan-finding-id')).to.equal(notice.finding.id);
    expect(parsed.headers.get('x-shipscan-severity')).to.equal('CRITICAL');
    expect(parsed.headers.get('auto-submitted')).to.equal('auto-generated');
    expect(parsed.messageId).to.equal(`<open.20261201100000000.${notice.finding.id}@example.com>`);
    expect(parsed.references).to.equal(`<${notice.finding.id}@example.com>`);
  });

  it('sends AUTH when credentials are given; the password is in no message, log, error or inspection', async () => {
    server = await startSmtpServer({ credentials: CREDENTIALS });
    const email = channel({ credentials: CREDENTIALS });
    const { error, output } = await captureOutput(() => email.send(openedNotice()));
    expect(error).to.equal(undefined);
    await server.waitFor(1);
    expect(server.auths).to.deep.equal([{ method: 'PLAIN', username: CREDENTIALS.username, password: CREDENTIALS.password }]);
    const raw = server.received[0]!.raw.toString('utf8');
    const seen = [raw, output, inspect(email, { depth: 10, showHidden: true }), JSON.stringify(email), String(email)].join('\n');
    for (const secret of base64Forms()) expect(seen).to.not.include(secret);
    expect(seen).to.not.include(CREDENTIALS.username);
  });

  it('an authentication failure names the relay and the problem, never the credentials', async () => {
    server = await startSmtpServer({ credentials: { username: CREDENTIALS.username, password: 'another-password' } });
    const { error, output } = await captureOutput(() => channel({ credentials: CREDENTIALS }).send(openedNotice()));
    expect(error).to.be.instanceOf(SmtpSendError);
    const e = error as SmtpSendError;
    expect(e.message).to.include(`via SMTP 127.0.0.1:${server.port}`);
    expect(e.message).to.include('authentication failed');
    expect(e.code).to.equal('EAUTH');
    expect(e.retryable).to.equal(false);
    expect(server.auths).to.have.length(1);
    const seen = [e.message, e.stack ?? '', inspect(e, { depth: 10, showHidden: true }), output].join('\n');
    for (const secret of base64Forms()) expect(seen).to.not.include(secret);
    // The test server echoes the user name in its refusal; it is redacted too.
    expect(seen).to.not.include(CREDENTIALS.username);
    expect(e.message).to.include('[redacted]');
    expect(server.received).to.have.length(0);
  });

  it('requires STARTTLS unless secure: a relay without it is refused before any credential is sent', async () => {
    server = await startSmtpServer({ credentials: CREDENTIALS });
    const strict = new SmtpEmailChannel({ from: FROM, to: TO, smtp: { host: server.host, port: server.port, secure: false }, credentials: CREDENTIALS });
    let error: unknown;
    try {
      await strict.send(openedNotice());
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(SmtpSendError);
    expect((error as Error).message).to.match(/TLS failed.*\[ETLS\]/);
    expect(server.auths).to.have.length(0);
    expect(server.received).to.have.length(0);
  });

  it('plain text is refused for any host but loopback', () => {
    expect(() => new SmtpEmailChannel({ from: FROM, to: TO, smtp: { host: 'smtp.example.com', port: 587, secure: false }, plaintextLoopback: true })).to.throw(SmtpSendError, /only allowed to a loopback address/);
  });

  it('a refused recipient: the others get the email, the refusal is reported, nothing is retried', async () => {
    server = await startSmtpServer({ reject: (rcpt) => (rcpt.endsWith('@example.org') ? 'mailbox unavailable' : undefined) });
    const rejected: string[][] = [];
    await channel({ onRejected: (recipients) => rejected.push(recipients) }).send(openedNotice());
    await server.waitFor(1);
    expect(server.received[0]!.rcptTo).to.deep.equal(['secops@example.com']);
    expect(rejected).to.deep.equal([['oncall@example.org']]);
  });

  it('every recipient refused, or a closed port: an error naming the relay (the recorder retries the channel)', async () => {
    server = await startSmtpServer({ reject: () => 'mailbox unavailable' });
    let error: unknown;
    try {
      await channel().send(openedNotice());
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(SmtpSendError);
    expect((error as SmtpSendError).code).to.equal('EENVELOPE');
    expect((error as SmtpSendError).message).to.include('the relay refused the sender or a recipient');
    const port = server.port;
    await server.close();
    let closed: unknown;
    try {
      await new SmtpEmailChannel({ from: FROM, to: TO, smtp: { host: '127.0.0.1', port, secure: false }, plaintextLoopback: true, timeouts: { connectionMs: 2000 } }).send(openedNotice());
    } catch (e) {
      closed = e;
    }
    expect(closed).to.be.instanceOf(SmtpSendError);
    expect((closed as SmtpSendError).message).to.include(`via SMTP 127.0.0.1:${port} failed`);
    expect((closed as SmtpSendError).retryable).to.equal(true);
  });

  it('writes what it sent as .eml and .html when given a MailRecorder', async () => {
    server = await startSmtpServer();
    const recorder = new MailRecorder(dir);
    const notice = hostileNotice();
    await channel({ recorder }).send(notice);
    await server.waitFor(1);
    const files = (await readdir(dir)).sort();
    expect(files).to.deep.equal([`20261201100000000-critical-open-${notice.finding.id.slice(0, 16)}.eml`, `20261201100000000-critical-open-${notice.finding.id.slice(0, 16)}.html`]);
    const eml = await readFile(path.join(dir, files[0]!));
    const parsed = await simpleParser(eml);
    expect(parsed.subject).to.equal(server.received[0]!.parsed.subject);
    expect(parsed.messageId).to.equal(server.received[0]!.parsed.messageId);
    expect(parsed.text).to.equal(server.received[0]!.parsed.text);
    const html = await readFile(path.join(dir, files[1]!), 'utf8');
    expect(html).to.match(/^<!DOCTYPE html>/);
    expect(html).to.equal(server.received[0]!.parsed.html);
    expect(recorder.recorded).to.have.length(1);
    expect(recorder.recorded[0]).to.deep.include({ channel: 'email', to: TO, findingId: notice.finding.id, transition: 'open' });
  });

  it('a recorder that fails does not fail the send (the email went out; a throw would send it again)', async () => {
    server = await startSmtpServer();
    const errors: Error[] = [];
    const failing = { record: () => Promise.reject(new Error('disk full')) };
    await channel({ recorder: failing, onRecordError: (e) => errors.push(e) }).send(openedNotice());
    await server.waitFor(1);
    expect(errors.map((e) => e.message)).to.deep.equal(['disk full']);
    expect(server.received).to.have.length(1);
  });

  it('OutboxEmailChannel writes the message without a relay, and the same notice replaces its files', async () => {
    const recorder = new MailRecorder(dir);
    const outbox = new OutboxEmailChannel({ from: FROM, to: TO, sink: recorder });
    await outbox.send(openedNotice());
    await outbox.send(openedNotice());
    expect(await readdir(dir)).to.have.length(2);
    expect(recorder.recorded).to.have.length(1);
    const parsed = await simpleParser(await readFile(recorder.recorded[0]!.eml));
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value.map((a) => a.address) : []).to.deep.equal(TO);
  });
});
