/**
 * Bundle entry of the object scanner Lambda (aws/artifacts.ts). The environment is validated at cold start.
 */
import { createObjectHandlerFromEnv } from './from-env';

export { createObjectHandler } from './handler';
export { createObjectHandlerFromEnv } from './from-env';

export const handler = createObjectHandlerFromEnv();
