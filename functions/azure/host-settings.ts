/**
 * Queue settings the handlers must agree with: host.json sets the same values for the Functions host
 * (a test reads host.json and compares), and the local queue pump uses them too.
 */
export const MAX_DEQUEUE_COUNT = 5;
/** Seconds a failed message stays invisible before its next delivery (host.json `visibilityTimeout`). */
export const RETRY_VISIBILITY_SEC = 30;
/** Messages the host fetches per poll (host.json `batchSize`); concurrent poll checks share one checkMany. */
export const QUEUE_BATCH_SIZE = 16;
export const STORAGE_CONNECTION = 'AzureWebJobsStorage';
