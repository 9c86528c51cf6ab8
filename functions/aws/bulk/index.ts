/** Bundle entry of the bulk scanner Lambda; the environment is validated at cold start. */
import { createBulkHandlerFromEnv } from './from-env';

export { createBulkHandler, createBulkHandlerFromEnv } from './from-env';

export const handler = createBulkHandlerFromEnv();
