/**
 * Notification channels that need no cloud SDK, used by both clouds: SMTP email (Nodemailer), Slack and
 * Teams webhooks (undici), the email composer and the mail recorder. Rendering is in shared/notify.
 */
export * from './email-message';
export * from './mail-recorder';
export * from './smtp-email';
export * from './webhook';
export * from './config-channels';
