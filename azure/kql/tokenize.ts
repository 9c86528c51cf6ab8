/**
 * A tokenizer for the subset of KQL the shipped queries use: enough to find tables, columns,
 * property accesses and string literals, not a full grammar.
 */

export type TokenKind = 'ident' | 'string' | 'number' | 'timespan' | 'op' | 'pipe' | 'semicolon';

export interface Token {
  kind: TokenKind;
  /** Identifiers and operators as written; strings unquoted and unescaped. */
  text: string;
  line: number;
  column: number;
}

export class KqlSyntaxError extends Error {
  override readonly name = 'KqlSyntaxError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line}, column ${column}`);
  }
}

/** Operator names spelled with a hyphen. */
const HYPHENATED = new Set(['project-away', 'project-keep', 'project-rename', 'project-reorder', 'mv-expand', 'mv-apply', 'make-series', 'top-nested']);
const TIMESPAN_UNITS = ['ms', 'microsecond', 'tick', 'd', 'h', 'm', 's'];
/** Longest first, so `==` is not read as `=` `=`. */
const OPERATORS = ['!~', '=~', '==', '!=', '<=', '>=', '..', '=', '<', '>', '(', ')', '[', ']', '{', '}', ',', '.', '+', '-', '*', '/', '%', ':'];

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = () => ({ line, column: i - lineStart + 1 });

  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\n') {
      line += 1;
      i += 1;
      lineStart = i;
      continue;
    }
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    if (ch === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i += 1;
      continue;
    }
    const start = at();
    // Verbatim (@"..."), obfuscated (h"...") and ordinary string literals.
    const prefix = /^(@|h@|h|H)?(["'])/.exec(source.slice(i, i + 3));
    if (prefix && (prefix[1] || ch === '"' || ch === "'")) {
      const verbatim = (prefix[1] ?? '').includes('@');
      const quote = prefix[2]!;
      i += prefix[0].length;
      let text = '';
      for (;;) {
        if (i >= source.length || source[i] === '\n') throw new KqlSyntaxError('unterminated string literal', start.line, start.column);
        const c = source[i]!;
        if (c === quote) {
          if (verbatim && source[i + 1] === quote) {
            text += quote;
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        if (c === '\\' && !verbatim) {
          const next = source[i + 1] ?? '';
          text += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          i += 2;
          continue;
        }
        text += c;
        i += 1;
      }
      tokens.push({ kind: 'string', text, ...start });
      continue;
    }
    if (/[0-9]/.test(ch)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(source.slice(i))!;
      let text = m[0];
      i += text.length;
      const unit = TIMESPAN_UNITS.find((u) => source.startsWith(u, i) && !/[A-Za-z0-9_]/.test(source[i + u.length] ?? ''));
      if (unit) {
        text += unit;
        i += unit.length;
        tokens.push({ kind: 'timespan', text, ...start });
      } else {
        tokens.push({ kind: 'number', text, ...start });
      }
      continue;
    }
    if (/[A-Za-z_$]/.test(ch)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*(-[A-Za-z]+)*/.exec(source.slice(i))!;
      // Hyphenated operator names (project-away, mv-expand) are single tokens; identifiers never contain '-'.
      let text = m[0];
      if (text.includes('-') && !HYPHENATED.has(text)) text = text.split('-')[0]!;
      i += text.length;
      tokens.push({ kind: 'ident', text, ...start });
      continue;
    }
    if (ch === '|') {
      tokens.push({ kind: 'pipe', text: '|', ...start });
      i += 1;
      continue;
    }
    if (ch === ';') {
      tokens.push({ kind: 'semicolon', text: ';', ...start });
      i += 1;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (!op) throw new KqlSyntaxError(`unexpected character ${JSON.stringify(ch)}`, start.line, start.column);
    tokens.push({ kind: 'op', text: op, ...start });
    i += op.length;
  }
  return tokens;
}
