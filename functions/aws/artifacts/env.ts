import { z } from 'zod';
import { csv, jsonOf, parseEnv, positiveInt, spokeRoles } from '../env';

/**
 * Environment of the object scanner Lambda (aws/artifacts.ts sets it), validated at cold start: a wrong value
 * stops the function at init with the variable named.
 */

const bucketList = jsonOf(z.array(z.string().min(1)), 'a JSON array of bucket names');
const prefixList = jsonOf(z.array(z.string()), 'a JSON array of key prefixes');

export const ArtifactsEnvSchema = z
  .object({
    RESULTS_BUCKET: z.string().min(3, 'an S3 bucket name'),
    CACHE_TABLE: z.string().min(3, 'a DynamoDB table name'),
    QUALYS_SECRET_ARN: z.string().min(1, 'a Secrets Manager secret ARN or name'),
    QUALYS_POD: z.string().min(2).optional(),
    QUALYS_GATEWAY: z.url({ protocol: /^https?$/ }).optional(),
    INCLUDE_BUCKETS: bucketList.default([]),
    EXCLUDE_BUCKETS: bucketList.default([]),
    INCLUDE_PREFIXES: prefixList.default([]),
    EXCLUDE_PREFIXES: prefixList.default([]),
    /** The stack's own buckets (results, access logs, trail): never read, never recorded. */
    OWN_BUCKETS: csv.default([]),
    MAX_OBJECT_MB: positiveInt(1, 10240).default(512),
    EXCLUDED_MIME_TYPES: csv.default([]),
    /** Object-reader roles of the spokes (role ARN + ExternalId). */
    SPOKE_OBJECT_ROLES: spokeRoles.default([]),
    /** Role name assumed in other accounts of the organisation (the StackSet's reader role). */
    ORG_ROLE_NAME: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name').optional(),
    ORG_EXTERNAL_ID: z.string().min(2).optional(),
    EXTRACT_MAX_MB: positiveInt(1, 10240).default(1024),
    EXTRACT_MAX_ENTRIES: positiveInt(1, 1_000_000).default(20_000),
    EXTRACT_MAX_RATIO: positiveInt(2, 100_000).default(100),
    EXTRACT_MAX_DEPTH: positiveInt(0, 10).default(3),
    WORK_DIR: z.string().min(1).default('/tmp'),
    QSCANNER_PATH: z.string().min(1).default('/opt/qscanner/qscanner'),
    QSCANNER_CACHE_DIR: z.string().min(1).default('/tmp/qscanner-cache'),
    SCAN_TIMEOUT_SEC: positiveInt(1, 900).default(840),
    LOCK_TTL_SEC: positiveInt(30, 7200).default(960),
    RETRY_DELAY_SEC: positiveInt(0, 43200).default(60),
    CACHE_TTL_DAYS: positiveInt(1, 365).default(30),
    PARTIAL_CACHE_TTL_MINUTES: positiveInt(1, 7 * 24 * 60).default(60),
    METRICS_NAMESPACE: z.string().min(1).default('Shipscan'),
    POWERTOOLS_SERVICE_NAME: z.string().min(1).default('shipscan-objects'),
    OBJECT_QUEUE_URL: z.url().optional(),
    AWS_REGION: z.string().min(1, 'set by the Lambda runtime'),
  })
  .superRefine((env, ctx) => {
    if (!env.QUALYS_POD && !env.QUALYS_GATEWAY) ctx.addIssue({ code: 'custom', path: ['QUALYS_POD'], message: 'set QUALYS_POD or QUALYS_GATEWAY' });
  });
export type ArtifactsEnv = z.infer<typeof ArtifactsEnvSchema>;

export function loadArtifactsEnv(env: Readonly<Record<string, string | undefined>> = process.env): ArtifactsEnv {
  return parseEnv(ArtifactsEnvSchema, env);
}
