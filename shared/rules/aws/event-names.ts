/**
 * Lambda's CloudTrail event names carry the API version they were called with (`AddPermission20150331v2`,
 * `CreateFunctionUrlConfig20211031`), and AWS has announced the suffixes may go away. Detectors and the
 * registry speak of the undated name; this is the one place that strips the suffix. Other services' names
 * are left as they are (a trailing date is not a convention there).
 */
const LAMBDA_SOURCE = 'lambda.amazonaws.com';
const DATED = /^(.+?)20[0-9]{6}(?:v[0-9]+)?$/;

export function canonicalEventName(eventSource: string, eventName: string): string {
  if (eventSource !== LAMBDA_SOURCE) return eventName;
  const match = DATED.exec(eventName);
  return match ? match[1]! : eventName;
}

/** Whether a service logs its API names with dated suffixes (so a pattern must match both forms). */
export function hasDatedEventNames(eventSource: string): boolean {
  return eventSource === LAMBDA_SOURCE;
}
