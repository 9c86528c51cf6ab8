/**
 * Structured, redacted logging on top of the invocation context. Every line is one JSON object so
 * Application Insights traces can be queried by field; every string passes the redactor first.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The part of InvocationContext we log through (also satisfied by console). */
export interface LogSink {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Runs of the characters a JWT is written in (base64url and its dots), as long as the shortest JWT. */
const TOKEN_RUN = /[A-Za-z0-9_.-]{15,}/g;
const JWT_START = /(?:^|-)eyJ/g;

/**
 * JWTs anywhere: what `\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*` matches, found in one
 * pass. That expression rescans the rest of a run from every `eyJ` in it, so text such as `-eyJ-eyJ...`
 * costs the square of its length; here every character of a run is read a bounded number of times.
 * A run is split at its dots into segments: a JWT starts at the first `eyJ` of a segment that begins
 * the segment or follows a `-` (the word boundary), leaves at least 8 characters of it, and takes the
 * next segment (at least 5 characters) and the one after that.
 */
function redactJwtsInRun(run: string): string {
  const segments = run.split('.');
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    let start = -1;
    if (i + 2 < segments.length && segments[i + 1]!.length >= 5) {
      JWT_START.lastIndex = 0;
      const found = JWT_START.exec(segment);
      if (found) {
        const at = found.index + found[0].length - 3;
        if (segment.length - at >= 8) start = at;
      }
    }
    if (start === -1) {
      out.push(segment);
      continue;
    }
    out.push(`${segment.slice(0, start)}[redacted-jwt]`);
    // The token's second and third segments go with it.
    i += 2;
  }
  return out.join('.');
}

function redactJwts(text: string): string {
  return text.replace(TOKEN_RUN, (run) => (run.includes('eyJ') ? redactJwtsInRun(run) : run));
}

type Pattern = readonly [RegExp, string] | ((text: string) => string);

const PATTERNS: readonly Pattern[] = [
  // Bearer and Basic credentials in headers or error texts.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]'],
  redactJwts,
  // key=value credentials in form bodies, query strings and connection strings.
  [/\b(password|passwd|pwd|token|access_token|refresh_token|client_secret|AccountKey|SharedAccessSignature|sig)=([^&;\s"]+)/gi, '$1=[redacted]'],
  // JSON fields holding credentials.
  [/("(?:password|accessToken|access_token|token|secret|refresh_token)"\s*:\s*)"[^"]*"/gi, '$1"[redacted]"'],
];

export class Redactor {
  private readonly secrets = new Set<string>();
  /** The secrets longest first: a form that contains another (the escaped one holds the raw prefix) goes whole. */
  private ordered: string[] = [];

  /**
   * Registers exact values (credentials, webhook URLs) that must never be printed, in every form they
   * can take in our output: as is, JSON-escaped (log lines are JSON.stringify'd before redaction, so a
   * `"` or `\` in a password appears escaped there) and URL-encoded (form bodies, query strings).
   */
  add(...values: (string | undefined)[]): void {
    // Very short values would redact ordinary words; credentials are never this short.
    for (const value of values) {
      if (!value || value.length < 4) continue;
      this.secrets.add(value);
      this.secrets.add(JSON.stringify(value).slice(1, -1));
      this.secrets.add(encodeURIComponent(value));
    }
    this.ordered = [...this.secrets].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.ordered) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    for (const pattern of PATTERNS) out = typeof pattern === 'function' ? pattern(out) : out.replace(pattern[0], pattern[1]);
    return out;
  }

  /**
   * Redacts every string inside a JSON-like value (error records, blob documents). Works on the values,
   * not on the serialised text, so a secret that happens to look like a number or a key never breaks the JSON.
   */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactDeep(v)])) as T;
    }
    return value;
  }
}

/** One redactor per process: secrets are registered as they are loaded. */
export const redactor = new Redactor();

function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const statusCode = (error as { statusCode?: unknown }).statusCode;
    return { errorName: error.name, errorMessage: error.message, ...(code !== undefined ? { errorCode: code } : {}), ...(statusCode !== undefined ? { statusCode } : {}) };
  }
  return { errorMessage: String(error) };
}

function serialise(message: string, fields: Record<string, unknown>): string {
  const flat: Record<string, unknown> = { msg: message };
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) Object.assign(flat, errorFields(value));
    else flat[key] = value;
  }
  let text: string;
  try {
    text = JSON.stringify(flat);
  } catch {
    text = JSON.stringify({ msg: message, fields: '[unserialisable]' });
  }
  return redactor.redact(text);
}

export function createLogger(sink: LogSink, base: Record<string, unknown> = {}): Logger {
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) =>
    sink[level](serialise(message, { level, ...base, ...fields }));
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(sink, { ...base, ...fields }),
  };
}
