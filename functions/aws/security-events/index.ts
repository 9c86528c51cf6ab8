/**
 * Bundle entry of the security-events Lambda. The environment is validated here, at cold start, so a
 * misconfigured deployment fails at init with the variable named instead of on the first record.
 */
import { securityEventsPostureHook } from '../inventory/from-env';
import { createSecurityEventsHandlerFromEnv } from './from-env';

export { createSecurityEventsHandler, type SecurityEventsHandler, type SecurityEventsHandlerDeps } from './handler';
export { createSecurityEventsHandlerFromEnv, type SecurityEventsOverrides } from './from-env';
export { noPostureHook, type PostureHook, type PostureHookContext, type SecurityEventOutcome } from './pipeline';

// With aws.inventory.enabled (aws/inventory.ts sets RESOURCES_TABLE here), a fix resolves its posture finding at once.
export const handler = createSecurityEventsHandlerFromEnv(process.env.RESOURCES_TABLE ? { postureHook: securityEventsPostureHook(() => process.env.OWN_ACCOUNT_ID) } : {});
