import { paginateListFunctions, type LambdaClient } from '@aws-sdk/client-lambda';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { OWN_ACCOUNT, type AccountClients } from '../account-access';
import { EXCLUDE_TAG } from '../function-tags';

/**
 * Bulk scan: list every function of the chosen accounts and regions, drop the excluded ones and
 * put one target per function on the scan queue. Manual input `{accounts?, regions?, dryRun?}`;
 * a scheduled (EventBridge) invocation uses the configured accounts and regions. A named account
 * must be the bulk function's own or a configured spoke: any other is refused in the summary
 * (listing it with the own role would list the own account's functions under that name).
 */

export const BulkInputSchema = z.strictObject({
  accounts: z.array(z.string().regex(/^[0-9]{12}$/, 'a 12-digit account id')).min(1).optional(),
  regions: z.array(z.string().regex(/^[a-z]{2,}(?:-[a-z0-9]+)+-[0-9]+$/, 'an AWS region such as eu-west-1')).min(1).optional(),
  dryRun: z.boolean().default(false),
});
export type BulkInput = z.infer<typeof BulkInputSchema>;

export class BulkInputError extends Error {
  override readonly name = 'BulkInputError';
}

export function parseBulkInput(event: unknown): BulkInput {
  if (event && typeof event === 'object' && ((event as Record<string, unknown>)['detail-type'] === 'Scheduled Event' || (event as Record<string, unknown>).source === 'aws.events' || (event as Record<string, unknown>).source === 'aws.scheduler')) {
    return { dryRun: false };
  }
  const parsed = BulkInputSchema.safeParse(event ?? {});
  if (parsed.success) return parsed.data;
  throw new BulkInputError(
    `invalid bulk scan input (expected {"accounts"?: [...], "regions"?: [...], "dryRun"?: boolean} or a scheduled event): ${parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ')}`,
  );
}

export interface BulkSettings {
  queueUrl: string;
  excludePatterns: readonly RegExp[];
  /** The stack's own functions, by name (in the own account only) or by ARN. */
  selfFunctionNames: ReadonlySet<string>;
  /** Regions scanned when the input names none. */
  regions: readonly string[];
  batchSize: number;
  maxWorkers: number;
  invocationDelayMs: number;
  /** Attempts per SendMessageBatch entry before it counts as failed. */
  maxSendAttempts?: number;
}

export interface BulkDeps {
  settings: BulkSettings;
  accounts: AccountClients;
  /** Tagging API client for an account/region (tags are not part of ListFunctions). */
  tagging: (account: string, region: string) => ResourceGroupsTaggingAPIClient;
  sqs: SQSClient;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  /** Lambda time left; the bulk scan stops enqueueing before the invocation would time out. */
  remainingMs?: () => number;
}

export interface BulkSummary {
  dryRun: boolean;
  accounts: string[];
  regions: string[];
  listed: number;
  excluded: number;
  enqueued: number;
  failed: number;
  /** Listing failures, refused accounts (region `*`) and what was left when time ran out. */
  errors: { account: string; region: string; message: string }[];
  /** dryRun only: the targets that would be enqueued (first 1000). */
  targets?: string[];
}

/** Label for the scanner's own account, served by its own role. */
export { OWN_ACCOUNT };
const STOP_MARGIN_MS = 20_000;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function listFunctions(lambda: LambdaClient): Promise<{ name: string; arn: string }[]> {
  const functions: { name: string; arn: string }[] = [];
  for await (const page of paginateListFunctions({ client: lambda, pageSize: 50 }, {})) {
    for (const fn of page.Functions ?? []) {
      if (fn.FunctionName && fn.FunctionArn) functions.push({ name: fn.FunctionName, arn: fn.FunctionArn });
    }
  }
  return functions;
}

async function excludedByTag(tagging: ResourceGroupsTaggingAPIClient): Promise<Set<string>> {
  const arns = new Set<string>();
  let token: string | undefined;
  do {
    const page = await tagging.send(
      new GetResourcesCommand({
        ResourceTypeFilters: ['lambda:function'],
        TagFilters: [{ Key: EXCLUDE_TAG, Values: ['true', 'True', 'TRUE'] }],
        ...(token ? { PaginationToken: token } : {}),
      }),
    );
    for (const mapping of page.ResourceTagMappingList ?? []) if (mapping.ResourceARN) arns.add(mapping.ResourceARN);
    token = page.PaginationToken || undefined;
  } while (token);
  return arns;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Runs tasks with at most `workers` in flight. */
async function pool<T>(tasks: readonly (() => Promise<T>)[], workers: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, tasks.length) }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]!();
      }
    }),
  );
  return results;
}

export async function runBulkScan(input: BulkInput, deps: BulkDeps): Promise<BulkSummary> {
  const { settings, logger } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const maxAttempts = settings.maxSendAttempts ?? 4;
  const credentials = deps.accounts.credentials;
  const requested = input.accounts ?? [OWN_ACCOUNT, ...credentials.spokeAccounts()];
  const regions = input.regions ?? [...settings.regions];
  if (regions.length === 0) throw new BulkInputError('no regions to scan: pass "regions" or set REGIONS');
  const accounts = [...new Set(requested)].filter((account) => credentials.accessOf(account) !== 'unknown');
  const summary: BulkSummary = { dryRun: input.dryRun, accounts, regions, listed: 0, excluded: 0, enqueued: 0, failed: 0, errors: [] };
  for (const account of requested.filter((candidate) => credentials.accessOf(candidate) === 'unknown')) {
    const message = credentials.unknownAccountError(account).message;
    summary.errors.push({ account, region: '*', message });
    logger.error('account refused: not listed', { account, reason: message });
  }

  const targets: string[] = [];
  const seen = new Set<string>();
  const listings = accounts.flatMap((account) => regions.map((region) => ({ account, region })));
  await pool(
    listings.map(({ account, region }) => async () => {
      try {
        // Assume the spoke role up front so a refused role is reported as such, once per account.
        await credentials.forAccount(account);
        const own = credentials.accessOf(account) === 'own';
        const functions = await listFunctions(deps.accounts.for(account, region).lambda);
        let tagged = new Set<string>();
        try {
          tagged = await excludedByTag(deps.tagging(account, region));
        } catch (error) {
          // The scanner checks the tag again on GetFunction, so a missing tagging permission only costs queue messages.
          logger.warn('could not read exclusion tags; relying on the scanner to honour them', { account, region, error: error as Error });
        }
        summary.listed += functions.length;
        for (const fn of functions) {
          // The stack's own names are excluded in its own account only: a spoke's function of that name is a workload like any other.
          const self = settings.selfFunctionNames.has(fn.arn) || (own && settings.selfFunctionNames.has(fn.name));
          const excluded = tagged.has(fn.arn) || self || settings.excludePatterns.some((pattern) => pattern.test(fn.name));
          if (excluded) summary.excluded += 1;
          else if (!seen.has(fn.arn)) {
            seen.add(fn.arn);
            targets.push(fn.arn);
          }
        }
        logger.info('listed functions', { account, region, functions: functions.length });
      } catch (error) {
        summary.errors.push({ account, region, message: (error as Error).message });
        logger.error('listing failed', { account, region, error: error as Error });
      }
    }),
    settings.maxWorkers,
  );

  if (input.dryRun) {
    summary.targets = targets.slice(0, 1000);
    logger.info('bulk scan dry run', { ...summary, targets: undefined });
    return summary;
  }

  const batches = chunk(targets, settings.batchSize);
  for (const [index, batch] of batches.entries()) {
    if (deps.remainingMs && deps.remainingMs() < STOP_MARGIN_MS) {
      const left = batches.slice(index).reduce((sum, b) => sum + b.length, 0);
      summary.failed += left;
      summary.errors.push({ account: '*', region: '*', message: `stopped before the Lambda timeout with ${left} targets not enqueued` });
      break;
    }
    const groups = chunk(batch, 10);
    const counts = await pool(
      groups.map((group) => () => sendGroup(deps.sqs, settings.queueUrl, group, maxAttempts, sleep, logger)),
      settings.maxWorkers,
    );
    for (const c of counts) {
      summary.enqueued += c.sent;
      summary.failed += c.failed;
    }
    if (index < batches.length - 1 && settings.invocationDelayMs > 0) await sleep(settings.invocationDelayMs);
  }
  logger.info('bulk scan finished', { ...summary });
  return summary;
}

async function sendGroup(
  sqs: SQSClient,
  queueUrl: string,
  arns: readonly string[],
  maxAttempts: number,
  sleep: (ms: number) => Promise<void>,
  logger: Logger,
): Promise<{ sent: number; failed: number }> {
  let pending: SendMessageBatchRequestEntry[] = arns.map((arn, i) => ({ Id: `t${i}`, MessageBody: JSON.stringify({ functionArn: arn, reason: 'bulk' }) }));
  let sent = 0;
  let failed = 0;
  for (let attempt = 1; pending.length > 0; attempt++) {
    try {
      const response = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
      sent += response.Successful?.length ?? 0;
      const failures = response.Failed ?? [];
      const retryable = new Set(failures.filter((f) => !f.SenderFault).map((f) => f.Id));
      failed += failures.length - retryable.size;
      for (const failure of failures.filter((f) => f.SenderFault)) logger.error('target rejected by SQS', { id: failure.Id, code: failure.Code, message: failure.Message });
      pending = pending.filter((entry) => retryable.has(entry.Id));
    } catch (error) {
      logger.warn('SendMessageBatch failed', { attempt, entries: pending.length, error: error as Error });
    }
    if (pending.length === 0) break;
    if (attempt >= maxAttempts) {
      failed += pending.length;
      break;
    }
    await sleep(100 * 2 ** (attempt - 1));
  }
  return { sent, failed };
}
