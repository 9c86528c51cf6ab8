/**
 * Bundle entry of the scanner Lambda. The environment is validated here, at cold start, so a
 * misconfigured deployment fails at init with the variable named instead of on the first record.
 */
import { createScannerHandlerFromEnv } from './from-env';

export { createScannerHandler } from './handler';
export { createScannerHandlerFromEnv } from './from-env';

export const handler = createScannerHandlerFromEnv();
