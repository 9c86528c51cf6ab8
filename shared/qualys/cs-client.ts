import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { JWT_LIFETIME_MS, jwtExpiry, type QualysCredentials } from './auth';
import { systemClock, waitThrough, type Clock } from './clock';
import {
  QualysAuthError,
  QualysConfigError,
  QualysError,
  QualysMalformedResponseError,
  QualysNotFoundError,
  QualysRateLimitError,
  QualysRequestError,
  QualysServerError,
} from './errors';
import { resolveGateway } from './gateway';
import { defaultRateLimiter, rateFamily, RateLimiter, RateWaitTooLong, readRateLimitHeaders, type RatePriority } from './rate-limiter';
import {
  ImageListSchema,
  ImageSchema,
  RegistryListSchema,
  RegistrySchema,
  ScheduleResponseSchema,
  SeverityCountsSchema,
  VulnDetailSchema,
  VulnListSchema,
  type QualysImage,
  type QualysRegistry,
  type QualysSeverityCounts,
  type QualysVulnDetail,
} from './schemas';

export interface RetryOptions {
  /** Attempts for one call on 5xx, timeouts, dropped connections, malformed bodies (default 4). */
  maxAttempts?: number;
  /** Upper bound of the time spent retrying one call (default 60 s). */
  maxRetryMs?: number;
  /** First backoff step (default 500 ms), doubled per attempt with full jitter, capped at 20 s. */
  baseDelayMs?: number;
  /** Longest total wait for 429s inside one call before giving up with QualysRateLimitError (default 120 s). */
  maxRateLimitWaitMs?: number;
}

export interface QualysClientOptions {
  /** POD name (`US2`) or `gateway` URL. */
  pod?: string;
  gateway?: string;
  credentials: QualysCredentials;
  /** Defaults to the process-wide limiter (or a private one when a custom clock is given). */
  rateLimiter?: RateLimiter;
  /** Set false to send without any pacing or 429 handling (only the polling benchmark's baseline does). */
  rateLimit?: boolean;
  clock?: Clock;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  retry?: RetryOptions;
  /** Random source for jitter, injectable for reproducible benchmarks. */
  random?: () => number;
  dispatcher?: Dispatcher;
  /** Renew the JWT this long before it expires (default 5 min). */
  refreshMarginMs?: number;
}

export interface ListImagesQuery {
  filter?: string;
  pageNumber?: number;
  pageSize?: number;
  sort?: string;
  priority?: RatePriority;
}

export interface ImagePage {
  images: QualysImage[];
  /** Items the server put on this page, readable or not: paging decides on this, not on images.length. */
  received: number;
  /** Total matches the server reported (when it did). */
  count?: number;
}

export interface PagingOptions {
  /** Items asked for per page (1-1000, default 1000); the server may send fewer. */
  pageSize?: number;
  /** Pages read at most; a list still growing on the last one is reported incomplete. */
  maxPages?: number;
}

export interface VulnerabilityPagingOptions extends PagingOptions {
  /** How many details the image holds, when known (the sum of its severity counts). */
  expectedTotal?: number;
}

export interface ImageListing {
  images: QualysImage[];
  /** Requests made. */
  pages: number;
  /** Set when images are known to be missing: what the server reported and why paging stopped. */
  incomplete?: string;
}

export interface VulnerabilityReport {
  details: QualysVulnDetail[];
  /** Items dropped because they carry no QID (nothing to key or report them by). */
  skipped: number;
  /** Requests made (pages, and the counts lookup when one was needed). */
  pages: number;
  /** Set when details are known to be missing: what the server reported and why paging stopped. */
  incomplete?: string;
}

interface PageReadSpec<T> {
  /** Plural noun for messages ("images"). */
  what: string;
  pageSize: number;
  maxPages: number;
  /** The total when the caller knows it from elsewhere. */
  total?: number;
  fetch(pageNumber: number, pageSize: number): Promise<{ items: unknown[]; total?: number }>;
  /** The item's identity and parsed value, or undefined when it is unreadable. */
  parse(item: unknown): { key: string; value: T } | undefined;
  /** The error for a page whose every item is unreadable, when that means a broken answer. */
  onlyUnreadable?: () => Error;
  /** Asked for the total when the pages end without saying whether the list was cut. */
  totalWhenUnsure?: () => Promise<number>;
}

interface PagesRead<T> {
  items: T[];
  unreadable: number;
  pages: number;
  incomplete?: string;
}

/**
 * Reads a paged list by what the server says rather than by page length: servers cap pages below the
 * pageSize asked for (100 or 500 for 1000), so a short page ends nothing. It ends when the items read
 * reach the total (the page's own count, or one the caller knows), on an empty page, on a page that
 * adds nothing new (pageNumber ignored), or at maxPages. After a short first page the next ones are
 * asked at the size the server really sends, so their offsets line up whichever size it counts in.
 */
async function readPages<T>(spec: PageReadSpec<T>): Promise<PagesRead<T>> {
  if (!Number.isInteger(spec.pageSize) || spec.pageSize < 1 || spec.pageSize > 1000) throw new QualysConfigError('pageSize', `expected 1-1000, got ${spec.pageSize}`);
  if (!Number.isInteger(spec.maxPages) || spec.maxPages < 1) throw new QualysConfigError('maxPages', `expected a positive integer, got ${spec.maxPages}`);
  const byKey = new Map<string, T>();
  let unreadable = 0;
  let total = spec.total;
  /** A count on the page describes this very list; a total from elsewhere may lag behind it. */
  let totalFromPage = false;
  let size = spec.pageSize;
  let pages = 0;
  let why = `${spec.maxPages} pages were read and the last one still added ${spec.what}`;
  let ending: 'max-pages' | 'empty' | 'repeat' | 'unreadable' = 'max-pages';
  const got = () => byKey.size + unreadable;
  for (let pageNumber = 1; pageNumber <= spec.maxPages; pageNumber++) {
    const page = await spec.fetch(pageNumber, size);
    pages += 1;
    if (page.total !== undefined) {
      total = page.total;
      totalFromPage = true;
    }
    if (page.items.length === 0) {
      ending = 'empty';
      why = `page ${pageNumber} was empty`;
      break;
    }
    const before = byKey.size;
    let readable = 0;
    let bad = 0;
    for (const item of page.items) {
      const parsed = spec.parse(item);
      if (!parsed) {
        bad += 1;
        continue;
      }
      readable += 1;
      if (!byKey.has(parsed.key)) byKey.set(parsed.key, parsed.value);
    }
    if (readable === 0 && spec.onlyUnreadable) throw spec.onlyUnreadable();
    if (readable > 0 && byKey.size === before) {
      // A repeated page's unreadable items were counted the first time round.
      ending = 'repeat';
      why = `page ${pageNumber} repeated ${spec.what} already read (the server ignores pageNumber)`;
      break;
    }
    unreadable += bad;
    if (readable === 0) {
      // Nothing to tell a repeat from progress by: stop rather than guess.
      ending = 'unreadable';
      why = `page ${pageNumber} held no readable item`;
      break;
    }
    const short = page.items.length < size;
    if (total !== undefined && got() >= total && (totalFromPage || short)) return { items: [...byKey.values()], unreadable, pages };
    if (pageNumber === 1 && short) size = page.items.length;
  }
  if (total === undefined && (ending === 'repeat' || ending === 'unreadable') && spec.totalWhenUnsure) {
    total = await spec.totalWhenUnsure();
    pages += 1;
  }
  const read: PagesRead<T> = { items: [...byKey.values()], unreadable, pages };
  if (total !== undefined && got() < total) read.incomplete = `Qualys reported ${total} ${spec.what} and sent ${got()}: ${why}`;
  else if (total === undefined && ending === 'max-pages') read.incomplete = `${got()} ${spec.what} read with more to come: ${why}`;
  return read;
}

export interface ScheduleRequest {
  registryUuid: string;
  repo: string;
  tag: string;
  name: string;
  /** Prefer a forced rescan; falls back to false when the subscription refuses it (default true). */
  forceScan?: boolean;
  priority?: RatePriority;
}

export interface ScheduleReceipt extends ResponseFacts {
  scheduleId: string;
}

interface CallSpec<T> {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** `low` for calls that start new work (see RatePriority). */
  priority?: RatePriority;
  /**
   * Whether sending the request twice is harmless (default: GET yes, POST no). A request that is not
   * is never resent after it may have reached the server (timeout, connection lost after sending,
   * unreadable 2xx answer); only answers that say it was not done (5xx, 429) are retried.
   */
  idempotent?: boolean;
  /** Parses the JSON body (with what the response says beside it); omit for bodiless responses. */
  parse?: (json: unknown, response: ResponseFacts) => T;
  /** Responses with these statuses return undefined instead of failing. */
  emptyOn?: number[];
}

/** What a response says besides its body. */
export interface ResponseFacts {
  /** The server's clock (HTTP Date header, whole seconds) when it answered, in epoch ms. */
  serverTime?: number;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const API_PREFIX = '/csapi/v1.3';
const MAX_BACKOFF_MS = 20_000;

class TransientError extends Error {
  constructor(
    readonly error: QualysError,
    /** False only when the request certainly never reached the server (e.g. connection refused). */
    readonly maybeDelivered = true,
  ) {
    super(error.message);
  }
}

/**
 * Transport failures that happen before any byte of the request leaves this process. Everything else
 * (timeouts, resets, "other side closed") may come after the server read the request and acted on it.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

function responseFacts(headers: Record<string, string | string[] | undefined>): ResponseFacts {
  const raw = headers.date;
  const date = Date.parse(Array.isArray(raw) ? (raw[0] ?? '') : (raw ?? ''));
  return Number.isFinite(date) ? { serverTime: date } : {};
}

function bodyMessage(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return '';
  try {
    const json = JSON.parse(trimmed) as Record<string, unknown>;
    const message = json.message ?? json.errorMessage ?? json.error;
    if (typeof message === 'string') return message.slice(0, 300);
  } catch {
    // Not JSON: use the text itself.
  }
  return trimmed.slice(0, 300);
}

function parseWith<S extends z.ZodType>(schema: S, json: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QualysMalformedResponseError(`malformed ${what}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unexpected shape'}`);
  }
  return parsed.data;
}

/**
 * Container Security API v1.3 client: JWT or access-token auth, rate-limit pacing shared by the whole
 * process, retries with jittered exponential backoff for transient failures, typed errors.
 * Credentials are held in memory only and never appear in errors or logs.
 */
export class QualysClient {
  readonly gateway: string;
  readonly clock: Clock;
  readonly rateLimiter: RateLimiter;
  readonly #credentials: QualysCredentials;
  private readonly limitRate: boolean;
  private readonly timeoutMs: number;
  private readonly retry: Required<RetryOptions>;
  private readonly random: () => number;
  private readonly dispatcher?: Dispatcher;
  private readonly refreshMarginMs: number;
  #jwt?: { value: string; expiresAt: number };
  private pendingAuth?: Promise<string>;
  /** Counters for metrics and the benchmark. */
  readonly stats = { requests: 0, rateLimited: 0, retries: 0, authentications: 0 };

  constructor(options: QualysClientOptions) {
    this.gateway = resolveGateway(options);
    const creds = options.credentials;
    if (!creds) throw new QualysConfigError('credentials', 'an access token or a username and password are required');
    if (creds.kind === 'token' && !creds.token) throw new QualysConfigError('credentials.token', 'must not be empty');
    if (creds.kind === 'password' && (!creds.username || !creds.password)) {
      throw new QualysConfigError('credentials', 'username and password must both be set');
    }
    this.#credentials = creds;
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? (options.clock ? new RateLimiter({ clock: options.clock }) : defaultRateLimiter);
    this.limitRate = options.rateLimit ?? true;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.retry = {
      maxAttempts: options.retry?.maxAttempts ?? 4,
      maxRetryMs: options.retry?.maxRetryMs ?? 60_000,
      baseDelayMs: options.retry?.baseDelayMs ?? 500,
      maxRateLimitWaitMs: options.retry?.maxRateLimitWaitMs ?? 120_000,
    };
    this.random = options.random ?? Math.random;
    if (options.dispatcher) this.dispatcher = options.dispatcher;
    this.refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
  }

  // ---- API calls -------------------------------------------------------------------------------

  /** One page of `GET /images` (pageNumber from 1, pageSize 1-1000). */
  async listImages(query: ListImagesQuery = {}): Promise<ImagePage> {
    const pageSize = query.pageSize ?? 50;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new QualysConfigError('pageSize', `expected 1-1000, got ${pageSize}`);
    const page = await this.call({
      method: 'GET',
      path: '/images',
      query: { filter: query.filter, pageNumber: query.pageNumber ?? 1, pageSize, sort: query.sort },
      parse: (json) => parseWith(ImageListSchema, json, 'image list'),
      emptyOn: [204],
      ...(query.priority ? { priority: query.priority } : {}),
    });
    if (!page) return { images: [], received: 0 };
    const images: QualysImage[] = [];
    for (const item of page.data) {
      const parsed = ImageSchema.safeParse(item);
      if (parsed.success) images.push(parsed.data);
    }
    // An answer whose items are all unreadable is not an empty result.
    if (page.data.length > 0 && images.length === 0) throw new QualysMalformedResponseError('malformed image list: no item has a sha');
    return { images, received: page.data.length, ...(page.count !== undefined ? { count: page.count } : {}) };
  }

  /** Every image matching a QQL filter, across pages (see listAllImages); possibly incomplete. */
  async findImages(filter: string, options: PagingOptions & { sort?: string } = {}): Promise<QualysImage[]> {
    return (await this.listAllImages(filter, options)).images;
  }

  /**
   * Every image matching a QQL filter, across pages, with what the server said about completeness.
   * Paging ends when the images read reach the server's `count`, on an empty page, or on a page that
   * adds nothing new (a server that ignores pageNumber); a short page alone ends nothing, because
   * servers cap pages below the pageSize asked for. `incomplete` says why when images are known to be missing.
   */
  async listAllImages(filter: string, options: PagingOptions & { sort?: string } = {}): Promise<ImageListing> {
    const read = await readPages<QualysImage>({
      what: 'images',
      pageSize: options.pageSize ?? 1000,
      maxPages: options.maxPages ?? 100,
      fetch: async (pageNumber, pageSize) => {
        const page = await this.call({
          method: 'GET',
          path: '/images',
          query: { filter, pageNumber, pageSize, sort: options.sort },
          parse: (json) => parseWith(ImageListSchema, json, 'image list'),
          emptyOn: [204],
        });
        return { items: page?.data ?? [], ...(page?.count !== undefined ? { total: page.count } : {}) };
      },
      parse: (item) => {
        const parsed = ImageSchema.safeParse(item);
        return parsed.success ? { key: parsed.data.sha, value: parsed.data } : undefined;
      },
      onlyUnreadable: () => new QualysMalformedResponseError('malformed image list: no item has a sha'),
    });
    return { images: read.items, pages: read.pages, ...(read.incomplete ? { incomplete: read.incomplete } : {}) };
  }

  /** `GET /images/{sha}`; QualysNotFoundError while Qualys does not know the image. */
  async getImage(sha: string): Promise<QualysImage> {
    const image = await this.call({ method: 'GET', path: `/images/${encodeURIComponent(sha)}`, parse: (json) => parseWith(ImageSchema, json, 'image') });
    return image!;
  }

  /** Every vulnerability detail of an image, across pages (see getVulnerabilityReport). */
  async getVulnerabilities(sha: string, options: VulnerabilityPagingOptions = {}): Promise<QualysVulnDetail[]> {
    return (await this.getVulnerabilityReport(sha, options)).details;
  }

  /**
   * Every vulnerability detail of an image, across pages, parsed one by one: a detail without a QID is
   * skipped and counted, one with an unusable severity is kept (its raw severity is mapped by the caller).
   * The endpoint sends no count, so the total is the image's severity counts when the caller has them
   * (`expectedTotal`); without it paging goes on to an empty page, and a server that repeats its first
   * page is asked for the counts (`/vuln/count`) to tell a complete list from a cut one.
   */
  async getVulnerabilityReport(sha: string, options: VulnerabilityPagingOptions = {}): Promise<VulnerabilityReport> {
    const path = `/images/${encodeURIComponent(sha)}/vuln`;
    const read = await readPages<QualysVulnDetail>({
      what: 'vulnerabilities',
      pageSize: options.pageSize ?? 1000,
      maxPages: options.maxPages ?? 50,
      ...(options.expectedTotal !== undefined ? { total: options.expectedTotal } : {}),
      fetch: async (pageNumber, pageSize) => {
        const details = await this.call({
          method: 'GET',
          path,
          query: { type: 'DETAILS', pageNumber, pageSize },
          parse: (json) => parseWith(VulnListSchema, json, 'vulnerability list').details,
          emptyOn: [204],
        });
        return { items: details ?? [] };
      },
      parse: (item) => {
        const parsed = VulnDetailSchema.safeParse(item);
        // Keyed by QID: a server that ignores pageNumber hands back the same page, which must not count twice.
        return parsed.success ? { key: parsed.data.qid, value: parsed.data } : undefined;
      },
      totalWhenUnsure: async () => {
        const counts = await this.getVulnerabilityCounts(sha);
        return counts.severity1Count + counts.severity2Count + counts.severity3Count + counts.severity4Count + counts.severity5Count;
      },
    });
    return { details: read.items, skipped: read.unreadable, pages: read.pages, ...(read.incomplete ? { incomplete: read.incomplete } : {}) };
  }

  async getVulnerabilityCounts(sha: string): Promise<QualysSeverityCounts> {
    const counts = await this.call({
      method: 'GET',
      path: `/images/${encodeURIComponent(sha)}/vuln/count`,
      parse: (json) => parseWith(SeverityCountsSchema, json, 'vulnerability counts'),
    });
    return counts!;
  }

  /** The registry connector for a URI, or undefined (204 / no match). */
  async findRegistry(registryUri: string, priority: RatePriority = 'normal'): Promise<QualysRegistry | undefined> {
    const list = await this.call({
      method: 'GET',
      path: '/registry',
      query: { filter: `registryUri:"${registryUri.replace(/"/g, '')}"`, pageNumber: 1, pageSize: 50 },
      parse: (json) => parseWith(RegistryListSchema, json, 'registry list'),
      emptyOn: [204],
      priority,
    });
    const want = registryUri.replace(/\/+$/, '').toLowerCase();
    for (const item of list?.data ?? []) {
      const parsed = RegistrySchema.safeParse(item);
      if (parsed.success && parsed.data.registryUri.replace(/\/+$/, '').toLowerCase() === want) return parsed.data;
    }
    return undefined;
  }

  /** On-demand scan of repo:tag on an onboarded registry; returns the schedule id. */
  async scheduleScan(req: ScheduleRequest): Promise<string> {
    return (await this.schedule(req)).scheduleId;
  }

  /**
   * On-demand scan of repo:tag, with the server's time of the answer when it sent one: a scan that
   * finished before it is an older one, whatever this host's clock says.
   */
  async schedule(req: ScheduleRequest): Promise<ScheduleReceipt> {
    const send = (forceScan: boolean) =>
      this.call({
        method: 'POST',
        path: `/registry/${encodeURIComponent(req.registryUuid)}/schedule`,
        body: { name: req.name, onDemand: true, filters: [{ repoTags: [{ repo: req.repo, tag: req.tag }], days: null }], forceScan },
        parse: (json, facts): ScheduleReceipt => ({ scheduleId: parseWith(ScheduleResponseSchema, json, 'schedule response').scheduleId, ...facts }),
        priority: req.priority ?? 'normal',
      });
    const force = req.forceScan ?? true;
    try {
      return (await send(force))!;
    } catch (err) {
      // forceScan is a subscription feature; a 4xx that names it means "not for you", not "bad request".
      if (force && err instanceof QualysRequestError && /force\s*scan/i.test(err.message)) return (await send(false))!;
      throw err;
    }
  }

  // ---- transport -------------------------------------------------------------------------------

  private async authenticate(): Promise<string> {
    const creds = this.#credentials;
    if (creds.kind === 'token') return creds.token;
    const now = this.clock.now();
    if (this.#jwt && now < this.#jwt.expiresAt - this.refreshMarginMs) return this.#jwt.value;
    // Another call's token request: waiting for it is idle time here.
    if (this.pendingAuth) return waitThrough(this.clock, this.pendingAuth);
    this.pendingAuth = this.fetchJwt(creds).finally(() => (this.pendingAuth = undefined));
    return this.pendingAuth;
  }

  private async fetchJwt(creds: { username: string; password: string }): Promise<string> {
    const body = new URLSearchParams({ username: creds.username, password: creds.password, token: 'true' }).toString();
    const res = await this.withRetries('/auth', async () => {
      const raw = await this.send('POST', `${this.gateway}/auth`, { 'content-type': 'application/x-www-form-urlencoded' }, body);
      if (raw.status >= 500) throw new TransientError(new QualysServerError(`POST /auth answered ${raw.status}`, raw.status));
      // /auth is documented as exempt from rate limits; a 429 there is a passing gateway condition, not bad credentials.
      if (raw.status === 429) throw new TransientError(new QualysRateLimitError('POST /auth answered 429', Number(raw.headers['x-ratelimit-towait-sec'] ?? 60) || 60));
      return raw;
    });
    if (res.status === 401 || res.status === 403 || res.status === 400) {
      // The user name is a configured secret: error messages end up in stored results, so it stays out.
      throw new QualysAuthError(`Qualys rejected the configured API user credentials (HTTP ${res.status})`, res.status);
    }
    if (res.status < 200 || res.status >= 300) throw new QualysAuthError(`POST /auth answered HTTP ${res.status}`, res.status);
    const jwt = res.text.trim();
    if (!/^[A-Za-z0-9._~+/=-]+$/.test(jwt)) throw new QualysMalformedResponseError('POST /auth did not return a token');
    this.stats.authentications += 1;
    const issuedAt = this.clock.now();
    this.#jwt = { value: jwt, expiresAt: Math.min(jwtExpiry(jwt) ?? Infinity, issuedAt + JWT_LIFETIME_MS) };
    return jwt;
  }

  private async send(method: string, url: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
    try {
      const res = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text };
    } catch (err) {
      const e = err as Error;
      const what = e.name === 'TimeoutError' || e.name === 'AbortError' ? `timed out after ${this.timeoutMs} ms` : `connection failed (${e.message})`;
      const code = errorCode(err);
      throw new TransientError(new QualysServerError(`${method} ${new URL(url).pathname}: ${what}`), !(code && NOT_SENT_CODES.has(code)));
    }
  }

  /** Runs `attempt`, retrying TransientErrors with jittered exponential backoff inside the bounds. */
  private async withRetries<T>(label: string, attempt: () => Promise<T>): Promise<T> {
    const started = this.clock.now();
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof TransientError)) throw err;
        const delay = this.random() * Math.min(MAX_BACKOFF_MS, this.retry.baseDelayMs * 2 ** (n - 1));
        if (n >= this.retry.maxAttempts || this.clock.now() - started + delay > this.retry.maxRetryMs) throw err.error;
        this.stats.retries += 1;
        await this.clock.sleep(delay);
      }
    }
  }

  private async call<T>(spec: CallSpec<T>): Promise<T | undefined> {
    const apiPath = `${API_PREFIX}${spec.path}`;
    const family = rateFamily(spec.method, apiPath);
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) search.set(k, String(v));
    const url = `${this.gateway}${apiPath}${search.size > 0 ? `?${search.toString()}` : ''}`;
    const label = `${spec.method} ${apiPath}`;
    const idempotent = spec.idempotent ?? spec.method === 'GET';
    let reauthenticated = false;
    let rateWaitedMs = 0;
    return this.withRetries(label, async () => {
      for (;;) {
        let grant;
        if (this.limitRate) {
          try {
            grant = await this.rateLimiter.acquire(family, spec.priority ?? 'normal', this.retry.maxRateLimitWaitMs - rateWaitedMs);
          } catch (err) {
            if (err instanceof RateWaitTooLong) throw new QualysRateLimitError(`${label}: ${err.message}`, Math.ceil(err.waitMs / 1000));
            throw err;
          }
        }
        let raw: RawResponse;
        try {
          const token = await this.authenticate();
          const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
          if (spec.body !== undefined) headers['content-type'] = 'application/json';
          this.stats.requests += 1;
          raw = await this.send(spec.method, url, headers, spec.body === undefined ? undefined : JSON.stringify(spec.body));
        } catch (err) {
          if (grant) this.rateLimiter.release(grant);
          if (err instanceof TransientError && err.maybeDelivered && !idempotent) {
            // Sending it again could do it twice (a second on-demand schedule). The error stays retryable:
            // the caller's queue retries the whole operation, which looks for the first one's result first.
            throw new QualysServerError(`${err.error.message}; not resent because Qualys may have acted on it`);
          }
          throw err;
        }
        const rate = readRateLimitHeaders(raw.headers);
        const { status } = raw;
        // The CS API signals rate limits with 429; 409 is the classic APIs' code (qualys.md). A 409 here
        // counts as one only when the rate headers say the budget is spent; otherwise it is a conflict.
        const limited = status === 429 || (status === 409 && (rate.remaining === 0 || (rate.toWaitSec ?? 0) > 0));
        if (limited) {
          this.stats.rateLimited += 1;
          // The limiter blocks the budget for everyone in this process and says for how long.
          const waitMs = grant ? this.rateLimiter.rejected(grant, rate) : (rate.toWaitSec || rate.windowSec || 60) * 1000;
          const waitSec = Math.max(1, Math.ceil(waitMs / 1000));
          if (!this.limitRate || rateWaitedMs + waitMs > this.retry.maxRateLimitWaitMs) {
            throw new QualysRateLimitError(`${label}: rate limited (HTTP ${status}); retry after ${waitSec} s`, waitSec, status);
          }
          rateWaitedMs += waitMs;
          continue;
        }
        if (grant) this.rateLimiter.complete(grant, rate, status < 400);
        if (status === 401) {
          if (this.#credentials.kind === 'password' && !reauthenticated) {
            reauthenticated = true;
            this.#jwt = undefined;
            continue;
          }
          throw new QualysAuthError(`${label}: Qualys rejected the ${this.#credentials.kind === 'token' ? 'access token' : 'token after re-authentication'} (HTTP 401)`, 401);
        }
        if (status === 403) throw new QualysAuthError(`${label}: forbidden (HTTP 403) ${bodyMessage(raw.text)}`.trim(), 403);
        if (spec.emptyOn?.includes(status)) return undefined;
        if (status === 404) throw new QualysNotFoundError(`${label}: not found`, 404);
        if (status >= 500) throw new TransientError(new QualysServerError(`${label}: HTTP ${status} ${bodyMessage(raw.text)}`.trim(), status));
        if (status < 200 || status >= 300) throw new QualysRequestError(`${label}: HTTP ${status} ${bodyMessage(raw.text)}`.trim(), status);
        if (!spec.parse) return undefined;
        // A 2xx says the server did it: an unreadable answer to a non-idempotent call must not make us do it again.
        const unreadable = (error: QualysMalformedResponseError): Error => (idempotent ? new TransientError(error) : error);
        let json: unknown;
        try {
          json = JSON.parse(raw.text);
        } catch {
          throw unreadable(new QualysMalformedResponseError(`${label}: response body is not JSON`, status));
        }
        try {
          return spec.parse(json, responseFacts(raw.headers));
        } catch (err) {
          if (err instanceof QualysMalformedResponseError) throw unreadable(new QualysMalformedResponseError(`${label}: ${err.message}`, status));
          throw err;
        }
      }
    });
  }
}

export function createQualysClient(options: QualysClientOptions): QualysClient {
  return new QualysClient(options);
}
