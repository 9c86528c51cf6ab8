import { app } from '@azure/functions';
import { registrationsFromEnv } from './app';
import { STORAGE_CONNECTION } from './host-settings';

/**
 * Function App entry point (bundled to dist/index.js). The handlers are Storage Queue triggers on the
 * app's own storage account (`AzureWebJobsStorage`, identity-based in Azure), and, with the inventory
 * enabled, two timers.
 */
const registrations = registrationsFromEnv(process.env);
for (const fn of registrations.queues) {
  app.storageQueue(fn.name, { queueName: fn.queueName, connection: STORAGE_CONNECTION, handler: fn.handler });
}
// The inventory's schedules (weekly inventory, daily evaluation), in UTC; `%SETTING%` makes the host read the
// NCRONTAB from the app setting, so a schedule changes with `pulumi up`, not with a new package.
for (const timer of registrations.timers) {
  app.timer(timer.name, { schedule: timer.schedule, handler: timer.handler });
}
