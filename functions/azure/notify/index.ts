/** Azure notification channels: SMTP email and webhooks (cloud-neutral), the factory, the scan alerts. */
export { channelsFromConfig, type AzureChannelDeps } from './channels';
export { alertPayload, sendAlert, AlertError, type AlertInput } from './scan-alerts';
export { SmtpEmailChannel, SmtpSendError, WebhookChannel, WebhookError, MailRecorder, NotifyConfigError, type SmtpCredentials } from '../../notify';
