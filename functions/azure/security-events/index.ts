/** onSecurityEvent: ARM events of the security-event subscriptions -> ARM GET -> rules -> findings. */
export { createOnSecurityEvent, type SecurityEventDeps, type SecurityEventOutcome, type SecurityEventResult } from './handler';
export { ArmRestReader, ArmRequestError, armPath, retryAfterMs, type ArmGetResult, type ArmResourceReader, type ArmRestReaderOptions } from './arm-resource';
export { createFindingRecorder, createSecurityEventHandler, type SecurityEventOverrides } from './wiring';
