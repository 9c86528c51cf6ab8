import type { TokenCredential } from '@azure/identity';
import { ARM_SCOPE, checkedArmEndpoint } from '../arm-workloads';

/**
 * A generic ARM GET of one resource by id, with the Function App's managed identity: what the posture rules
 * need after a write event (the event carries no properties). Throttling (429) and server errors (5xx) are
 * retried a few times within the invocation, honouring Retry-After; a 404 or 410 means the resource is
 * gone; anything else throws, so the queue delivers the message again.
 */

export type ArmGetResult = { kind: 'found'; body: unknown } | { kind: 'gone'; status: number };

export interface ArmResourceReader {
  get(resourceId: string, apiVersion: string): Promise<ArmGetResult>;
}

export class ArmRequestError extends Error {
  override readonly name = 'ArmRequestError';
  constructor(
    message: string,
    /** The HTTP status, when ARM answered. */
    readonly status: number | undefined,
    /** ARM's error code (`AuthorizationFailed`, `InvalidApiVersionParameter`...). */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export interface ArmRestReaderOptions {
  /** Attempts in all, per GET (default 4). */
  attempts?: number;
  /** First back-off when ARM gives no Retry-After; doubles per attempt (default 500 ms). */
  baseDelayMs?: number;
  /** Longest wait within one invocation; a longer Retry-After hands the message back to the queue instead (default 20 s). */
  maxDelayMs?: number;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The statuses a later attempt may get past: throttling and the server's own trouble. */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
const DEFAULT_ENDPOINT = 'https://management.azure.com';
/** Characters of ARM's error message kept in an error (they name the resource and the missing permission). */
const MAX_MESSAGE = 500;

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The URL path of an ARM id, each segment encoded (ids from events are untrusted text). */
export function armPath(resourceId: string): string {
  const segments = resourceId.trim().replace(/\/+$/, '').split('/');
  if (segments[0] !== '' || segments.length < 3 || segments.slice(1).some((s) => s === '' || s === '.' || s === '..')) {
    throw new ArmRequestError(`not an ARM resource id: ${JSON.stringify(resourceId.slice(0, 200))}`, undefined, undefined);
  }
  return segments.map((s) => encodeURIComponent(s)).join('/');
}

function armErrorOf(text: string): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
    const message = typeof parsed.error?.message === 'string' ? parsed.error.message.slice(0, MAX_MESSAGE) : undefined;
    return { ...(code ? { code } : {}), ...(message ? { message } : {}) };
  } catch {
    return {};
  }
}

export class ArmRestReader implements ArmResourceReader {
  private readonly base: string;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly credential: TokenCredential,
    endpoint: string = DEFAULT_ENDPOINT,
    options: ArmRestReaderOptions = {},
  ) {
    this.base = checkedArmEndpoint(endpoint).origin;
    this.attempts = Math.max(1, options.attempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 20_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async get(resourceId: string, apiVersion: string): Promise<ArmGetResult> {
    const url = `${this.base}${armPath(resourceId)}?api-version=${encodeURIComponent(apiVersion)}`;
    const what = `ARM GET ${resourceId.slice(0, 300)} (api-version ${apiVersion})`;
    let last: ArmRequestError | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const token = await this.credential.getToken(ARM_SCOPE);
      if (!token) throw new ArmRequestError(`${what}: the managed identity returned no token`, undefined, undefined);
      let response: Response;
      try {
        response = await fetch(url, { headers: { authorization: `Bearer ${token.token}`, accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        // No answer (connection, DNS, timeout): worth another attempt, like a 503.
        last = new ArmRequestError(`${what}: no answer (${(error as Error).message})`, undefined, undefined);
        if (attempt < this.attempts) await this.sleep(this.backoff(attempt));
        continue;
      }
      const text = await response.text();
      if (response.ok) {
        try {
          return { kind: 'found', body: JSON.parse(text) as unknown };
        } catch {
          // Not JSON: the rules see a body that is no resource and say so (recorded, not retried).
          return { kind: 'found', body: text.slice(0, 200) };
        }
      }
      if (response.status === 404 || response.status === 410) return { kind: 'gone', status: response.status };
      const armError = armErrorOf(text);
      last = new ArmRequestError(`${what}: HTTP ${response.status}${armError.code ? ` ${armError.code}` : ''}${armError.message ? `: ${armError.message}` : ''}`, response.status, armError.code);
      if (!RETRYABLE.has(response.status) || attempt === this.attempts) throw last;
      const wait = retryAfterMs(response.headers.get('retry-after')) ?? this.backoff(attempt);
      // A long Retry-After is the queue's to wait (its next delivery), not this invocation's.
      if (wait > this.maxDelayMs) throw new ArmRequestError(`${last.message} (ARM asked to wait ${Math.ceil(wait / 1000)} s)`, response.status, armError.code);
      await this.sleep(wait);
    }
    throw last ?? new ArmRequestError(`${what}: failed`, undefined, undefined);
  }

  private backoff(attempt: number): number {
    const exponential = this.baseDelayMs * 2 ** (attempt - 1);
    // Jitter keeps many instances throttled together from retrying in step.
    return Math.min(this.maxDelayMs, exponential / 2 + Math.random() * (exponential / 2));
  }
}
