import { createHash } from 'node:crypto';

/**
 * Safe storage keys: blob names (Azure Blob), object keys (S3) and PartitionKey/RowKey values (Azure Table)
 * built from untrusted parts such as image names, function names and scan ids.
 *
 * Scheme (one segment):
 *   - `A-Z a-z 0-9 - _ .` stay as they are, so ordinary names stay readable (`docker.io`, `nginx`, `1.25`);
 *     a `.` that ends a segment is escaped, so no segment is `.` or `..` and no key ends with a dot.
 *   - every other UTF-16 code unit is escaped with `!`: `!XX` (2 uppercase hex) below U+0100, `!uXXXX` above
 *     (`/` -> `!2F`, `:` -> `!3A`, `!` -> `!21`, `é` -> `!E9`). Code units, not code points, so that even a lone
 *     surrogate has its own escape and the encoding stays reversible.
 *   - the empty segment is `!` alone.
 *   `!` is the escape character because it is in S3's list of safe characters and, unlike `%`, Azure Table
 *   point operations do not mis-decode it.
 * Blob names and S3 keys join the encoded segments with `/` (a `/` inside a segment is escaped, so different
 * segment lists never meet); a Table key is one encoded value.
 *
 * Limits: blob names 1024 characters and 254 segments, S3 keys 1024 bytes (keys are ASCII, so characters),
 * Table keys 512 characters (1 KiB in UTF-16). A key over its limit is cut, never inside an escape, and
 * `!h` + 20 hex of the SHA-256 of the full encoded key is appended. Encoded keys never contain `!h`, so a
 * shortened key cannot equal a full one; two shortened keys are equal only if their full keys share a 80-bit hash.
 *
 * The encoding is injective: different inputs never map to the same key (encode, never replace). Keys that were
 * not shortened decode back with `decodeKeySegments` / `decodeTableKey`.
 */

export const BLOB_NAME_MAX_CHARS = 1024;
export const BLOB_NAME_MAX_SEGMENTS = 254;
export const S3_KEY_MAX_BYTES = 1024;
export const TABLE_KEY_MAX_CHARS = 512;

const ESCAPE = '!';
const EMPTY_SEGMENT = '!';
const TRUNCATION_MARK = '!h';
const HASH_HEX_CHARS = 20;
const LITERAL = /[A-Za-z0-9_.-]/;

export class StorageKeyError extends Error {
  override readonly name = 'StorageKeyError';
  constructor(readonly input: unknown, reason: string) {
    super(`storage key ${JSON.stringify(typeof input === 'string' && input.length > 200 ? `${input.slice(0, 200)}...` : input)}: ${reason}`);
  }
}

function hex(code: number, width: number): string {
  return code.toString(16).toUpperCase().padStart(width, '0');
}

/** Encodes one segment (reversibly, see the scheme above). */
export function encodeKeySegment(segment: string): string {
  if (typeof segment !== 'string') throw new StorageKeyError(segment, `a key segment must be a string, got ${typeof segment}`);
  if (segment === '') return EMPTY_SEGMENT;
  let out = '';
  const last = segment.length - 1;
  for (let i = 0; i <= last; i++) {
    const ch = segment[i]!;
    if (LITERAL.test(ch) && !(ch === '.' && i === last)) {
      out += ch;
    } else {
      const code = segment.charCodeAt(i);
      out += code < 0x100 ? `${ESCAPE}${hex(code, 2)}` : `${ESCAPE}u${hex(code, 4)}`;
    }
  }
  return out;
}

/** Length of the escape starting at `index` (where `key[index] === '!'`). */
function escapeLength(key: string, index: number): number {
  const next = key[index + 1];
  if (next === 'u') return 6;
  if (next === 'h') return TRUNCATION_MARK.length;
  if (next === undefined || next === '/') return 1;
  return 3;
}

function fit(encoded: string, max: number): string {
  if (encoded.length <= max) return encoded;
  const marker = TRUNCATION_MARK + createHash('sha256').update(encoded).digest('hex').slice(0, HASH_HEX_CHARS);
  let cut = max - marker.length;
  // An escape is at most 6 characters long: look back that far for one the cut would split.
  const bang = encoded.lastIndexOf(ESCAPE, cut - 1);
  if (bang !== -1 && bang > cut - 6 && bang + escapeLength(encoded, bang) > cut) cut = bang;
  return encoded.slice(0, cut) + marker;
}

function joinSegments(segments: readonly string[], kind: string): string {
  if (segments.length === 0) throw new StorageKeyError([], `a ${kind} needs at least one segment`);
  return segments.map(encodeKeySegment).join('/');
}

/**
 * An Azure blob name from path segments: `safeBlobPath('scan-results', 'docker.io', 'library', 'nginx', id + '.json')`
 * -> `scan-results/docker.io/library/nginx/<id>.json`. Split a repository on `/` first to keep its folders.
 */
export function safeBlobPath(...segments: string[]): string {
  if (segments.length > BLOB_NAME_MAX_SEGMENTS) {
    throw new StorageKeyError(segments.length, `a blob name has at most ${BLOB_NAME_MAX_SEGMENTS} segments`);
  }
  return fit(joinSegments(segments, 'blob name'), BLOB_NAME_MAX_CHARS);
}

/** An S3 object key from path segments, same scheme as blob names; at most 1024 bytes. */
export function safeS3Key(...segments: string[]): string {
  return fit(joinSegments(segments, 'S3 key'), S3_KEY_MAX_BYTES);
}

/** An Azure Table PartitionKey or RowKey: no `/ \ # ?` or control characters, at most 512 characters. */
export function safeTableKey(value: string): string {
  return fit(encodeKeySegment(value), TABLE_KEY_MAX_CHARS);
}

function decodeSegment(key: string, segment: string): string {
  if (segment === EMPTY_SEGMENT) return '';
  let out = '';
  for (let i = 0; i < segment.length; ) {
    const ch = segment[i]!;
    if (ch !== ESCAPE) {
      out += ch;
      i += 1;
      continue;
    }
    const width = segment[i + 1] === 'u' ? 4 : 2;
    const start = i + 1 + (width === 4 ? 1 : 0);
    const digits = segment.slice(start, start + width);
    if (segment[i + 1] === 'h') throw new StorageKeyError(key, 'the key was shortened with a hash; the original value cannot be recovered');
    if (!/^[0-9A-F]+$/.test(digits) || digits.length !== width) {
      throw new StorageKeyError(key, `malformed escape at ${JSON.stringify(segment.slice(i, i + 6))}`);
    }
    out += String.fromCharCode(parseInt(digits, 16));
    i = start + width;
  }
  return out;
}

/** Inverse of safeBlobPath / safeS3Key for keys that were not shortened. */
export function decodeKeySegments(key: string): string[] {
  if (typeof key !== 'string' || key === '') throw new StorageKeyError(key, 'expected a non-empty key');
  const segments = key.split('/').map((segment) => decodeSegment(key, segment));
  // Only keys this module could have produced decode: anything else is ambiguous, e.g. a hand-written escape.
  if (segments.map(encodeKeySegment).join('/') !== key) throw new StorageKeyError(key, 'not a key produced by safeBlobPath/safeS3Key');
  return segments;
}

/** Inverse of safeTableKey for keys that were not shortened. */
export function decodeTableKey(key: string): string {
  if (typeof key !== 'string' || key === '') throw new StorageKeyError(key, 'expected a non-empty key');
  if (key.includes('/')) throw new StorageKeyError(key, 'a Table key has no "/"');
  const value = decodeSegment(key, key);
  if (encodeKeySegment(value) !== key) throw new StorageKeyError(key, 'not a key produced by safeTableKey');
  return value;
}
