import { ResourceGraphClient } from '@azure/arm-resourcegraph';
import type { TokenCredential } from '@azure/identity';

/**
 * The one Resource Graph call the inventory makes (`POST /providers/Microsoft.ResourceGraph/resources`), behind
 * an interface so tests and the local stack put the simulator (local/resource-graph-sim) behind it. Retries and
 * waits are the collector's (collector.ts), not the SDK's: the SDK client is built with retries off, so one
 * place decides how long to wait, reading the quota headers Resource Graph sends with every answer.
 */

export interface GraphRequest {
  subscriptions: readonly string[];
  query: string;
  /** Rows per page (Resource Graph's maximum is 1000). */
  top: number;
  skipToken?: string;
}

/** What Resource Graph says about the caller's quota (`x-ms-user-quota-*`) and, on a 429, when to come back. */
export interface QuotaState {
  /** Queries left in the current window. */
  remaining?: number;
  /** Milliseconds until the window resets (`x-ms-user-quota-resets-after`, `hh:mm:ss`). */
  resetsAfterMs?: number;
  /** `Retry-After` (seconds) of a throttled answer, in milliseconds. */
  retryAfterMs?: number;
}

export interface GraphPage {
  totalRecords: number;
  count: number;
  resultTruncated: boolean;
  skipToken?: string;
  /** `objectArray` rows; untrusted until the collector checks each. */
  rows: unknown[];
  quota: QuotaState;
}

export class GraphError extends Error {
  override readonly name = 'GraphError';
  constructor(
    message: string,
    /** HTTP status, when Resource Graph answered. */
    readonly status: number | undefined,
    readonly quota: QuotaState,
    /** 429, 5xx, timeouts and network errors may pass; other 4xx (a bad query, no access) will not. */
    readonly retryable: boolean,
    /** Resource Graph's error code (`RateLimiting`, `BadRequest`, `AuthorizationFailed`...). */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface ResourceGraph {
  query(request: GraphRequest): Promise<GraphPage>;
}

/** `hh:mm:ss` (optionally with fractional seconds, or `d.hh:mm:ss`) to milliseconds; undefined when malformed. */
export function parseResetsAfter(value: string | undefined | null): number | undefined {
  if (!value) return undefined;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value.trim());
  if (!match) return undefined;
  const [, days, hours, minutes, seconds] = match;
  return Math.round(((Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000);
}

/** The quota headers of an answer (any answer: success, 429 or error), by a case-insensitive header getter. */
export function quotaOf(header: (name: string) => string | undefined | null): QuotaState {
  const quota: QuotaState = {};
  const remaining = header('x-ms-user-quota-remaining');
  if (remaining && /^\d+$/.test(remaining.trim())) quota.remaining = Number(remaining);
  const resets = parseResetsAfter(header('x-ms-user-quota-resets-after'));
  if (resets !== undefined) quota.resetsAfterMs = resets;
  const retryAfter = header('retry-after');
  if (retryAfter && /^\d+(\.\d+)?$/.test(retryAfter.trim())) quota.retryAfterMs = Math.round(Number(retryAfter) * 1000);
  return quota;
}

/** Rejects anything that is not the documented page shape, so a broken answer fails its query instead of looking empty. */
export function pageOf(body: unknown, quota: QuotaState): GraphPage {
  const b = body as { totalRecords?: unknown; count?: unknown; resultTruncated?: unknown; skipToken?: unknown; data?: unknown } | null;
  if (!b || typeof b !== 'object' || !Array.isArray(b.data)) throw new GraphError('Resource Graph answered without a data array (resultFormat objectArray expected)', 200, quota, false);
  const count = typeof b.count === 'number' ? b.count : b.data.length;
  const page: GraphPage = {
    totalRecords: typeof b.totalRecords === 'number' ? b.totalRecords : count,
    count,
    resultTruncated: b.resultTruncated === true || b.resultTruncated === 'true',
    rows: b.data,
    quota,
  };
  if (typeof b.skipToken === 'string' && b.skipToken !== '') page.skipToken = b.skipToken;
  return page;
}

// core-rest-pipeline is not a direct dependency: take its policy type from the client.
type PipelinePolicy = Parameters<ResourceGraphClient['pipeline']['addPolicy']>[0];

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The SDK client: retries off (the collector retries), plain http only on loopback (the local simulator). */
export function sdkResourceGraph(credential: TokenCredential, endpoint?: string): ResourceGraph {
  const url = endpoint ? new URL(endpoint) : undefined;
  if (url && url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    throw new Error(`RESOURCE_GRAPH_ENDPOINT ${endpoint} must use https (plain http is allowed only on loopback for local runs)`);
  }
  const client = new ResourceGraphClient(credential, { ...(endpoint ? { endpoint } : {}), retryOptions: { maxRetries: 0 } });
  if (url?.protocol === 'http:') {
    // The SDK's bearer policy refuses plain http: the simulator gets the token through this policy instead.
    const policy: PipelinePolicy = {
      name: 'loopbackBearerPolicy',
      async sendRequest(request, next) {
        const token = await credential.getToken('https://management.azure.com/.default');
        if (token) request.headers.set('authorization', `Bearer ${token.token}`);
        request.allowInsecureConnection = true;
        return next(request);
      },
    };
    client.pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
    client.pipeline.addPolicy(policy);
  }
  return {
    async query(request) {
      let quota: QuotaState = {};
      try {
        const response = await client.resources(
          {
            subscriptions: [...request.subscriptions],
            query: request.query,
            options: { top: request.top, resultFormat: 'objectArray', ...(request.skipToken ? { skipToken: request.skipToken } : {}) },
          },
          { onResponse: (raw) => (quota = quotaOf((name) => raw.headers.get(name))) },
        );
        return pageOf(response, quota);
      } catch (error) {
        if (error instanceof GraphError) throw error;
        throw graphErrorOf(error, quota);
      }
    },
  };
}

interface RestLikeError {
  name?: string;
  message?: string;
  statusCode?: number;
  code?: string;
  response?: { headers?: { get(name: string): string | undefined } };
}

function graphErrorOf(error: unknown, quota: QuotaState): GraphError {
  const e = (error ?? {}) as RestLikeError;
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const headers = e.response?.headers;
  const q = headers ? { ...quota, ...quotaOf((name) => headers.get(name)) } : quota;
  const retryable = status === undefined || status === 408 || status === 429 || status >= 500;
  const message = `Resource Graph query failed${status ? ` (HTTP ${status}${e.code ? ` ${e.code}` : ''})` : ''}: ${String(e.message ?? error).slice(0, 500)}`;
  return new GraphError(message, status, q, retryable, e.code);
}
