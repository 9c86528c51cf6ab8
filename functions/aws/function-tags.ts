import { TagResourceCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { SeverityCounts } from '../../shared/severity';

/**
 * Tags written on scanned functions. The IAM policy allows only `Shipscan*` keys (aws:TagKeys), so
 * every key here must keep that prefix.
 *
 * Results are content-addressed: functions running the same code (zip hash + layers, or image
 * digest) share one scan and one S3 document, stored under the path of the function that was
 * scanned first. The tags say so: `ShipscanContent` is the content id and `ShipscanContentResult`
 * the S3 key of that content's result, which for a cache hit names another function's path.
 */

export const EXCLUDE_TAG = 'ShipscanExclude';

export interface TagSummary {
  status: string;
  time: string;
  counts: SeverityCounts;
  /** S3 key of the result of this content (shared by every function with the same content). */
  resultKey: string;
  /** `zip-<hex sha256>[-layers-<hash>]` or `image-<hex digest>`. */
  contentId: string;
  policyVerdict?: string;
}

/** Lambda tag values: up to 256 characters of letters, digits, spaces and _ . : / = + - @. */
function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256);
}

export function scanTags(summary: TagSummary): Record<string, string> {
  const tags: Record<string, string> = {
    ShipscanStatus: summary.status,
    ShipscanTime: summary.time,
    ShipscanCritical: String(summary.counts.critical),
    ShipscanHigh: String(summary.counts.high),
    ShipscanMedium: String(summary.counts.medium),
    ShipscanLow: String(summary.counts.low),
    ShipscanTotal: String(summary.counts.total),
    ShipscanContent: summary.contentId,
    ShipscanContentResult: summary.resultKey,
  };
  if (summary.policyVerdict) tags.ShipscanPolicy = summary.policyVerdict;
  for (const key of Object.keys(tags)) {
    if (!key.startsWith('Shipscan')) throw new Error(`tag key ${key} lacks the Shipscan prefix`);
    tags[key] = tagValue(tags[key]!);
  }
  return tags;
}

export async function tagFunction(lambda: LambdaClient, functionArn: string, summary: TagSummary): Promise<Record<string, string>> {
  const tags = scanTags(summary);
  await lambda.send(new TagResourceCommand({ Resource: functionArn, Tags: tags }));
  return tags;
}

export function isExcludedByTag(tags: Record<string, string> | undefined): boolean {
  return (tags?.[EXCLUDE_TAG] ?? '').trim().toLowerCase() === 'true';
}
