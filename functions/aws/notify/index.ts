/** AWS notification channels: SNS, SES email, and the cloud-neutral SMTP and webhook channels. */
export { SnsChannel, SnsPublishError, type SnsChannelOptions } from './sns-channel';
export { SesEmailChannel, SesSendError, type SesEmailChannelOptions } from './ses-email';
export { channelsFromConfig, type AwsChannelDeps } from './channels';
export { findingMessage, highestSeverity, publishFindings } from './scan-notifier';
export { SmtpEmailChannel, SmtpSendError, WebhookChannel, WebhookError, MailRecorder, NotifyConfigError, type SmtpCredentials } from '../../notify';
