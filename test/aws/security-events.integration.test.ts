import { expect } from 'chai';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendEmailCommand, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { simpleParser } from 'mailparser';
import { createSecurityEventsHandler } from '../../functions/aws/security-events/handler';
import { S3UnprocessableSink, UNPROCESSABLE_SCHEMA, type UnprocessableRecord } from '../../functions/aws/security-events/unprocessable';
import type { PostureHook } from '../../functions/aws/security-events/pipeline';
import { cloudTrailEnvelope } from '../../local/start/kinds/aws-routing';
import { FindingRecorder } from '../../shared/findings/recorder';
import { DEFAULT_ALLOW_LISTS } from '../../shared/rules/allow-lists';
import { AWS_ACTIVITY_DETECTORS, createRegistry } from '../../shared/rules/aws';
import type { ActivityDetector } from '../../shared/rules/types';
import { loadCorpus } from '../support/corpus';
import { derive, failed, sample, type Json } from '../rules/aws/support/records';
import { FROM, NOTIFY_SECRET, SecurityEventsHarness, TO, TOPIC } from './support/security-events';

/**
 * The security-events function end to end on dynalite and s3rver: corpus records in, findings stored,
 * notices sent once, metrics and logs out; unprocessable events recorded and let go; detector errors
 * isolated; failures retried by SQS and never sent twice.
 */

/** The corpus StopLogging record as EventBridge delivers it to the queue. */
function stopLogging(): Json {
  return cloudTrailEnvelope(loadCorpus<Json[]>('aws/cloudtrail-raw-StopLogging.stratus.json')[0]!);
}
const STOP_LOGGING_TRAIL = 'arn:aws:cloudtrail:apiso-centralnorth-2r:143434273843:trail/stratus-red-team-ct-stop-trail-buykxbqejv';
const STOP_LOGGING_ACTOR = 'arn:aws:iam::143434273843:user/christophe';

describe('security-events function (dynalite + s3rver, SNS / SES / Secrets Manager mocked)', function () {
  this.timeout(60_000);
  const h = new SecurityEventsHarness();
  before(() => h.start());
  after(() => h.stop());
  beforeEach(() => h.reset());

  it('records a corpus StopLogging as an ACTIVE finding with rule, resource and actor, and tells SNS and SES once', async () => {
    const { response } = await h.invoke(h.handler(), [stopLogging()]);
    expect(response.batchItemFailures).to.deep.equal([]);
    const findings = await h.findings();
    expect(findings.map((f) => [f.finding.ruleId, f.finding.state, f.finding.severity, f.finding.resource.id, f.finding.source.actor])).to.deep.equal([
      ['aws.cloudtrail.logging-stopped', 'ACTIVE', 'HIGH', STOP_LOGGING_TRAIL, STOP_LOGGING_ACTOR],
    ]);
    expect(findings[0]!.finding.source).to.deep.include({ trigger: 'event', eventName: 'StopLogging', eventId: '10163ed2-2253-469d-a5ee-cbc6651f8934', sourceIp: '86.245.153.234' });
    expect(findings[0]!.notification).to.deep.include({ state: 'SENT', sentChannels: ['sns', 'email'] });

    const [published] = h.published();
    expect(published?.TopicArn).to.equal(TOPIC);
    expect(published?.MessageAttributes?.['ruleId']?.StringValue).to.equal('aws.cloudtrail.logging-stopped');
    expect(published?.MessageAttributes?.['severity']?.StringValue).to.equal('HIGH');
    const emails = h.emails();
    expect(emails).to.have.length(1);
    expect(emails[0]).to.deep.include({ FromEmailAddress: FROM, Destination: { ToAddresses: TO } });
    const mail = await simpleParser(Buffer.from(emails[0]!.Content!.Raw!.Data!));
    expect(mail.subject).to.match(/^\[shipscan\] HIGH opened: /);
    expect(mail.text).to.include(STOP_LOGGING_ACTOR);
    expect(mail.headers.get('x-shipscan-rule-id')).to.equal('aws.cloudtrail.logging-stopped');

    expect(h.metricSum('FindingsOpened', { Severity: 'HIGH' })).to.equal(1);
    expect(h.metricSum('EventsEvaluated')).to.equal(1);
    expect(h.metricSum('DetectorErrors')).to.equal(0);
    const [processed] = h.logs('security event processed');
    expect(processed?.['transitions']).to.deep.equal([{ kind: 'open', ruleId: 'aws.cloudtrail.logging-stopped', severity: 'HIGH', findingId: findings[0]!.finding.id, notified: true }]);
  });

  it('reads every shape the queue may carry: envelopes, raw records and trail files of the corpus', async () => {
    const handler = h.handler();
    const trailFile = { Records: [...loadCorpus<Json[]>('aws/cloudtrail-raw-CreateAccessKey.stratus.json'), ...loadCorpus<Json[]>('aws/cloudtrail-raw-AuthorizeSecurityGroupIngress.stratus.json')] };
    const { response } = await h.invoke(handler, [sample('bucketPolicy'), sample('addPermission'), trailFile]);
    expect(response.batchItemFailures).to.deep.equal([]);
    const rules = (await h.findings()).map((f) => f.finding.ruleId).sort();
    expect(rules).to.deep.equal(['aws.ec2.sg-open-ingress', 'aws.iam.access-key-created', 'aws.lambda.public-permission', 'aws.s3.bucket-public-policy']);
    // One notice per transition at or above HIGH (the threshold): all four are.
    expect(h.published()).to.have.length(4);
    expect(h.emails()).to.have.length(4);
    expect(h.metricSum('FindingsOpened', { Severity: 'CRITICAL' })).to.equal(1);
    expect(h.metricSum('FindingsOpened', { Severity: 'HIGH' })).to.equal(3);
  });

  it('one event may yield several findings: an ingress rule open on IPv4 and IPv6 is two', async () => {
    const both = derive('sgItemsEnvelope', (record) => {
      const items = ((record.requestParameters as Json).ipPermissions as { items: Json[] }).items;
      items[0]!.ipRanges = { items: [{ cidrIp: '0.0.0.0/0' }] };
    });
    await h.invoke(h.handler(), [both]);
    const subjects = (await h.findings()).map((f) => f.finding.subject).sort();
    expect(subjects).to.deep.equal(['tcp/22-22 from 0.0.0.0/0', 'tcp/22-22 from ::/0']);
    expect(h.emails()).to.have.length(2);
    expect(h.outcomes[0]?.outcome.kind === 'processed' && h.outcomes[0].outcome.transitions.map((t) => t.kind)).to.deep.equal(['open', 'open']);
  });

  it('notifies below the threshold not at all, and resolves what the undoing call passes (StartLogging)', async () => {
    const handler = h.handler({ settings: { severityThreshold: 'CRITICAL', notifyOnResolve: true } });
    await h.invoke(handler, [stopLogging()]);
    expect(h.published()).to.deep.equal([]);
    const start = derive(stopLogging(), (record) => {
      record.eventName = 'StartLogging';
      record.eventID = 'start-1';
      record.eventTime = '2024-07-31T14:00:00Z';
    });
    await h.invoke(handler, [start]);
    const [finding] = await h.findings();
    expect(finding?.finding.state).to.equal('RESOLVED');
    expect(h.metricSum('FindingsResolved', { Severity: 'HIGH' })).to.equal(1);
    // Still below the CRITICAL threshold: no notice for the resolve either.
    expect(h.published()).to.deep.equal([]);
  });

  it('a failed call changes nothing: no finding, no notice, no unprocessable record', async () => {
    const { response } = await h.invoke(h.handler(), [failed(stopLogging())]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(await h.findings()).to.deep.equal([]);
    expect(await h.unprocessableKeys()).to.deep.equal([]);
    expect(h.published()).to.deep.equal([]);
  });

  describe('unprocessable events are recorded, counted, logged and let go', () => {
    it('a body that is not JSON: MalformedEvents, a redacted record in the results bucket, the record succeeds', async () => {
      const body = 'password=hunter2 and not JSON';
      const { response, records } = await h.invoke(h.handler(), [body]);
      expect(response.batchItemFailures).to.deep.equal([]);
      expect(h.metricSum('MalformedEvents')).to.equal(1);
      const keys = await h.unprocessableKeys();
      expect(keys).to.deep.equal([`security-events/unprocessable/${new Date().toISOString().slice(0, 10)}/${records[0]!.messageId}.json`]);
      const text = await h.readObject(keys[0]!);
      const record = JSON.parse(text) as UnprocessableRecord;
      expect(record).to.deep.include({ schema: UNPROCESSABLE_SCHEMA, messageId: records[0]!.messageId, receiveCount: 1, reasons: ['malformed'], unknown: [] });
      expect(record.problems).to.deep.equal([{ path: '', expected: 'a JSON message', got: `${body.length} characters that are not JSON` }]);
      expect(record.body).to.deep.include({ bytes: body.length, json: false });
      expect(text).to.not.include('hunter2');
      expect(h.output.join('')).to.not.include('hunter2');
      const [warning] = h.logs('unprocessable security event recorded; the message is not retried');
      expect(warning?.['location']).to.equal(`s3://${h.bucket}/${keys[0]}`);
    });

    it("a record the parser refuses keeps only the routing facts, never the request, the response or the caller's keys", async () => {
      const secretish = derive(stopLogging(), (record) => {
        delete record.recipientAccountId;
        record.userIdentity = { type: 'IAMUser', accessKeyId: 'AKIAEXAMPLESECRETKEY', accountId: 'not-an-account' };
        record.requestParameters = { name: 'trail', password: 'hunter2' };
      });
      (secretish as Json).account = 'nope';
      await h.invoke(h.handler(), [secretish]);
      const [key] = await h.unprocessableKeys();
      const text = await h.readObject(key!);
      const record = JSON.parse(text) as UnprocessableRecord;
      expect(record.problems.map((p) => p.path)).to.deep.equal(['detail']);
      expect(record.body.keys).to.deep.equal(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);
      expect(record.body).to.deep.include({ source: 'aws.cloudtrail', detailType: 'AWS API Call via CloudTrail', json: true });
      for (const leaked of ['hunter2', 'AKIAEXAMPLESECRETKEY', 'requestParameters']) expect(text, leaked).to.not.include(leaked);
      expect(h.metricSum('MalformedEvents')).to.equal(1);
    });

    it('an event no detector handles (a corpus CreateBucket): UnknownEvents, its routing facts recorded, no finding', async () => {
      const bucket = loadCorpus<Json>('aws/eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json');
      const { response } = await h.invoke(h.handler(), [bucket]);
      expect(response.batchItemFailures).to.deep.equal([]);
      expect(h.metricSum('UnknownEvents')).to.equal(1);
      expect(h.metricSum('MalformedEvents')).to.equal(0);
      const record = JSON.parse(await h.readObject((await h.unprocessableKeys())[0]!)) as UnprocessableRecord;
      expect(record.reasons).to.deep.equal(['unknown-event']);
      expect(record.unknown).to.have.length(1);
      expect(record.unknown[0]).to.deep.include({ eventSource: 's3.amazonaws.com', eventName: 'CreateBucket', path: 'detail' });
      expect(h.outcomes[0]?.outcome.kind).to.equal('unprocessable');
      expect(await h.findings()).to.deep.equal([]);
    });

    it('a redelivered unprocessable message overwrites its record instead of adding one', async () => {
      const handler = h.handler();
      await h.invoke(handler, ['{"Records": []}']);
      const first = await h.unprocessableKeys();
      // The same SQS message again (same messageId), as a visibility timeout would bring it back.
      const sink = new S3UnprocessableSink(h.s3, h.bucket, 'security-events/unprocessable');
      const again = JSON.parse(await h.readObject(first[0]!)) as UnprocessableRecord;
      await sink.put({ ...again, receiveCount: 2 });
      expect(await h.unprocessableKeys()).to.deep.equal(first);
      expect((JSON.parse(await h.readObject(first[0]!)) as UnprocessableRecord).receiveCount).to.equal(2);
      expect(again.problems[0]?.expected).to.equal('at least one CloudTrail event');
    });

    it('an unprocessable part of a trail file is recorded while the readable events are recorded as findings', async () => {
      const file = { Records: [loadCorpus<Json[]>('aws/cloudtrail-raw-StopLogging.stratus.json')[0]!, { eventName: 'StopLogging' }] };
      const { response } = await h.invoke(h.handler(), [file]);
      expect(response.batchItemFailures).to.deep.equal([]);
      expect((await h.findings()).map((f) => f.finding.ruleId)).to.deep.equal(['aws.cloudtrail.logging-stopped']);
      expect(h.metricSum('MalformedEvents')).to.equal(1);
      const outcome = h.outcomes[0]?.outcome;
      expect(outcome?.kind).to.equal('processed');
      expect(outcome?.kind === 'processed' && outcome.unprocessable?.problems).to.deep.equal(['Records[1]: expected a CloudTrail record with string eventSource, eventName and an ISO eventTime, got an object with keys eventName']);
    });
  });

  it('a detector that throws is counted and logged; the other detectors of the event are still recorded', async () => {
    const broken: ActivityDetector = {
      ...AWS_ACTIVITY_DETECTORS.find((d) => d.id === 'aws.cloudtrail.logging-stopped')!,
      id: 'aws.cloudtrail.broken-detector',
      match: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'trailArn')");
      },
    };
    const logger = new Logger({ serviceName: 'shipscan-security-events', logLevel: 'DEBUG' });
    const metrics = new Metrics({ serviceName: 'shipscan-security-events', namespace: 'Shipscan' });
    const store = h.store();
    const handler = createSecurityEventsHandler({
      registry: createRegistry([broken, ...AWS_ACTIVITY_DETECTORS]),
      allowLists: DEFAULT_ALLOW_LISTS,
      recorder: async () => new FindingRecorder({ store, channels: [], policy: { severityThreshold: 'HIGH', notifyOnResolve: false, mode: 'immediate' }, suppressions: [], persistTouches: true }),
      unprocessable: new S3UnprocessableSink(h.s3, h.bucket, 'security-events/unprocessable'),
      logger,
      metrics,
    });
    const { response } = await h.invoke(handler, [stopLogging()]);
    expect(response.batchItemFailures, 'retrying would hit the same bug').to.deep.equal([]);
    expect((await h.findings()).map((f) => f.finding.ruleId)).to.deep.equal(['aws.cloudtrail.logging-stopped']);
    expect(h.metricSum('DetectorErrors')).to.equal(1);
    const [error] = h.logs('detector failed; the other detectors of the event are recorded');
    expect(error).to.deep.include({ detectorId: 'aws.cloudtrail.broken-detector', eventName: 'StopLogging', eventId: '10163ed2-2253-469d-a5ee-cbc6651f8934' });
    expect(String(error?.['reason'])).to.include("reading 'trailArn'");
  });

  describe('exactly once: conditional writes and the notification outbox', () => {
    it('10 parallel deliveries of one event (10 cold starts): one transition, one SNS message, one email', async () => {
      const handlers = Array.from({ length: 10 }, () => h.handler());
      const event = stopLogging();
      const results = await Promise.all(handlers.map((handler) => h.invoke(handler, [event])));
      expect(results.flatMap((r) => r.response.batchItemFailures)).to.deep.equal([]);
      const transitions = h.outcomes.flatMap(({ outcome }) => (outcome.kind === 'processed' ? outcome.transitions : []));
      expect(transitions.filter((t) => t.kind !== 'touch').map((t) => t.kind)).to.deep.equal(['open']);
      expect(h.published()).to.have.length(1);
      expect(h.emails()).to.have.length(1);
      expect(h.metricSum('FindingsOpened', { Severity: 'HIGH' })).to.equal(1);
      const [stored] = await h.findings();
      expect(stored?.notification?.state).to.equal('SENT');
    });

    it('a channel that fails fails the record (SQS retries); the redelivery sends only to that channel, and later ones send nothing', async () => {
      h.sesMock.on(SendEmailCommand).rejectsOnce(new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: {} })).resolves({ MessageId: 'ses-ok' });
      const handler = h.handler();
      const first = await h.invoke(handler, [stopLogging()]);
      expect(first.response.batchItemFailures).to.deep.equal([{ itemIdentifier: first.records[0]!.messageId }]);
      expect(h.metricSum('RecordFailures')).to.equal(1);
      const [failure] = h.logs('security event failed; SQS delivers it again (then the DLQ keeps it)');
      expect(String((failure?.['error'] as { message?: string } | undefined)?.message)).to.include('TooManyRequestsException');
      expect(h.published()).to.have.length(1);
      expect((await h.findings())[0]?.notification).to.deep.include({ state: 'PENDING', sentChannels: ['sns'] });

      // SQS delivers the same message again (to this container and, later, to a new one).
      const second = await h.invoke(handler, [stopLogging()], 2);
      expect(second.response.batchItemFailures).to.deep.equal([]);
      await h.invoke(h.handler(), [stopLogging()], 3);
      expect(h.published(), 'SNS took the notice the first time').to.have.length(1);
      expect(h.sesMock.commandCalls(SendEmailCommand)).to.have.length(2);
      expect((await h.findings())[0]?.notification).to.deep.include({ state: 'SENT', sentChannels: ['sns', 'email'] });
      expect(h.metricSum('FindingsOpened', { Severity: 'HIGH' }), 'the transition happened once').to.equal(1);
    });

    it('a store that cannot be written fails the record, and only that record of the batch', async () => {
      const handler = h.handler({ env: { FINDINGS_TABLE: 'no-such-table' } });
      const bucket = loadCorpus<Json>('aws/eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json');
      const { response, records } = await h.invoke(handler, [bucket, stopLogging()]);
      expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: records[1]!.messageId }]);
      expect(h.published()).to.deep.equal([]);
    });
  });

  describe('the notify secret', () => {
    const SLACK = 'https://hooks.slack.com/services/T000/B000/secret-path-Xy7';
    const TEAMS = 'https://example.webhook.office.com/webhookb2/secret-path-Q2w';
    const PASSWORD = 'smtp-password-Lk9';

    it('is read once per cold start, and its webhook URLs become channels without reaching a log', async () => {
      h.secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ slackWebhookUrl: SLACK, teamsWebhookUrl: TEAMS }) });
      // CRITICAL threshold: the HIGH findings below are recorded without a notice, so no webhook is called.
      const handler = h.handler({ settings: { severityThreshold: 'CRITICAL' }, env: { NOTIFY_SECRET_ARN: NOTIFY_SECRET } });
      await h.invoke(handler, [stopLogging()]);
      await h.invoke(handler, [sample('accessKey')]);
      await h.invoke(handler, [sample('bucketPolicy')]);
      const reads = h.secretsMock.commandCalls(GetSecretValueCommand);
      expect(reads.map((call) => call.args[0].input.SecretId)).to.deep.equal([NOTIFY_SECRET]);
      expect(h.logs('finding channels ready').map((line) => line['channels'])).to.deep.equal([['sns', 'email', 'slack', 'teams']]);
      const output = h.output.join('');
      for (const secret of [SLACK, TEAMS, 'secret-path']) expect(output).to.not.include(secret);
      // A new container reads it again.
      await h.invoke(h.handler({ settings: { severityThreshold: 'CRITICAL' }, env: { NOTIFY_SECRET_ARN: NOTIFY_SECRET } }), [stopLogging()]);
      expect(h.secretsMock.commandCalls(GetSecretValueCommand)).to.have.length(2);
    });

    it('SMTP credentials come from the secret: the relay replaces SES as the email channel', async () => {
      h.secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ smtpUsername: 'relay-user', smtpPassword: PASSWORD }) });
      const handler = h.handler({ settings: { severityThreshold: 'CRITICAL', email: { from: FROM, to: TO, smtp: { host: 'smtp.example.com', port: 587, secure: false } } }, env: { NOTIFY_SECRET_ARN: NOTIFY_SECRET } });
      await h.invoke(handler, [stopLogging()]);
      expect(h.logs('finding channels ready').map((line) => line['channels'])).to.deep.equal([['sns', 'email']]);
      expect(h.emails(), 'no SES call when a relay is configured').to.deep.equal([]);
      expect(h.output.join('')).to.not.include(PASSWORD);
    });

    it('a failed read fails the record without the value and is tried again on the next record', async () => {
      h.secretsMock.on(GetSecretValueCommand).rejectsOnce(Object.assign(new Error('User is not authorized to perform: secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' })).resolves({ SecretString: JSON.stringify({ slackWebhookUrl: SLACK }) });
      const handler = h.handler({ settings: { severityThreshold: 'CRITICAL' }, env: { NOTIFY_SECRET_ARN: NOTIFY_SECRET } });
      const first = await h.invoke(handler, [stopLogging()]);
      expect(first.response.batchItemFailures).to.have.length(1);
      const [failure] = h.logs('security event failed; SQS delivers it again (then the DLQ keeps it)');
      expect(String((failure?.['error'] as { message?: string }).message)).to.include(`notify secret ${NOTIFY_SECRET}: GetSecretValue failed: AccessDeniedException`);
      expect(await h.findings()).to.deep.equal([]);
      const second = await h.invoke(handler, [stopLogging()], 2);
      expect(second.response.batchItemFailures).to.deep.equal([]);
      expect(await h.findings()).to.have.length(1);
      expect(h.secretsMock.commandCalls(GetSecretValueCommand)).to.have.length(2);
    });

    it('a secret of the wrong shape is named by its keys, never its values', async () => {
      h.secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ slackWebhookUrl: 'http://plain.example.com/secret-path-Zz', smtpPasswort: PASSWORD }) });
      const handler = h.handler({ env: { NOTIFY_SECRET_ARN: NOTIFY_SECRET } });
      const { response } = await h.invoke(handler, [stopLogging()]);
      expect(response.batchItemFailures).to.have.length(1);
      const [failure] = h.logs('security event failed; SQS delivers it again (then the DLQ keeps it)');
      const message = String((failure?.['error'] as { message?: string }).message);
      expect(message).to.include('unexpected or invalid keys:');
      expect(message).to.include('smtpPasswort');
      expect(message).to.include('slackWebhookUrl');
      expect(h.output.join('')).to.not.include('secret-path-Zz');
      expect(h.output.join('')).to.not.include(PASSWORD);
    });
  });

  describe('the posture hook (issue 15 plugs in here)', () => {
    it('is a no-op by default and is called with every handled event, the recorder and the message id when given', async () => {
      const seen: { eventName: string; messageId: string; recorder: boolean }[] = [];
      const hook: PostureHook = async (event, ctx) => {
        seen.push({ eventName: event.record.eventName, messageId: ctx.messageId, recorder: ctx.recorder instanceof FindingRecorder });
        return [];
      };
      const { records } = await h.invoke(h.handler({ overrides: { postureHook: hook } }), [stopLogging(), loadCorpus<Json>('aws/eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json')]);
      // The unknown CreateBucket never reaches it: no detector handled it.
      expect(seen).to.deep.equal([{ eventName: 'StopLogging', messageId: records[0]!.messageId, recorder: true }]);
    });

    it('its transitions are counted and reported like the detectors', async () => {
      const hook: PostureHook = async (event, ctx) =>
        ctx.recorder.record([
          {
            ruleId: 'aws.cloudtrail.posture-multi-region',
            category: 'posture',
            severity: 'MEDIUM',
            title: 'Trail not multi-region',
            cloud: 'aws',
            scope: { account: event.account, region: event.region },
            resource: { type: 'AWS::CloudTrail::Trail', id: STOP_LOGGING_TRAIL, name: 'trail' },
            subject: '',
            outcome: 'fail',
            observedAt: new Date(Date.parse(event.record.eventTime)).toISOString(),
            evidence: {},
            remediation: { text: 'Make the trail multi-region.' },
            source: { trigger: 'event', eventName: event.record.eventName },
          },
        ]);
      await h.invoke(h.handler({ overrides: { postureHook: hook } }), [stopLogging()]);
      const outcome = h.outcomes[0]?.outcome;
      expect(outcome?.kind === 'processed' && outcome.transitions.map((t) => t.finding.ruleId)).to.deep.equal(['aws.cloudtrail.logging-stopped', 'aws.cloudtrail.posture-multi-region']);
      expect(h.metricSum('FindingsOpened', { Severity: 'MEDIUM' })).to.equal(1);
    });
  });

  it('never logs the request or response of a call', async () => {
    const withSecret = derive(stopLogging(), (record) => {
      record.requestParameters = { name: 'stratus-red-team-ct-stop-trail-buykxbqejv', note: 'credential-in-request-Vb3' };
    });
    await h.invoke(h.handler(), [withSecret]);
    expect(h.output.join('')).to.not.include('credential-in-request-Vb3');
    expect(h.sesMock.commandCalls(SendEmailCommand)).to.have.length(1);
    expect(h.snsMock.commandCalls(PublishCommand)).to.have.length(1);
  });
});
