import type { FindingsConfig } from '../../../shared/findings/config';
import type { NotificationChannel } from '../../../shared/findings/notifier';
import { NotifyConfigError, smtpChannelFromConfig, webhookChannelsFromConfig, type CommonChannelDeps } from '../../notify/config-channels';

/**
 * The finding channels of the Azure Functions app, from `shipscan:findings`: email through the SMTP relay
 * (password from Key Vault, read by the caller), Slack and Teams when their URLs are set. Order is stable:
 * email, slack, teams.
 */

export type AzureChannelDeps = CommonChannelDeps;

export function channelsFromConfig(config: FindingsConfig, deps: AzureChannelDeps = {}): NotificationChannel[] {
  const channels: NotificationChannel[] = [];
  if (config.email) {
    if (!config.email.smtp) throw new NotifyConfigError('findings.email is set but findings.email.smtp is not: on Azure email goes through an SMTP relay (the SES API serves AWS only)');
    channels.push(smtpChannelFromConfig(config.email, deps));
  }
  channels.push(...webhookChannelsFromConfig(config, deps));
  return channels;
}
