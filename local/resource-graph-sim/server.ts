import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../emulators/loopback';

/**
 * A loopback Azure Resource Graph for tests and the local stack: `POST /providers/Microsoft.ResourceGraph/resources`
 * answering the documented shape `{ totalRecords, count, resultTruncated, $skipToken?, data }` (objectArray; the SDK
 * hands `$skipToken` on as `skipToken`, and takes it back as `options.$skipToken`) for the
 * inventory's queries (`<resources|authorizationresources> | where type =~ '<type>' | project ...`), with what
 * makes the real service hard to page through:
 * - pages of at most `$top` rows (default 100), never more than 1000, and a page cap below that the server may
 *   impose (`pageCap`), continued by an opaque skipToken bound to the query and its subscriptions;
 * - a per-caller quota (`quota` queries per `windowMs`, 15 per 5 s like the service): every answer carries
 *   `x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after` (`hh:mm:ss`), and a query over the quota is
 *   answered 429 with `Retry-After`;
 * - at most `maxSubscriptions` subscriptions per query (400 above it);
 * - injected failures (the next N calls, or every call about one type).
 * Time comes from `now` so a test can run the quota windows on a fake clock.
 */

export interface SimResource {
  id: string;
  name: string;
  /** Lower-case ARM type. */
  type: string;
  location?: string;
  subscriptionId: string;
  tags?: Record<string, string>;
  properties?: Record<string, unknown>;
}

export interface GraphCall {
  table?: string;
  type?: string;
  subscriptions: number;
  top?: number;
  skipToken: boolean;
  status: number;
  rows: number;
  remaining: number;
}

export interface ResourceGraphSimOptions {
  resources?: readonly SimResource[];
  /** Queries per window per caller (default 15). */
  quota?: number;
  /** Quota window (default 5,000 ms). */
  windowMs?: number;
  /** Rows per page the server answers at most, whatever `$top` asks (default 1000). */
  pageCap?: number;
  /** Subscriptions one query may name (default 300). */
  maxSubscriptions?: number;
  now?: () => number;
}

export interface ResourceGraphSim {
  endpoint: string;
  readonly calls: GraphCall[];
  /** Adds or replaces a resource (by id, case-insensitive). */
  put(resource: SimResource): void;
  remove(id: string): void;
  get(id: string): SimResource | undefined;
  /** The next `count` calls answer `status` (500 by default; 429 with a Retry-After of `retryAfterSec`). */
  failNext(count: number, status?: number, retryAfterSec?: number): void;
  /** Every query about `type` answers `status` until cleared (undefined clears). */
  failType(type: string, status?: number): void;
  setPageCap(cap: number): void;
  stop(): Promise<void>;
}

const PATH = /^\/providers\/microsoft\.resourcegraph\/resources$/i;
const QUERY = /^\s*(resources|authorizationresources)\s*\|\s*where\s+type\s*=~\s*'([a-z0-9./-]+)'\s*\|\s*project\s+([^|]+?)(\s*\|\s*order\s+by\s+id\s+asc)?\s*$/i;

function hhmmss(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function error(code: string, message: string): unknown {
  return { error: { code, message } };
}

export async function startResourceGraphSim(options: ResourceGraphSimOptions = {}): Promise<ResourceGraphSim> {
  const resources = new Map<string, SimResource>();
  for (const r of options.resources ?? []) resources.set(r.id.toLowerCase(), r);
  const quota = options.quota ?? 15;
  const windowMs = options.windowMs ?? 5_000;
  const maxSubscriptions = options.maxSubscriptions ?? 300;
  const now = options.now ?? Date.now;
  let pageCap = options.pageCap ?? 1000;
  const windows = new Map<string, { start: number; used: number }>();
  const calls: GraphCall[] = [];
  let failures = { count: 0, status: 500, retryAfterSec: 1 };
  const failingTypes = new Map<string, number>();

  /** Spends one query of the caller's window; what remains and when the window resets. */
  function spend(caller: string): { allowed: boolean; remaining: number; resetsInMs: number } {
    const at = now();
    let window = windows.get(caller);
    if (!window || at - window.start >= windowMs) windows.set(caller, (window = { start: at, used: 0 }));
    const resetsInMs = window.start + windowMs - at;
    if (window.used >= quota) return { allowed: false, remaining: 0, resetsInMs };
    window.used += 1;
    return { allowed: true, remaining: quota - window.used, resetsInMs };
  }

  function tokenFor(offset: number, binding: string): string {
    return Buffer.from(JSON.stringify({ o: offset, b: binding })).toString('base64url');
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const call: GraphCall = { subscriptions: 0, skipToken: false, status: 200, rows: 0, remaining: quota };
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      calls.push(call);
      send(res, status, body, headers);
    };
    if (req.method !== 'POST' || !PATH.test(url.pathname)) return answer(404, error('NotFound', `no route ${req.method} ${url.pathname}`));
    if (!(req.headers.authorization ?? '').startsWith('Bearer ')) return answer(401, error('AuthenticationFailed', 'no bearer token'));
    const budget = spend(req.headers.authorization!);
    call.remaining = budget.remaining;
    const quotaHeaders = { 'x-ms-user-quota-remaining': String(budget.remaining), 'x-ms-user-quota-resets-after': hhmmss(budget.resetsInMs) };
    if (!budget.allowed) {
      return answer(429, error('RateLimiting', 'Please provide below info when asking for support: ... too many requests'), { ...quotaHeaders, 'retry-after': String(Math.ceil(budget.resetsInMs / 1000)) });
    }
    if (failures.count > 0) {
      failures.count -= 1;
      const headers: Record<string, string> = failures.status === 429 ? { ...quotaHeaders, 'retry-after': String(failures.retryAfterSec) } : quotaHeaders;
      return answer(failures.status, error(failures.status === 429 ? 'RateLimiting' : 'InternalServerError', 'injected failure'), headers);
    }
    let body: { subscriptions?: unknown; query?: unknown; options?: { $top?: unknown; $skipToken?: unknown; resultFormat?: unknown } };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return answer(400, error('BadRequest', 'the body is not JSON'), quotaHeaders);
    }
    const subscriptions = Array.isArray(body.subscriptions) ? body.subscriptions.filter((s): s is string => typeof s === 'string').map((s) => s.toLowerCase()) : [];
    call.subscriptions = subscriptions.length;
    if (subscriptions.length === 0) return answer(400, error('BadRequest', 'no subscriptions'), quotaHeaders);
    if (subscriptions.length > maxSubscriptions) return answer(400, error('BadRequest', `at most ${maxSubscriptions} subscriptions per query`), quotaHeaders);
    const match = QUERY.exec(String(body.query ?? ''));
    if (!match) return answer(400, error('InvalidQuery', 'the simulator answers only `<table> | where type =~ \'<type>\' | project ...`'), quotaHeaders);
    const [, table, type, projection] = match as unknown as [string, string, string, string];
    call.table = table.toLowerCase();
    call.type = type.toLowerCase();
    const columns = projection.split(',').map((c) => c.trim());
    if (!columns.includes('id')) return answer(400, error('BadRequest', 'the simulator pages only queries that project id'), quotaHeaders);
    const failing = failingTypes.get(call.type);
    if (failing !== undefined) return answer(failing, error(failing >= 500 ? 'InternalServerError' : 'BadRequest', `injected failure for ${call.type}`), quotaHeaders);
    if (body.options?.resultFormat !== undefined && body.options.resultFormat !== 'objectArray') return answer(400, error('BadRequest', 'the simulator answers resultFormat objectArray only'), quotaHeaders);
    const top = Math.min(typeof body.options?.$top === 'number' ? body.options.$top : 100, 1000, pageCap);
    call.top = typeof body.options?.$top === 'number' ? body.options.$top : undefined;
    const binding = createHash('sha256').update(`${call.table}|${call.type}|${[...subscriptions].sort().join(',')}`).digest('hex').slice(0, 16);
    let offset = 0;
    if (typeof body.options?.$skipToken === 'string') {
      call.skipToken = true;
      try {
        const decoded = JSON.parse(Buffer.from(body.options.$skipToken, 'base64url').toString('utf8')) as { o?: unknown; b?: unknown };
        if (decoded.b !== binding || typeof decoded.o !== 'number') throw new Error('foreign token');
        offset = decoded.o;
      } catch {
        return answer(400, error('BadRequest', 'the skipToken does not belong to this query'), quotaHeaders);
      }
    }
    // The authorizationresources table holds role assignments; every other type lives in resources.
    const inTable = (r: SimResource) => (r.type === 'microsoft.authorization/roleassignments') === (call.table === 'authorizationresources');
    const rows = [...resources.values()]
      .filter((r) => r.type === call.type && inTable(r) && subscriptions.includes(r.subscriptionId.toLowerCase()))
      .sort((a, b) => (a.id.toLowerCase() < b.id.toLowerCase() ? -1 : 1));
    const page = rows.slice(offset, offset + top).map((r) => {
      const row: Record<string, unknown> = {};
      for (const column of columns) row[column] = (r as unknown as Record<string, unknown>)[column] ?? null;
      return row;
    });
    const next = offset + page.length;
    call.rows = page.length;
    return answer(
      200,
      { totalRecords: rows.length, count: page.length, resultTruncated: 'false', ...(next < rows.length ? { $skipToken: tokenFor(next, binding) } : {}), data: page, facets: [] },
      quotaHeaders,
    );
  }

  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => handle(req, res, raw));
  });
  const listening = await listenOnLoopback(server);
  return {
    endpoint: listening.endpoint,
    calls,
    put: (resource) => void resources.set(resource.id.toLowerCase(), resource),
    remove: (id) => void resources.delete(id.toLowerCase()),
    get: (id) => resources.get(id.toLowerCase()),
    failNext(count, status = 500, retryAfterSec = 1) {
      failures = { count, status, retryAfterSec };
    },
    failType(type, status) {
      if (status === undefined) failingTypes.delete(type.toLowerCase());
      else failingTypes.set(type.toLowerCase(), status);
    },
    setPageCap(cap) {
      pageCap = cap;
    },
    stop: () => listening.stop(),
  };
}
