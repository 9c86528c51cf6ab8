import { decodeQueueMessage } from './deployment-event';
import { redactor } from './log';

/**
 * Rejected input kept for a person to read in an error record: decoded where it can be, without the
 * caller's identity claims or credentials, and cut to a bounded size. The cost of keeping an input
 * grows with its size and no faster, so a huge or hostile body cannot make its own record expensive.
 */

/** Identity claims of the caller: never worth keeping in a record. */
const DROPPED_KEYS = new Set(['claims', 'authorization']);
/** Best effort for text that is not JSON: `"claims": {...}` / `"authorization": "..."` pairs. */
const DROPPED_TEXT = /("(?:claims|authorization)"\s*:\s*)(\{[^{}]*\}|"(?:[^"\\]|\\.)*")/gi;
/** Characters a whole rejected message keeps. */
export const BODY_CHARS = 8192;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...[${text.length - max} more characters]` : text;
}

/** JSON text of a value without identity claims; values JSON cannot hold (cycles, depth) become their String(). */
function withoutClaims(value: unknown): string {
  try {
    return JSON.stringify(value, (key, v: unknown) => (DROPPED_KEYS.has(key.toLowerCase()) ? '[dropped]' : v)) ?? String(value);
  } catch {
    return String(value).replace(DROPPED_TEXT, '$1"[dropped]"');
  }
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
      return cut(redactor.redact((decoded && !decoded.includes('\uFFFD') ? decoded : raw).replace(DROPPED_TEXT, '$1"[dropped]"')), BODY_CHARS);
    }
    return cut(redactor.redact(withoutClaims(value)), BODY_CHARS);
  }
  return cut(redactor.redact(withoutClaims(message)), BODY_CHARS);
}

/** One event of a message (a JSON value), as kept in the sample of a record. */
export function rejectedEvent(event: unknown, maxChars: number): string {
  return cut(redactor.redact(withoutClaims(event)), maxChars);
}
