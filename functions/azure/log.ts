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

  /** Registers exact values (credentials, webhook URLs) that must never be printed. */
  add(...values: (string | undefined)[]): void {
    // Very short values would redact ordinary words; credentials are never this short.
    for (const value of values) if (value && value.length >= 4) this.secrets.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
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
