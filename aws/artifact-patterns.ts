import type { EventPattern, Json } from '../shared/event-pattern/match';

/**
 * EventBridge patterns of the artifact capability, as plain data: the hub's rules, the spokes' and the StackSet's
 * forwarding rules, the local replay and the tests all evaluate these same objects (shared/event-pattern).
 * - S3 writes recorded by CloudTrail as data events (PutObject, CompleteMultipartUpload, CopyObject), successful
 *   calls only, with the configured bucket and key-prefix filters, never the stack's own buckets (results, logs,
 *   trails: the scanner's own writes must not announce themselves, a loop).
 * - S3 "Object Created" events (buckets with EventBridge notifications on), the same filters on their fields.
 * - ECR pushes that succeeded (`ECR Image Action`, PUSH, SUCCESS).
 */

export const OBJECT_WRITE_EVENTS = ['PutObject', 'CompleteMultipartUpload', 'CopyObject'] as const;

export interface ObjectPatternOptions {
  includeBuckets: readonly string[];
  excludeBuckets: readonly string[];
  includePrefixes: readonly string[];
  excludePrefixes: readonly string[];
  /** Never matched, whatever the include list says. */
  ownBuckets: readonly string[];
}

/** `*` and `\` are wildcard syntax: a literal prefix escapes them. */
function wildcardPrefix(prefix: string): string {
  return `${prefix.replace(/\\/g, '\\\\').replace(/\*/g, '\\*')}*`;
}

function bucketMatcher(options: ObjectPatternOptions): Json[] | undefined {
  const never = [...new Set([...options.excludeBuckets, ...options.ownBuckets])];
  if (options.includeBuckets.length > 0) {
    const allowed = options.includeBuckets.filter((bucket) => !never.includes(bucket));
    // Every listed bucket excluded: a value no bucket name can take (names are 3-63 lowercase characters).
    return allowed.length > 0 ? [...allowed] : ['(no bucket)'];
  }
  return never.length > 0 ? [{ 'anything-but': never }] : undefined;
}

/**
 * Key filters on one field: includes are prefixes (OR); excludes, when there are no includes, one anything-but
 * of wildcards. With both, the includes go here and the excludes are applied by the scanner (EventBridge ANDs
 * fields, not matchers on one field), which records those objects as skipped with the reason.
 */
function keyMatcher(options: ObjectPatternOptions): Json[] | undefined {
  if (options.includePrefixes.length > 0) return options.includePrefixes.map((prefix) => ({ prefix }));
  if (options.excludePrefixes.length > 0) return [{ 'anything-but': { wildcard: options.excludePrefixes.map(wildcardPrefix) } }];
  return undefined;
}

export function objectWritePattern(options: ObjectPatternOptions): EventPattern {
  const requestParameters: Record<string, Json> = {};
  const buckets = bucketMatcher(options);
  if (buckets) requestParameters.bucketName = buckets;
  const keys = keyMatcher(options);
  if (keys) requestParameters.key = keys;
  return {
    source: ['aws.s3'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['s3.amazonaws.com'],
      eventName: [...OBJECT_WRITE_EVENTS],
      errorCode: [{ exists: false }],
      ...(Object.keys(requestParameters).length > 0 ? { requestParameters } : {}),
    },
  };
}

export function objectCreatedPattern(options: ObjectPatternOptions): EventPattern {
  const detail: Record<string, Json> = {};
  const buckets = bucketMatcher(options);
  if (buckets) detail.bucket = { name: buckets };
  const keys = keyMatcher(options);
  if (keys) detail.object = { key: keys };
  return { source: ['aws.s3'], 'detail-type': ['Object Created'], ...(Object.keys(detail).length > 0 ? { detail } : {}) };
}

export function ecrPushPattern(): EventPattern {
  return { source: ['aws.ecr'], 'detail-type': ['ECR Image Action'], detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] } };
}
