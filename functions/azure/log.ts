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

const PATTERNS: readonly [RegExp, string][] = [
  // Bearer and Basic credentials in headers or error texts.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]'],
  // JWTs anywhere.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]'],
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
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
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
