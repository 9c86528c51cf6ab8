/**
 * Queue settings the handlers must agree with: host.json sets the same values for the Functions host
 * (a test reads host.json and compares), and the local queue pump uses them too.
 */
/**
 * Deliveries of a message before the host moves it to `<queue>-poison` (host.json `maxDequeueCount`).
 * With RETRY_VISIBILITY_SEC that gives a failing deployment 7 retries over about 14 minutes (an ARM or
 * storage outage of that length still ends in a scan); its last delivery records FAILED first. Poll
 * messages rarely get here: transient Qualys failures are retried by pollScan itself (retry-policy.ts).
 */
export const MAX_DEQUEUE_COUNT = 8;
/** Seconds a failed message stays invisible before its next delivery (host.json `visibilityTimeout`). */
export const RETRY_VISIBILITY_SEC = 120;
/** Messages the host fetches per poll (host.json `batchSize`); concurrent poll checks share one checkMany. */
export const QUEUE_BATCH_SIZE = 16;
export const STORAGE_CONNECTION = 'AzureWebJobsStorage';
