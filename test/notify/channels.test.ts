import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { inspect } from 'node:util';
import { FindingsConfigSchema, type FindingsConfig } from '../../shared/findings/config';
import { channelsFromConfig as awsChannels } from '../../functions/aws/notify/channels';
import { channelsFromConfig as azureChannels } from '../../functions/azure/notify/channels';
import { SesEmailChannel } from '../../functions/aws/notify/ses-email';
import { SnsChannel, SnsPublishError } from '../../functions/aws/notify/sns-channel';
import { SmtpEmailChannel } from '../../functions/notify/smtp-email';
import { WebhookChannel } from '../../functions/notify/webhook';
import { NotifyConfigError } from '../../functions/notify/config-channels';
import { openedNotice } from './support/notices';

const SLACK = 'https://hooks.slack.com/services/T000/B000/slackSecretToken';
const TEAMS = 'https://prod-12.westeurope.logic.azure.com/workflows/0a1b/triggers/manual/paths/invoke?sig=teamsSecretSig';
const PASSWORD = 'relay-Pa55word-from-key-vault';

function config(input: Record<string, unknown>): FindingsConfig {
  return FindingsConfigSchema.parse(input);
}

function kinds(channels: readonly object[]): string[] {
  return channels.map((c) => c.constructor.name);
}

describe('channelsFromConfig (one factory per cloud)', () => {
  const region = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' } };

  it('AWS: SNS, email through the SES API, Slack and Teams, in that order', () => {
    const sns = new SNSClient(region);
    const channels = awsChannels(config({ email: { from: 'security@example.com', to: ['secops@example.com'] }, slackWebhookUrl: SLACK, teamsWebhookUrl: TEAMS }), {
      sns: { client: sns, topicArn: 'arn:aws:sns:eu-west-1:123456789012:shipscan-findings' },
      ses: new SESv2Client(region),
    });
    expect(channels.map((c) => c.name)).to.deep.equal(['sns', 'email', 'slack', 'teams']);
    expect(kinds(channels)).to.deep.equal([SnsChannel.name, SesEmailChannel.name, WebhookChannel.name, WebhookChannel.name]);
    const shown = channels.map((c) => `${inspect(c, { depth: 5 })} ${c instanceof WebhookChannel ? JSON.stringify(c) : ''}`).join('\n');
    expect(shown).to.not.include('slackSecretToken');
    expect(shown).to.not.include('teamsSecretSig');
  });

  it('AWS: nothing configured, no channel', () => {
    expect(awsChannels(config({}))).to.deep.equal([]);
  });

  it('AWS: SMTP instead of SES when findings.email.smtp is set, with the credentials the caller read', () => {
    // In a function's settings the secret keys are left out: the password comes from Secrets Manager.
    const email = { from: 'security@example.com', to: ['secops@example.com'], smtp: { host: 'smtp.example.com', port: 587 } };
    const channels = awsChannels(config({ email }), { smtpCredentials: { username: 'relay-user', password: PASSWORD } });
    expect(kinds(channels)).to.deep.equal([SmtpEmailChannel.name]);
    expect(`${inspect(channels[0], { depth: 10, showHidden: true })}${JSON.stringify(channels[0])}`).to.not.include(PASSWORD);
    // A local run may keep both in its config.
    const local = awsChannels(config({ email: { ...email, smtp: { ...email.smtp, username: 'u', password: PASSWORD } } }));
    expect(JSON.stringify(local[0])).to.not.include(PASSWORD);
    expect(JSON.parse(JSON.stringify(local[0]))).to.deep.equal({ name: 'email', smtp: { host: 'smtp.example.com', port: 587, secure: false }, from: 'security@example.com', to: ['secops@example.com'] });
  });

  it('AWS: the channels it builds send: SES with the configured configuration set, SNS with attributes', async () => {
    const ses = new SESv2Client(region);
    const sns = new SNSClient(region);
    const sesMock = mockClient(ses);
    const snsMock = mockClient(sns);
    try {
      sesMock.on(SendEmailCommand).resolves({ MessageId: 'm' });
      snsMock.on(PublishCommand).resolves({ MessageId: 'p' });
      const channels = awsChannels(config({ email: { from: 'security@example.com', to: ['secops@example.com'], sesConfigurationSet: 'shipscan' } }), {
        ses,
        sns: { client: sns, topicArn: 'arn:aws:sns:eu-west-1:123456789012:shipscan-findings' },
      });
      for (const channel of channels) await channel.send(openedNotice());
      expect(sesMock.commandCalls(SendEmailCommand)[0]!.args[0].input).to.include({ ConfigurationSetName: 'shipscan', FromEmailAddress: 'security@example.com' });
      const publish = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
      expect(publish.TopicArn).to.equal('arn:aws:sns:eu-west-1:123456789012:shipscan-findings');
      expect(publish.Subject!.length).to.be.lessThan(100);
      expect(publish.MessageAttributes).to.deep.include({ severity: { DataType: 'String', StringValue: 'CRITICAL' }, ruleId: { DataType: 'String', StringValue: 'aws.ec2.open-ingress' }, account: { DataType: 'String', StringValue: '123456789012' } });
    } finally {
      sesMock.restore();
      snsMock.restore();
    }
  });

  it('AWS: an SNS failure throws naming the topic, so the recorder retries that channel', async () => {
    const sns = new SNSClient(region);
    const snsMock = mockClient(sns);
    try {
      snsMock.on(PublishCommand).rejects(Object.assign(new Error('User is not authorized to perform: SNS:Publish'), { name: 'AuthorizationErrorException' }));
      const [channel] = awsChannels(config({}), { sns: { client: sns, topicArn: 'arn:aws:sns:eu-west-1:123456789012:shipscan-findings' } });
      let error: unknown;
      try {
        await channel!.send(openedNotice());
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(SnsPublishError);
      expect((error as Error).message).to.equal('SNS Publish to arn:aws:sns:eu-west-1:123456789012:shipscan-findings failed: AuthorizationErrorException: User is not authorized to perform: SNS:Publish');
    } finally {
      snsMock.restore();
    }
  });

  it('Azure: SMTP and the webhooks; email without an SMTP relay is a configuration error', () => {
    const channels = azureChannels(
      config({ email: { from: 'security@example.com', to: ['secops@example.com'], smtp: { host: 'smtp.office365.com', port: 587 } }, slackWebhookUrl: SLACK }),
      { smtpCredentials: { username: 'shipscan@contoso.com', password: PASSWORD } },
    );
    expect(channels.map((c) => c.name)).to.deep.equal(['email', 'slack']);
    expect(kinds(channels)).to.deep.equal([SmtpEmailChannel.name, WebhookChannel.name]);
    expect(() => azureChannels(config({ email: { from: 'security@example.com', to: ['secops@example.com'] } }))).to.throw(NotifyConfigError, /findings\.email\.smtp is not: on Azure email goes through an SMTP relay/);
    expect(azureChannels(config({ teamsWebhookUrl: TEAMS })).map((c) => c.name)).to.deep.equal(['teams']);
  });
});
