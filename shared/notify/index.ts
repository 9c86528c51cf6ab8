/**
 * Rendering of finding notices for every channel (email, Slack, Teams, SNS). Pure: no SDK, no I/O; the
 * senders live in functions/notify (cloud-neutral) and functions/<cloud>/notify.
 */
export * from './text';
export * from './notice-view';
export * from './email';
export * from './chat';
export * from './teams';
export * from './sns';
export * from './digest';
