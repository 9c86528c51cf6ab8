import { z } from 'zod';
import { describeIssues, readEnvelope } from '../../../shared/event-grid';
import { MAX_ID_CHARS } from '../deployment-event';

/**
 * Reads what the `blob-uploads` queue delivers: `Microsoft.Storage.BlobCreated` from the system topic of a
 * watched storage account, in the Event Grid schema or as a CloudEvent. The subject names the blob as
 * stored (`/blobServices/default/containers/<c>/blobs/<name>`, no leading slash in CloudEvents), with
 * spaces and unicode as they are; `data.url` carries the same name percent-encoded and is never fetched:
 * the handler reads the blob from the account named by the topic, through its own endpoint.
 */

export const BLOB_CREATED = 'Microsoft.Storage.BlobCreated';

/** The rules the event subscription filter applies, checked again here exactly (filters are a coarse first cut). */
export interface BlobRules {
  /** Account names whose blobs are scanned (lower-case). */
  accounts: readonly string[];
  /** The stack's own accounts: never scanned, whatever the configuration says. */
  ownAccounts: readonly string[];
  include: readonly string[];
  exclude: readonly string[];
  prefixes: readonly string[];
}

export interface BlobEvent {
  schema: 'eventgrid' | 'cloudevents';
  id: string;
  eventTime?: string;
  /** The storage account's resource id (the topic). */
  accountId: string;
  account: string;
  subscriptionId: string;
  resourceGroup: string;
  container: string;
  /** The blob name, as stored. */
  name: string;
  /** What the upload said (never trusted for the scan: the bytes are measured and sniffed). */
  contentLength?: number;
  contentType?: string;
  eTag?: string;
  api?: string;
}

export type ClassifiedBlob = { kind: 'blob'; blob: BlobEvent } | { kind: 'ignored'; id?: string; reason: string } | { kind: 'malformed'; id?: string; reason: string };

const ACCOUNT_ID = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.storage\/storageaccounts\/([a-z0-9]{3,24})$/i;
const SUBJECT = /^\/?blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/;
const CONTAINER = /^(\$root|\$web|[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9])$/;
/** Blob names are at most 1024 characters. */
const MAX_BLOB_NAME = 1024;

const DataSchema = z.looseObject({
  api: z.string().optional(),
  eTag: z.string().optional(),
  contentType: z.string().optional(),
  contentLength: z.number().int().nonnegative().optional(),
  blobType: z.string().optional(),
  url: z.string().optional(),
});

/** Why a blob the rules do not cover is left alone, or undefined when it is to be scanned. */
export function blobRuleVerdict(rules: BlobRules, account: string, container: string, name: string): string | undefined {
  const lower = account.toLowerCase();
  if (rules.ownAccounts.includes(lower)) return `storage account ${account} is one of this stack's own (results written there are never scanned)`;
  if (!rules.accounts.includes(lower)) return `storage account ${account} is not watched (azure.artifacts.storageAccounts)`;
  if (rules.exclude.includes(container)) return `container ${container} is excluded`;
  if (rules.include.length > 0 && !rules.include.includes(container)) return `container ${container} is not one of ${rules.include.join(', ')}`;
  if (rules.prefixes.length > 0 && !rules.prefixes.some((p) => name.startsWith(p))) return `blob name does not start with ${rules.prefixes.map((p) => JSON.stringify(p)).join(' or ')}`;
  return undefined;
}

export function classifyBlobCreated(raw: unknown, rules: BlobRules): ClassifiedBlob {
  const envelope = readEnvelope(raw);
  if (envelope.kind === 'malformed') return envelope;
  const { schema, id, eventType, eventTime, topic, subject, data } = envelope;
  if (eventType !== BLOB_CREATED) return { kind: 'ignored', id, reason: `event type ${eventType}` };
  if (id.length > MAX_ID_CHARS) return { kind: 'malformed', reason: `event id of ${id.length} characters (at most ${MAX_ID_CHARS})` };
  const account = ACCOUNT_ID.exec(topic ?? '');
  if (!account) return { kind: 'malformed', id, reason: `topic ${JSON.stringify(topic ?? null)} is not a storage account id` };
  const where = SUBJECT.exec(subject ?? '');
  if (!where) return { kind: 'malformed', id, reason: `subject ${JSON.stringify((subject ?? '').slice(0, 200))} does not name a blob` };
  const [, container, name] = where as unknown as [string, string, string];
  if (!CONTAINER.test(container)) return { kind: 'malformed', id, reason: `container ${JSON.stringify(container.slice(0, 100))} is not a container name` };
  if (name.length > MAX_BLOB_NAME) return { kind: 'malformed', id, reason: `blob name of ${name.length} characters (at most ${MAX_BLOB_NAME})` };
  const parsed = DataSchema.safeParse(data ?? {});
  if (!parsed.success) return { kind: 'malformed', id, reason: `${eventType} data lacks ${describeIssues(parsed.error)}` };
  const [accountId, subscriptionId, resourceGroup, accountName] = account as unknown as [string, string, string, string];
  const skip = blobRuleVerdict(rules, accountName, container, name);
  if (skip) return { kind: 'ignored', id, reason: skip };
  const d = parsed.data;
  return {
    kind: 'blob',
    blob: {
      schema,
      id,
      ...(eventTime ? { eventTime } : {}),
      accountId,
      account: accountName.toLowerCase(),
      subscriptionId,
      resourceGroup,
      container,
      name,
      ...(d.contentLength !== undefined ? { contentLength: d.contentLength } : {}),
      ...(d.contentType ? { contentType: d.contentType } : {}),
      ...(d.eTag ? { eTag: d.eTag } : {}),
      ...(d.api ? { api: d.api } : {}),
    },
  };
}
