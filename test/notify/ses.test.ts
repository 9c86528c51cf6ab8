import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { SESv2Client, SESv2ServiceException, SendEmailCommand, TooManyRequestsException, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { simpleParser } from 'mailparser';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { SesEmailChannel, SesSendError } from '../../functions/aws/notify/ses-email';
import { MailRecorder } from '../../functions/notify/mail-recorder';
import { FindingRecorder, NotificationError } from '../../shared/findings/recorder';
import { MemoryFindingStore } from '../../shared/findings/memory-store';
import { escapeHtml } from '../../shared/notify/text';
import { HOSTILE, hostileNotice, openedNotice } from './support/notices';
import { observation } from '../findings/support/observations';

const FROM = 'security@example.com';
const TO = ['secops@example.com'];

describe('SES email channel (SESv2 SendEmail through Nodemailer, aws-sdk-client-mock)', () => {
  const client = new SESv2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' } });
  const ses = mockClient(client);
  beforeEach(() => ses.reset());
  after(() => ses.restore());

  function sentInput(): SendEmailCommandInput {
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).to.have.length(1);
    return calls[0]!.args[0].input;
  }

  it('sends the raw MIME message from the identity to the recipients, without a configuration set by default', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: '0100018c-abc' });
    const notice = hostileNotice();
    await new SesEmailChannel({ client, from: FROM, to: TO }).send(notice);
    const input = sentInput();
    expect(input.FromEmailAddress).to.equal(FROM);
    expect(input.Destination).to.deep.equal({ ToAddresses: TO });
    expect(input).to.not.have.property('ConfigurationSetName');
    expect(input).to.not.have.property('EmailTags');
    const raw = input.Content?.Raw?.Data;
    expect(raw).to.be.instanceOf(Uint8Array);
    const parsed = await simpleParser(Buffer.from(raw!));
    expect(parsed.subject).to.match(/^\[shipscan\] CRITICAL opened: Security group open to the internet on tcp\/22/);
    expect(String(parsed.html)).to.include(escapeHtml(HOSTILE.name));
    expect(String(parsed.html)).to.not.include('<script');
    expect(parsed.text).to.include('Remove the rule or narrow its source range.');
    expect(parsed.headers.get('x-shipscan-finding-id')).to.equal(notice.finding.id);
  });

  it('names the configuration set and tags the message when one is configured', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });
    await new SesEmailChannel({ client, from: FROM, to: TO, configurationSet: 'shipscan-findings' }).send(openedNotice());
    const input = sentInput();
    expect(input.ConfigurationSetName).to.equal('shipscan-findings');
    expect(input.EmailTags).to.deep.equal([
      { Name: 'severity', Value: 'CRITICAL' },
      { Name: 'category', Value: 'activity' },
      { Name: 'rule', Value: 'aws_ec2_open-ingress' },
    ]);
  });

  it('throttling surfaces as a retryable error naming the identity and the cause', async () => {
    ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: {} }));
    let error: unknown;
    try {
      await new SesEmailChannel({ client, from: FROM, to: TO }).send(openedNotice());
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(SesSendError);
    const e = error as SesSendError;
    expect(e.message).to.include(`SES SendEmail from ${FROM} failed: TooManyRequestsException: Maximum sending rate exceeded.`);
    expect(e.message).to.include('1 message a second');
    expect(e.retryable).to.equal(true);
  });

  it('AccessDenied names the identity, the configuration set and the permission it lacks', async () => {
    const message = `User: arn:aws:sts::123456789012:assumed-role/shipscan-security-events/fn is not authorized to perform: ses:SendEmail on resource: arn:aws:ses:eu-west-1:123456789012:configuration-set/shipscan-findings`;
    // SESv2 models no AccessDeniedException class: IAM denials arrive as a generic service exception by that name.
    ses.on(SendEmailCommand).rejects(new SESv2ServiceException({ name: 'AccessDeniedException', $fault: 'client', message, $metadata: { httpStatusCode: 403 } }));
    let error: unknown;
    try {
      await new SesEmailChannel({ client, from: FROM, to: TO, configurationSet: 'shipscan-findings' }).send(openedNotice());
    } catch (e) {
      error = e;
    }
    const e = error as SesSendError;
    expect(e).to.be.instanceOf(SesSendError);
    expect(e.errorName).to.equal('AccessDeniedException');
    expect(e.message).to.include(`from ${FROM} with configuration set shipscan-findings failed: AccessDeniedException: ${message}`);
    expect(e.message).to.include('ses:SendEmail on the identity and on the configuration set');
    expect(e.retryable).to.equal(false);
  });

  it('a failed send is retried by the next delivery through the FindingRecorder, then sent once', async () => {
    ses.on(SendEmailCommand).rejectsOnce(new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: {} })).resolves({ MessageId: 'm-3' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-ses-'));
    try {
      const recorder = new MailRecorder(dir);
      const findings = () =>
        new FindingRecorder({
          store,
          channels: [new SesEmailChannel({ client, from: FROM, to: TO, recorder })],
          policy: { severityThreshold: 'HIGH', notifyOnResolve: false, mode: 'immediate' },
          suppressions: [],
          persistTouches: true,
        });
      const store = new MemoryFindingStore();
      let error: unknown;
      try {
        await findings().record([observation()]);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(NotificationError);
      expect((error as Error).message).to.include('email (SES SendEmail from security@example.com failed: TooManyRequestsException');
      expect(await readdir(dir), 'nothing recorded for a send that failed').to.deep.equal([]);
      await findings().record([observation()]);
      await findings().record([observation()]);
      expect(ses.commandCalls(SendEmailCommand)).to.have.length(2);
      expect(await readdir(dir)).to.have.length(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
