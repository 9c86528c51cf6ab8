import { app } from '@azure/functions';
import { functionsFromEnv } from './app';
import { STORAGE_CONNECTION } from './host-settings';

/**
 * Function App entry point (bundled to dist/index.js). Both handlers are Storage Queue triggers on the
 * app's own storage account (`AzureWebJobsStorage`, identity-based in Azure).
 */
for (const fn of functionsFromEnv(process.env)) {
  app.storageQueue(fn.name, { queueName: fn.queueName, connection: STORAGE_CONNECTION, handler: fn.handler });
}
