/**
 * Text helpers for notices. Resource names, actors and evidence come from events and configurations an
 * attacker may control, so every renderer passes them through one of these before they reach a message.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and (double- or single-quoted) attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Control characters other than newline and tab (terminal escapes, NUL, bidi overrides) become `?`. */
export function stripControls(value: string): string {
  return value.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
}

/** One line: runs of whitespace (newlines included) collapse to one space. */
export function oneLine(value: string): string {
  return stripControls(value.replace(/\s+/g, ' ')).trim();
}

/**
 * Printable ASCII on one line: accents are dropped (`é` -> `e`), anything else becomes `?`. For subjects,
 * which SNS requires in ASCII and which mail clients show best without encoded words.
 */
export function asciiOneLine(value: string): string {
  return oneLine(value)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?');
}

/** At most `max` characters (code points), ending in `...` when cut. */
export function truncate(value: string, max: number): string {
  const chars = [...value];
  if (chars.length <= max) return value;
  if (max <= 3) return chars.slice(0, max).join('');
  return `${chars.slice(0, max - 3).join('')}...`;
}

/** The URL when it is http(s), else undefined: only such links become clickable. */
export function safeHttpUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}
