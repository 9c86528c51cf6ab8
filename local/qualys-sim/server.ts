import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SeverityCounts } from '../../shared/severity';
import {
  Catalogue,
  loadKnowledgeBase,
  loadRegistries,
  loadSeedImages,
  type KbVulnerability,
  type RegisterImageInput,
  type SimImage,
  type SimRegistry,
} from './catalogue';
import { SimClock } from './clock';
import { mulberry32 } from './random';
import { evaluateQql, parseQql, QqlError, type QqlFields } from './qql';

export type SimFamily = 'images-list' | 'images' | 'registry';
export interface SimRateLimit {
  limit: number;
  windowSec: number;
}
/** Per-family limits (Qualys' documented defaults), or one budget shared by every endpoint (a subscription cap). */
export interface SimRateLimitConfig {
  families?: Partial<Record<SimFamily, SimRateLimit>>;
  global?: SimRateLimit;
}
export const DOCUMENTED_RATE_LIMITS: Record<SimFamily, SimRateLimit> = {
  'images-list': { limit: 120, windowSec: 60 },
  images: { limit: 5000, windowSec: 60 },
  registry: { limit: 1000, windowSec: 60 },
};

export interface FaultRule {
  /** Substring of the path (or a RegExp) the rule applies to; all paths when omitted. */
  path?: string | RegExp;
  method?: 'GET' | 'POST';
  /**
   * status: answer `status` without doing anything. malformed: truncated JSON. drop: close the connection
   * before doing anything. drop-after: do the work (e.g. create the schedule), then close the connection
   * instead of answering, as a gateway that times out or resets after the backend acted. bad-item: answer
   * normally but strip the identifying key (sha, registryUuid, qid) from the first item of the list.
   * delay: answer normally after delayMs.
   */
  kind: 'status' | 'malformed' | 'drop' | 'drop-after' | 'bad-item' | 'delay';
  /** For kind status (default 503). */
  status?: number;
  /** For kind status: extra response headers (e.g. X-RateLimit-* on a 409). */
  headers?: Record<string, string>;
  /** For kind delay: real milliseconds before answering normally. */
  delayMs?: number;
  /** How many matching requests the rule hits (default 1). */
  times?: number;
}

/** Random faults on every API call (not /auth), drawn from the simulator's seeded generator. */
export interface FaultRates {
  serverErrorRate?: number;
  malformedRate?: number;
  dropRate?: number;
  /** Real milliseconds added to every answer. */
  latencyMs?: number;
}

export interface SimCall {
  /** Simulated epoch ms. */
  at: number;
  /**
   * The rate-limit window the call was counted in (`<family or global>@<window start>`), whether the
   * limiter refused it (429), and whether the answer carried the X-RateLimit-* headers.
   */
  rate?: { window: string; limited: boolean; headers: boolean };
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  family?: SimFamily;
  auth: 'jwt' | 'token' | 'none' | 'rejected';
  fault?: string;
  /** JSON body of schedule posts. */
  body?: unknown;
}

export interface ScheduledScan {
  scheduleId: string;
  registryUuid: string;
  repo: string;
  tag: string;
  forceScan: boolean;
  requestedAt: number;
  completeAt: number;
  /** Image the schedule found (undefined when the registry has no such repo:tag: the scan never lands). */
  sha?: string;
  done: boolean;
}

/**
 * How the server pages `GET /images` and `GET /images/{sha}/vuln`. The documented contract leaves room
 * for all of these; a client must get every item (or say it could not) under each of them.
 */
export interface SimPaging {
  /** Largest page the server sends, whatever pageSize asked for (undefined: as asked). */
  pageCap?: number;
  /** pageNumber and pageSize are ignored: every request gets the first page of the server's default size (50 for /images, every item for /vuln), capped by pageCap. */
  ignorePaging?: boolean;
  /** Whether `/images` answers carry `count` (default true). */
  count?: boolean;
}

/**
 * Which answers carry the X-RateLimit-* headers: every one (default), all but the 429s (a gateway that
 * rejects before the rate service adds them), or none at all.
 */
export type SimRateHeaders = 'always' | 'not-on-429' | 'never';

/**
 * What an image looks like while a new scan of it runs: `previous` keeps showing the older scan
 * (its lastScanned and status; a never-scanned image stays hidden) until the new one finishes;
 * `in-progress` shows scanStatus IN_PROGRESS from the moment the scan starts (a never-scanned image
 * appears then, with no lastScanned) until it finishes; `hidden` shows nothing of the image (404, left
 * out of lists) until the new scan finishes.
 */
export type SimRescanView = 'previous' | 'in-progress' | 'hidden';

/** Server behaviours that can be switched at start or at run time (setBehaviour). */
export interface SimBehaviour {
  paging?: SimPaging;
  rateLimitHeaders?: SimRateHeaders;
  rescanView?: SimRescanView;
  /** The server's clock runs this far ahead of the simulated clock (negative: behind); it shows in every timestamp it sends. */
  clockSkewMs?: number;
}

export interface QualysSimulatorOptions extends SimBehaviour {
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Shared simulated clock (default: a new SimClock). */
  clock?: SimClock;
  users?: { username: string; password: string }[];
  accessTokens?: string[];
  jwtTtlMs?: number;
  /** Load data/*.json (default true). */
  seed?: boolean;
  /** false = no limits; default DOCUMENTED_RATE_LIMITS. */
  rateLimit?: SimRateLimitConfig | false;
  /** Duration of an on-demand scan (ms); default by size: <100 MB 30-60 s, <400 MB 1-3 min, else 3-10 min. */
  scanDuration?: (image: SimImage, random: () => number) => number;
  faults?: FaultRates;
  /** Whether the subscription allows forceScan (default true; false answers 400 naming it). */
  forceScanSupported?: boolean;
  /** Seed of the random generator (durations, random faults). */
  randomSeed?: number;
}

/**
 * `sort` fields GET /images accepts. qualys.md documents only `created` (`created:desc`); anything else
 * is refused with 400 so that clients cannot come to depend on an undocumented ordering.
 */
export const DOCUMENTED_IMAGE_SORT_FIELDS: readonly string[] = ['created'];

export interface QualysSimulator {
  url: string;
  clock: SimClock;
  callLog: SimCall[];
  catalogue: Catalogue;
  schedules: ScheduledScan[];
  /** Credentials the simulator accepts by default. */
  credentials: { username: string; password: string; accessToken: string };
  stop(): Promise<void>;
  registerImage(input: RegisterImageInput): SimImage;
  registerRegistry(registry: Omit<SimRegistry, 'registryUuid'> & { registryUuid?: string }): SimRegistry;
  registerVulnerability(v: KbVulnerability): void;
  /** The catalogue image behind a reference (`registry/repo:tag`, `repo:tag` for Docker Hub, or `...@sha256:`). */
  findImage(reference: string): SimImage | undefined;
  /** Counts a correct client must report for an image (from its QIDs' severities). */
  expectedCounts(reference: string): SeverityCounts;
  injectFault(rule: FaultRule): void;
  setFaultRates(rates: FaultRates): void;
  clearFaults(): void;
  /** Revokes every JWT issued so far (the next call with one gets 401). */
  expireTokens(): void;
  setRateLimit(config: SimRateLimitConfig | false): void;
  /** Switches server behaviours (paging, rate-limit headers, the rescan view, clock skew); omitted keys keep their value. */
  setBehaviour(behaviour: SimBehaviour): void;
  /** Runs due scan completions now (the server also does this on every request). */
  tick(): void;
}

export function defaultScanDuration(image: SimImage, random: () => number): number {
  const mb = image.size / 1_048_576;
  const [lo, hi] = mb < 100 ? [30, 60] : mb < 400 ? [60, 180] : [180, 600];
  return Math.round((lo + random() * (hi - lo)) * 1000);
}

function familyOf(method: string, path: string): SimFamily | undefined {
  if (method === 'GET' && path === '/csapi/v1.3/images') return 'images-list';
  if (path.startsWith('/csapi/v1.3/images/')) return 'images';
  if (path === '/csapi/v1.3/registry' || path.startsWith('/csapi/v1.3/registry/')) return 'registry';
  return undefined;
}

function registryHost(uri: string): string {
  const host = uri.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return ['registry-1.docker.io', 'index.docker.io', 'docker.io'].includes(host) ? 'docker.io' : host;
}

/** How the API names an image's registry in `repo[]` (Docker Hub appears under its registry host). */
function displayRegistry(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

/**
 * Starts the Qualys Container Security API simulator on 127.0.0.1 (port 0): `/auth`, `/csapi/v1.3/images`
 * (QQL filter, paging, sort), `/images/{sha}`, `/images/{sha}/vuln` (+ `/count`), `/registry`,
 * `/registry/{uuid}/schedule`, with rate-limit headers and 429s, fault injection, a call log and a
 * simulated clock. On-demand scans land after a drawn duration of simulated time.
 */
export async function startQualysSimulator(options: QualysSimulatorOptions = {}): Promise<QualysSimulator> {
  const clock = options.clock ?? new SimClock();
  const random = mulberry32(options.randomSeed ?? 42);
  const catalogue = new Catalogue(() => clock.now());
  const users = options.users ?? [{ username: 'shipscan-sim', password: 'sim-password' }];
  const accessTokens = new Set(options.accessTokens ?? ['sim-access-token']);
  const jwtTtlMs = options.jwtTtlMs ?? 4 * 3_600_000;
  const jwtSecret = randomBytes(32);
  const issuedJtis: string[] = [];
  const revokedJtis = new Set<string>();
  let rateLimit: SimRateLimitConfig | false = options.rateLimit ?? { families: DOCUMENTED_RATE_LIMITS };
  const windows = new Map<string, { start: number; used: number }>();
  let faultRates: FaultRates = options.faults ?? {};
  const faultRules: (FaultRule & { left: number })[] = [];
  const scanDuration = options.scanDuration ?? defaultScanDuration;
  const forceScanSupported = options.forceScanSupported ?? true;
  const callLog: SimCall[] = [];
  const schedules: ScheduledScan[] = [];
  let running = 0;
  const behaviour: Required<Omit<SimBehaviour, 'paging'>> & { paging: SimPaging } = {
    paging: options.paging ?? {},
    rateLimitHeaders: options.rateLimitHeaders ?? 'always',
    rescanView: options.rescanView ?? 'previous',
    clockSkewMs: options.clockSkewMs ?? 0,
  };
  /** Time as the server's own clock shows it (what it puts in timestamps and the Date header). */
  const serverTime = (ms: number): number => ms + behaviour.clockSkewMs;

  if (options.seed ?? true) {
    for (const v of loadKnowledgeBase()) catalogue.registerVulnerability(v);
    for (const r of loadRegistries()) catalogue.registerRegistry(r);
    for (const i of loadSeedImages()) catalogue.registerImage(i);
  }

  const tick = (): void => {
    const now = clock.now();
    for (const s of schedules) {
      if (s.done || s.completeAt > now) continue;
      s.done = true;
      const image = s.sha ? catalogue.images.find((i) => i.sha === s.sha) : undefined;
      if (!image) continue;
      image.lastScanned = Math.max(image.lastScanned ?? 0, s.completeAt);
      image.scanStatus = image.scanOutcome;
      delete image.scanStartedAt;
      delete image.hiddenWhileScanning;
      if (image.scanOutcome === 'FAILED') image.scanErrorCode = image.plannedErrorCode ?? 'SCAN_FAILED';
      else delete image.scanErrorCode;
    }
  };

  // ---- auth ----------------------------------------------------------------------------------
  const signJwt = (sub: string): string => {
    const now = clock.now();
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const jti = randomUUID();
    issuedJtis.push(jti);
    const payload = Buffer.from(JSON.stringify({ sub, iat: Math.floor(now / 1000), exp: Math.floor((now + jwtTtlMs) / 1000), jti })).toString('base64url');
    const sig = createHmac('sha256', jwtSecret).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${sig}`;
  };
  const checkBearer = (authorization: string | undefined): SimCall['auth'] => {
    const m = /^Bearer (.+)$/.exec(authorization ?? '');
    if (!m) return 'none';
    const token = m[1]!;
    if (accessTokens.has(token)) return 'token';
    const [h, p, s] = token.split('.');
    if (!h || !p || !s) return 'rejected';
    const expected = createHmac('sha256', jwtSecret).update(`${h}.${p}`).digest('base64url');
    if (expected !== s) return 'rejected';
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { exp: number; jti: string };
    if (payload.exp * 1000 <= clock.now() || revokedJtis.has(payload.jti)) return 'rejected';
    return 'jwt';
  };

  // ---- rate limiting -------------------------------------------------------------------------
  const rateCheck = (family: SimFamily): { headers: Record<string, string>; limited: boolean; window?: string } => {
    if (rateLimit === false) return { headers: {}, limited: false };
    const rule = rateLimit.global ?? rateLimit.families?.[family] ?? DOCUMENTED_RATE_LIMITS[family];
    const key = rateLimit.global ? 'global' : family;
    const now = clock.now();
    const windowMs = rule.windowSec * 1000;
    let w = windows.get(key);
    if (!w || now >= w.start + windowMs) {
      w = { start: now, used: 0 };
      windows.set(key, w);
    }
    const limited = w.used >= rule.limit;
    if (!limited) w.used += 1;
    const remaining = rule.limit - w.used;
    const toWait = remaining <= 0 ? Math.max(1, Math.ceil((w.start + windowMs - now) / 1000)) : 0;
    return {
      limited,
      window: `${key}@${w.start}`,
      headers: {
        'X-RateLimit-Limit': String(rule.limit),
        'X-RateLimit-Window-Sec': String(rule.windowSec),
        'X-RateLimit-Remaining': String(Math.max(0, remaining)),
        'X-RateLimit-ToWait-Sec': String(toWait),
      },
    };
  };

  // ---- representations -----------------------------------------------------------------------
  const imageJson = (image: SimImage): Record<string, unknown> => {
    // An image whose first scan is still running has no findings yet.
    const counts = image.lastScanned === undefined ? { critical: 0, high: 0, medium: 0, low: 0, informational: 0, total: 0 } : catalogue.countsOf(image);
    const odd = parseInt(image.sha.slice(-1), 16) % 2 === 1;
    return {
      uuid: `${image.sha.slice(0, 8)}-${image.sha.slice(8, 12)}-${image.sha.slice(12, 16)}-${image.sha.slice(16, 20)}-${image.sha.slice(20, 32)}`,
      sha: image.sha,
      imageId: image.sha.slice(0, 12),
      operatingSystem: image.os ?? null,
      architecture: 'amd64',
      repo: image.tags.map((tag) => ({ registry: displayRegistry(image.registry), repository: image.repository, tag })),
      repoDigests: [{ registry: displayRegistry(image.registry), repository: image.repository, digest: image.digest }],
      created: String(serverTime(image.created)),
      updated: String(serverTime(image.scanStartedAt ?? image.lastScanned ?? image.created)),
      lastScanned: image.lastScanned === undefined ? null : String(serverTime(image.lastScanned)),
      // The real API mixes numbers and numeric strings; so does the simulator.
      size: odd ? String(image.size) : image.size,
      scanStatus: image.scanStatus ?? null,
      scanTypes: ['STATIC'],
      ...(image.scanErrorCode ? { scanErrorCode: image.scanErrorCode } : {}),
      vulnerabilities: {
        severity1Count: counts.informational,
        severity2Count: counts.low,
        severity3Count: odd ? String(counts.medium) : counts.medium,
        severity4Count: counts.high,
        severity5Count: counts.critical,
      },
      registryUuid: image.registryUuid ?? null,
      source: ['REGISTRY'],
      label: [],
      riskScore: counts.critical * 90 + counts.high * 40,
      layersCount: 7,
      customerUuid: '0b5f0d3e-5c6a-4a3e-8f7e-customer0001',
    };
  };

  const vulnJson = (image: SimImage): Record<string, unknown>[] =>
    (image.lastScanned === undefined ? [] : image.vulns).map((v) => {
      const kb = catalogue.kb.get(v.qid)!;
      return {
        qid: v.qid,
        title: kb.title,
        severity: v.qid % 2 === 1 ? String(kb.severity) : kb.severity,
        cveids: kb.cveids,
        ...(kb.cvss3 !== undefined ? { cvss3Info: { baseScore: kb.cvss3.toFixed(1), temporalScore: (kb.cvss3 * 0.9).toFixed(1) } } : {}),
        software: v.package ? [{ name: v.package, version: v.version, fixVersion: v.fixVersion || null }] : [],
        firstFound: String(serverTime(image.firstFound)),
        lastFound: String(serverTime(image.lastScanned ?? image.firstFound)),
        typeDetected: 'CONFIRMED',
        category: kb.category ?? 'Local',
        result: v.package ? `${v.package} ${v.version}` : 'detected',
        patchAvailable: Boolean(v.fixVersion),
        vendorData: [],
      };
    });

  const imageFields = (image: SimImage): QqlFields => (field) => {
    switch (field) {
      case 'repo.repository':
        return [image.repository];
      case 'repo.tag':
        return image.tags;
      case 'repo.registry':
        return [image.registry, displayRegistry(image.registry)];
      case 'repoDigests.digest':
        return [image.digest];
      case 'sha':
        return [image.sha];
      case 'imageId':
        return [image.sha.slice(0, 12)];
      case 'scanStatus':
        return [image.scanStatus];
      case 'registryUuid':
        return [image.registryUuid];
      case 'operatingSystem':
        return [image.os];
      case 'created':
        return [serverTime(image.created)];
      case 'updated':
        return [serverTime(image.scanStartedAt ?? image.lastScanned ?? image.created)];
      case 'lastScanned':
        return [image.lastScanned === undefined ? undefined : serverTime(image.lastScanned)];
      case 'imagesInUse':
        return [];
      default:
        return undefined;
    }
  };

  // ---- HTTP ----------------------------------------------------------------------------------
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    // Counts this request in `running` once it is, and out exactly once on any way out (answer, drop,
    // internal error), so X-Concurrency-Limit-Running cannot drift.
    let counted = false;
    const slot = {
      enter: (): void => {
        counted = true;
        running += 1;
      },
      leave: (): void => {
        if (!counted) return;
        counted = false;
        running -= 1;
      },
    };
    void handle(req, res, slot).catch((err: unknown) => {
      slot.leave();
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json', 'X-Concurrency-Limit-Limit': '10', 'X-Concurrency-Limit-Running': String(Math.max(0, running)) });
        res.end(JSON.stringify({ errorCode: 'INTERNAL', message: (err as Error).message }));
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (data += c));
      req.on('end', () => resolve(data));
      req.on('error', reject);
    });

  async function handle(req: IncomingMessage, res: ServerResponse, slot: { enter(): void; leave(): void }): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const query = Object.fromEntries(url.searchParams.entries());
    const body = method === 'POST' ? await readBody(req) : '';
    const family = familyOf(method, path);
    const call: SimCall = { at: clock.now(), method, path, query, status: 0, auth: 'none', ...(family ? { family } : {}) };
    callLog.push(call);
    slot.enter();
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      call.status = status;
      slot.leave();
      if (fault === 'drop-after') {
        // The work is done (call.status says how it went); the client never hears of it.
        req.socket.destroy();
        return;
      }
      const text = typeof payload === 'string' ? payload : payload === undefined ? '' : JSON.stringify(payload);
      res.writeHead(status, {
        ...(text && typeof payload !== 'string' ? { 'content-type': 'application/json' } : { 'content-type': 'text/plain' }),
        // The server's clock, not the host's: clients may read it to place its timestamps.
        Date: new Date(serverTime(clock.now())).toUTCString(),
        'X-Concurrency-Limit-Limit': '10',
        'X-Concurrency-Limit-Running': String(Math.max(0, running)),
        ...headers,
      });
      res.end(text);
    };

    // Faults first: a broken gateway breaks before it authenticates anyone.
    const rule = faultRules.find(
      (r) => r.left > 0 && (!r.method || r.method === method) && (r.path === undefined || (typeof r.path === 'string' ? path.includes(r.path) : r.path.test(path))),
    );
    let fault: FaultRule['kind'] | undefined;
    if (rule) {
      rule.left -= 1;
      fault = rule.kind;
    } else if (family) {
      const roll = random();
      const { serverErrorRate = 0, malformedRate = 0, dropRate = 0 } = faultRates;
      if (roll < serverErrorRate) fault = 'status';
      else if (roll < serverErrorRate + malformedRate) fault = 'malformed';
      else if (roll < serverErrorRate + malformedRate + dropRate) fault = 'drop';
    }
    const latency = (rule?.kind === 'delay' ? rule.delayMs ?? 0 : 0) + (faultRates.latencyMs ?? 0);
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    if (fault === 'drop') {
      call.fault = 'drop';
      slot.leave();
      req.socket.destroy();
      return;
    }
    if (fault === 'status') {
      call.fault = 'status';
      send(rule?.status ?? 503, { errorCode: 'SERVICE_UNAVAILABLE', message: 'simulated failure' }, rule?.headers ?? {});
      return;
    }
    if (fault) call.fault = fault;

    if (path === '/auth') {
      if (method !== 'POST') return send(405, { message: 'POST only' });
      const form = new URLSearchParams(body);
      const user = users.find((u) => u.username === form.get('username') && u.password === form.get('password'));
      if (!user || form.get('token') !== 'true') return send(401, { errorCode: 'UNAUTHORIZED', message: 'Invalid credentials' });
      return send(200, signJwt(user.username));
    }

    call.auth = checkBearer(req.headers.authorization);
    if (call.auth === 'none' || call.auth === 'rejected') return send(401, { errorCode: 'UNAUTHORIZED', message: 'Authentication required or token expired' });
    if (!family) return send(404, { errorCode: 'NOT_FOUND', message: `no route ${method} ${path}` });
    const rate = rateCheck(family);
    const mode = behaviour.rateLimitHeaders;
    if (mode === 'never' || (mode === 'not-on-429' && rate.limited)) rate.headers = {};
    if (rate.window) call.rate = { window: rate.window, limited: rate.limited, headers: Object.keys(rate.headers).length > 0 };
    if (rate.limited) return send(429, { errorCode: 'RATE_LIMIT_EXCEEDED', message: 'API rate limit exceeded' }, rate.headers);
    tick();
    const ok = (payload: unknown, status = 200): void => {
      if (fault === 'malformed') return send(200, '{"data":[{"sha":"', { ...rate.headers, 'content-type': 'application/json' });
      send(status, fault === 'bad-item' ? withBadItem(payload) : payload, rate.headers);
    };
    const withBadItem = (payload: unknown): unknown => {
      const body = payload as { data?: unknown; details?: unknown };
      const listKey = Array.isArray(body?.details) ? 'details' : Array.isArray(body?.data) ? 'data' : undefined;
      if (!listKey) return payload;
      const items = [...(body[listKey] as Record<string, unknown>[])];
      if (items.length === 0) return payload;
      const idKey = listKey === 'details' ? 'qid' : path === '/csapi/v1.3/registry' ? 'registryUuid' : 'sha';
      const { [idKey]: _dropped, ...rest } = items[0]!;
      items[0] = rest;
      return { ...body, [listKey]: items };
    };
    const fail = (status: number, errorCode: string, message: string): void => send(status, { errorCode, message }, rate.headers);
    /**
     * One page as this server cuts it: at most pageCap items, offsets counted in the page size it really
     * uses; with paging ignored, always the first page of its own default size.
     */
    const pageOf = <T>(items: T[], pageNumber: number, pageSize: number, defaultSize: number): T[] => {
      const { pageCap, ignorePaging } = behaviour.paging;
      const number = ignorePaging ? 1 : pageNumber;
      const size = Math.max(1, Math.min(ignorePaging ? defaultSize : pageSize, pageCap ?? Infinity));
      return items.slice((number - 1) * size, number * size);
    };

    const intParam = (name: string, dflt: number, min: number, max: number): number | undefined => {
      const raw = query[name];
      if (raw === undefined) return dflt;
      const n = Number(raw);
      return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
    };

    try {
      if (method === 'GET' && path === '/csapi/v1.3/images') {
        const pageNumber = intParam('pageNumber', 1, 1, 1_000_000);
        const pageSize = intParam('pageSize', 50, 1, 1000);
        if (pageNumber === undefined || pageSize === undefined) return fail(400, 'INVALID_PARAMETER', 'pageNumber must be >= 1 and pageSize 1-1000');
        const filter = query.filter ? parseQql(query.filter) : undefined;
        let images = catalogue.visible().filter((i) => !filter || evaluateQql(filter, imageFields(i), serverTime(clock.now())));
        // Without a sort the simulator lists the most recently scanned first; that order is its own
        // choice, not an API promise, and clients must not ask for it by name.
        const [sortField, dir = 'desc'] = query.sort === undefined ? ['lastScanned', 'desc'] : query.sort.split(':');
        if (query.sort !== undefined && (!DOCUMENTED_IMAGE_SORT_FIELDS.includes(sortField ?? '') || !['asc', 'desc'].includes(dir))) {
          return fail(400, 'INVALID_PARAMETER', `cannot sort by ${query.sort}; documented: ${DOCUMENTED_IMAGE_SORT_FIELDS.map((f) => `${f}:asc|desc`).join(', ')}`);
        }
        const value = (i: SimImage): number => (sortField === 'created' ? i.created : i.lastScanned ?? 0);
        images = images.sort((a, b) => (dir === 'asc' ? 1 : -1) * (value(a) - value(b)) || a.sha.localeCompare(b.sha));
        const page = pageOf(images, pageNumber, pageSize, 50);
        return ok({ data: page.map(imageJson), ...(behaviour.paging.count === false ? {} : { count: images.length }) });
      }
      const imageMatch = /^\/csapi\/v1\.3\/images\/([^/]+)(\/vuln(\/count)?)?$/.exec(path);
      if (method === 'GET' && imageMatch) {
        const image = catalogue.visible().find((i) => i.sha === imageMatch[1]);
        if (!image) return fail(404, 'NOT_FOUND', `image ${imageMatch[1]} not found`);
        if (!imageMatch[2]) return ok(imageJson(image));
        if (imageMatch[3]) return ok((imageJson(image) as { vulnerabilities: unknown }).vulnerabilities);
        const type = query.type ?? 'DETAILS';
        if (!['SUMMARY', 'DETAILS', 'ALL'].includes(type)) return fail(400, 'INVALID_PARAMETER', `type must be SUMMARY, DETAILS or ALL`);
        let details = vulnJson(image);
        if (query.pageSize !== undefined || query.pageNumber !== undefined) {
          const pageNumber = intParam('pageNumber', 1, 1, 1_000_000);
          const pageSize = intParam('pageSize', 50, 1, 1000);
          if (pageNumber === undefined || pageSize === undefined) return fail(400, 'INVALID_PARAMETER', 'pageNumber must be >= 1 and pageSize 1-1000');
          details = pageOf(details, pageNumber, pageSize, details.length);
        } else {
          details = pageOf(details, 1, details.length, details.length);
        }
        return ok({ details });
      }
      if (method === 'GET' && path === '/csapi/v1.3/registry') {
        const filter = query.filter ? parseQql(query.filter) : undefined;
        const found = catalogue.registries.filter(
          (r) =>
            !filter ||
            evaluateQql(
              filter,
              (f) => (f === 'registryUri' ? [r.registryUri] : f === 'registryType' ? [r.registryType] : f === 'registryUuid' ? [r.registryUuid] : undefined),
              clock.now(),
            ),
        );
        if (found.length === 0) return send(204, undefined, rate.headers);
        return ok({ data: found.map((r) => ({ ...r, createdOn: '1735689600000', lastScanned: null, repoCount: 12 })), count: found.length });
      }
      const scheduleMatch = /^\/csapi\/v1\.3\/registry\/([^/]+)\/schedule$/.exec(path);
      if (method === 'POST' && scheduleMatch) {
        const registry = catalogue.registries.find((r) => r.registryUuid === scheduleMatch[1]);
        if (!registry) return fail(404, 'NOT_FOUND', `registry ${scheduleMatch[1]} not found`);
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return fail(400, 'INVALID_BODY', 'body is not JSON');
        }
        call.body = parsed;
        const b = parsed as { name?: unknown; onDemand?: unknown; filters?: { repoTags?: { repo?: unknown; tag?: unknown }[] }[]; forceScan?: unknown };
        const repoTags = Array.isArray(b.filters) ? b.filters.flatMap((f) => (Array.isArray(f?.repoTags) ? f.repoTags : [])) : [];
        if (typeof b.name !== 'string' || b.onDemand !== true || repoTags.length === 0 || repoTags.some((rt) => typeof rt?.repo !== 'string' || typeof rt?.tag !== 'string')) {
          return fail(400, 'INVALID_BODY', 'expected { name, onDemand: true, filters: [ { repoTags: [ { repo, tag } ] } ] }');
        }
        if (b.forceScan === true && !forceScanSupported) return fail(400, 'FEATURE_NOT_ENABLED', 'forceScan is not enabled for this subscription');
        const scheduleId = randomUUID();
        const host = registryHost(registry.registryUri);
        for (const rt of repoTags) {
          const image = catalogue.findByTag(host, rt.repo as string, rt.tag as string);
          const duration = image ? (image.scanDurationMs ?? scanDuration(image, random)) : 60_000;
          if (image && behaviour.rescanView === 'in-progress') {
            image.scanStatus = 'IN_PROGRESS';
            image.scanStartedAt = clock.now();
            delete image.scanErrorCode;
          }
          if (image && behaviour.rescanView === 'hidden') image.hiddenWhileScanning = true;
          schedules.push({
            scheduleId,
            registryUuid: registry.registryUuid,
            repo: rt.repo as string,
            tag: rt.tag as string,
            forceScan: b.forceScan === true,
            requestedAt: clock.now(),
            completeAt: clock.now() + duration,
            ...(image ? { sha: image.sha } : {}),
            done: false,
          });
        }
        return ok({ scheduleId });
      }
      return fail(404, 'NOT_FOUND', `no route ${method} ${path}`);
    } catch (err) {
      if (err instanceof QqlError) return fail(400, 'INVALID_FILTER', `invalid filter: ${err.message}`);
      throw err;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  const findImage = (reference: string): SimImage | undefined => {
    const at = reference.indexOf('@');
    const digest = at >= 0 ? reference.slice(at + 1) : undefined;
    let name = at >= 0 ? reference.slice(0, at) : reference;
    let tag: string | undefined;
    const colon = name.lastIndexOf(':');
    if (colon > name.lastIndexOf('/')) {
      tag = name.slice(colon + 1);
      name = name.slice(0, colon);
    }
    const first = name.split('/')[0]!;
    let registry = 'docker.io';
    let repository = name;
    if (name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
      registry = first;
      repository = name.slice(first.length + 1);
    }
    if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
    if (digest) return catalogue.images.find((i) => i.digest === digest);
    return catalogue.findByTag(registry, repository, tag ?? 'latest');
  };

  return {
    url: `http://127.0.0.1:${port}`,
    clock,
    callLog,
    catalogue,
    schedules,
    credentials: { username: users[0]?.username ?? '', password: users[0]?.password ?? '', accessToken: [...accessTokens][0] ?? '' },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) s.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
    registerImage: (input) => catalogue.registerImage(input),
    registerRegistry: (r) => catalogue.registerRegistry({ ...r, registryUuid: r.registryUuid ?? randomUUID() }),
    registerVulnerability: (v) => catalogue.registerVulnerability(v),
    findImage,
    expectedCounts: (reference) => {
      const image = findImage(reference);
      if (!image) throw new Error(`the simulator holds no image ${reference}`);
      return catalogue.countsOf(image);
    },
    injectFault: (rule) => faultRules.push({ ...rule, left: rule.times ?? 1 }),
    setFaultRates: (rates) => (faultRates = rates),
    clearFaults: () => {
      faultRules.length = 0;
      faultRates = {};
    },
    expireTokens: () => {
      for (const jti of issuedJtis) revokedJtis.add(jti);
    },
    setRateLimit: (config) => {
      rateLimit = config;
      windows.clear();
    },
    setBehaviour: (next) => {
      if (next.paging !== undefined) behaviour.paging = next.paging;
      if (next.rateLimitHeaders !== undefined) behaviour.rateLimitHeaders = next.rateLimitHeaders;
      if (next.rescanView !== undefined) behaviour.rescanView = next.rescanView;
      if (next.clockSkewMs !== undefined) behaviour.clockSkewMs = next.clockSkewMs;
    },
    tick,
  };
}

