import { decodeQueueMessage } from './deployment-event';
import { redactor } from './log';

/**
 * Rejected input kept for a person to read in an error record: decoded where it can be, without the
 * caller's identity claims or credentials, and cut to a bounded size. Only the part that is kept is
 * ever written out, so keeping the start of a huge or deeply nested input costs no more than keeping a
 * small one, and nothing here can overflow the stack (JSON.stringify and String() both do on an array
 * nested a few thousand deep).
 */

/** Identity claims of the caller: never worth keeping in a record. */
const DROPPED_KEYS = new Set(['claims', 'authorization']);
/** Best effort for text that is not JSON: `"claims": {...}` / `"authorization": "..."` pairs. */
const DROPPED_TEXT = /("(?:claims|authorization)"\s*:\s*)(\{[^{}]*\}|"(?:[^"\\]|\\.)*")/gi;
/** Characters a whole rejected message keeps. */
export const BODY_CHARS = 8192;
/** Written beyond the kept part before redacting it, so a credential across the cut is still recognised whole. */
const REDACTION_MARGIN = 1024;
/** Levels of nesting written out; deeper values are named, not shown. */
const MAX_DEPTH = 64;

/** `total`: the length of the whole input when `text` is already only its start. */
function cut(text: string, max: number, total = text.length): string {
  return total > max ? `${text.slice(0, max)}...[${total - max} more characters]` : text;
}

/** Thrown by `jsonPrefix` once enough is written, to stop the walk; never leaves this module. */
class Enough extends Error {}

/**
 * JSON text of the first `limit` characters (about) of a value, written without recursion past
 * MAX_DEPTH and stopped as soon as the limit is reached. Keys in DROPPED_KEYS get "[dropped]".
 */
function jsonPrefix(value: unknown, limit: number): { text: string; complete: boolean } {
  const parts: string[] = [];
  let length = 0;
  const put = (text: string) => {
    parts.push(text);
    length += text.length;
    if (length >= limit) throw new Enough();
  };
  const string = (s: string) => put(JSON.stringify(s.length > limit ? s.slice(0, limit) : s));
  const write = (v: unknown, depth: number): void => {
    if (v === null || v === undefined || typeof v === 'function' || typeof v === 'symbol') return put('null');
    if (typeof v === 'string') return string(v);
    if (typeof v === 'number') return put(Number.isFinite(v) ? String(v) : 'null');
    if (typeof v === 'boolean' || typeof v === 'bigint') return put(String(v));
    if (depth >= MAX_DEPTH) return put(`"[${Array.isArray(v) ? 'array' : 'object'} nested deeper than ${MAX_DEPTH} levels]"`);
    if (Array.isArray(v)) {
      put('[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) put(',');
        write(v[i], depth + 1);
      }
      return put(']');
    }
    if (v instanceof Uint8Array) return string(`[${v.length} bytes]`);
    put('{');
    let first = true;
    for (const key of Object.keys(v)) {
      const item = (v as Record<string, unknown>)[key];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      if (!first) put(',');
      first = false;
      string(key);
      put(':');
      if (DROPPED_KEYS.has(key.toLowerCase())) put('"[dropped]"');
      else write(item, depth + 1);
    }
    put('}');
  };
  try {
    write(value, 0);
    return { text: parts.join(''), complete: true };
  } catch (error) {
    if (!(error instanceof Enough)) throw error;
    return { text: parts.join(''), complete: false };
  }
}

/** At most `max` characters of a value as JSON, redacted. */
function keptJson(value: unknown, max: number): string {
  const { text, complete } = jsonPrefix(value, max + REDACTION_MARGIN);
  const redacted = redactor.redact(text);
  return complete ? cut(redacted, max) : `${redacted.slice(0, max)}...[more]`;
}

/** At most `max` characters of a text that is not JSON, redacted. */
function keptText(text: string, max: number): string {
  const head = text.length > max + REDACTION_MARGIN ? text.slice(0, max + REDACTION_MARGIN) : text;
  return cut(redactor.redact(head.replace(DROPPED_TEXT, '$1"[dropped]"')), max, text.length);
}

/** A whole queue message that could not be read as events: string and base64 bodies are decoded first, so their claims are found too. */
export function rejectedBody(message: unknown): string {
  if (typeof message === 'string' || message instanceof Uint8Array) {
    let value: unknown;
    try {
      value = decodeQueueMessage(message);
    } catch {
      // Not JSON: keep the text (decoded, when it was base64 of text).
      const raw = typeof message === 'string' ? message : Buffer.from(message).toString('utf8');
      const trimmed = raw.trim();
      const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) && trimmed.length % 4 === 0 ? Buffer.from(trimmed, 'base64').toString('utf8') : undefined;
      return keptText(decoded && !decoded.includes('\uFFFD') ? decoded : raw, BODY_CHARS);
    }
    return keptJson(value, BODY_CHARS);
  }
  return keptJson(message, BODY_CHARS);
}

/** One event of a message (a JSON value), as kept in the sample of a record. */
export function rejectedEvent(event: unknown, maxChars: number): string {
  return keptJson(event, maxChars);
}
