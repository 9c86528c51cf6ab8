import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { FindingsConfig } from '../../../shared/findings/config';
import type { NotificationChannel } from '../../../shared/findings/notifier';
import { smtpChannelFromConfig, webhookChannelsFromConfig, type CommonChannelDeps } from '../../notify/config-channels';
import { SesEmailChannel } from './ses-email';
import { SnsChannel } from './sns-channel';

/**
 * The finding channels of an AWS function, from `shipscan:findings`: SNS (the stack's findings topic), email
 * through the SES API (or through SMTP when `findings.email.smtp` is set), Slack and Teams when their URLs
 * are set. Order is stable: sns, email, slack, teams.
 */

export interface AwsChannelDeps extends CommonChannelDeps {
  /** The findings topic; omitted, no SNS channel. */
  sns?: { client: SNSClient; topicArn: string };
  /** SESv2 client (default: one for the function's region, authorised by its role). */
  ses?: SESv2Client;
}

export function channelsFromConfig(config: FindingsConfig, deps: AwsChannelDeps = {}): NotificationChannel[] {
  const channels: NotificationChannel[] = [];
  if (deps.sns) channels.push(new SnsChannel({ client: deps.sns.client, topicArn: deps.sns.topicArn, ...(deps.render ? { render: deps.render } : {}) }));
  const email = config.email;
  if (email?.smtp) channels.push(smtpChannelFromConfig(email, deps));
  else if (email) {
    channels.push(
      new SesEmailChannel({
        client: deps.ses ?? new SESv2Client({}),
        from: email.from,
        to: email.to,
        ...(email.sesConfigurationSet ? { configurationSet: email.sesConfigurationSet } : {}),
        ...(deps.render ? { render: deps.render } : {}),
        ...(deps.mailRecorder ? { recorder: deps.mailRecorder } : {}),
      }),
    );
  }
  channels.push(...webhookChannelsFromConfig(config, deps));
  return channels;
}
