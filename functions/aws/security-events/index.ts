/**
 * Bundle entry of the security-events Lambda. The environment is validated here, at cold start, so a
 * misconfigured deployment fails at init with the variable named instead of on the first record.
 */
import { createSecurityEventsHandlerFromEnv } from './from-env';

export { createSecurityEventsHandler, type SecurityEventsHandler, type SecurityEventsHandlerDeps } from './handler';
export { createSecurityEventsHandlerFromEnv, type SecurityEventsOverrides } from './from-env';
export { noPostureHook, type PostureHook, type PostureHookContext, type SecurityEventOutcome } from './pipeline';

export const handler = createSecurityEventsHandlerFromEnv();
