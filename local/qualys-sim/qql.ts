/**
 * The subset of Qualys Query Language the simulator understands: `field:"value"`, `field:value`,
 * wildcards `*`, ranges `field:[a ... b]` (numbers, ISO dates, `now`, `now-7d`), `and`, `or`, `not`,
 * parentheses. Unknown fields are a QqlError (the real API answers 400 too).
 */
export class QqlError extends Error {
  override readonly name = 'QqlError';
}

export type QqlNode =
  | { op: 'and' | 'or'; left: QqlNode; right: QqlNode }
  | { op: 'not'; inner: QqlNode }
  | { op: 'term'; field: string; value: string }
  | { op: 'range'; field: string; from: string; to: string };

type Token = { kind: 'lp' | 'rp' } | { kind: 'word'; text: string } | { kind: 'term'; field: string; value: string; range?: [string, string] };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const ws = /\s/;
  while (i < input.length) {
    const c = input[i]!;
    if (ws.test(c)) {
      i++;
      continue;
    }
    if (c === '(') {
      tokens.push({ kind: 'lp' });
      i++;
      continue;
    }
    if (c === ')') {
      tokens.push({ kind: 'rp' });
      i++;
      continue;
    }
    let j = i;
    while (j < input.length && /[A-Za-z0-9_.]/.test(input[j]!)) j++;
    const word = input.slice(i, j);
    if (!word) throw new QqlError(`unexpected character ${JSON.stringify(c)} at ${i}`);
    if (input[j] !== ':') {
      tokens.push({ kind: 'word', text: word });
      i = j;
      continue;
    }
    j++;
    let value: string;
    const q = input[j];
    if (q === '"' || q === "'") {
      const end = input.indexOf(q, j + 1);
      if (end === -1) throw new QqlError(`unterminated string after ${word}:`);
      value = input.slice(j + 1, end);
      j = end + 1;
    } else if (q === '[') {
      const end = input.indexOf(']', j);
      if (end === -1) throw new QqlError(`unterminated range after ${word}:`);
      value = input.slice(j, end + 1);
      j = end + 1;
    } else {
      let k = j;
      while (k < input.length && !/[\s()]/.test(input[k]!)) k++;
      value = input.slice(j, k);
      j = k;
    }
    if (value === '') throw new QqlError(`empty value for ${word}`);
    const range = /^\[\s*(.+?)\s*\.\.\.\s*(.+?)\s*\]$/.exec(value);
    tokens.push(range ? { kind: 'term', field: word, value, range: [range[1]!, range[2]!] } : { kind: 'term', field: word, value });
    i = j;
  }
  return tokens;
}

export function parseQql(input: string): QqlNode {
  const tokens = tokenize(input);
  let pos = 0;
  const peekWord = (w: string): boolean => {
    const t = tokens[pos];
    return t?.kind === 'word' && t.text.toLowerCase() === w;
  };
  const parseOr = (): QqlNode => {
    let left = parseAnd();
    while (peekWord('or')) {
      pos++;
      left = { op: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): QqlNode => {
    let left = parseNot();
    while (peekWord('and')) {
      pos++;
      left = { op: 'and', left, right: parseNot() };
    }
    return left;
  };
  const parseNot = (): QqlNode => {
    if (peekWord('not')) {
      pos++;
      return { op: 'not', inner: parseNot() };
    }
    const t = tokens[pos++];
    if (!t) throw new QqlError('unexpected end of query');
    if (t.kind === 'lp') {
      const inner = parseOr();
      if (tokens[pos++]?.kind !== 'rp') throw new QqlError('missing )');
      return inner;
    }
    if (t.kind === 'term') return t.range ? { op: 'range', field: t.field, from: t.range[0], to: t.range[1] } : { op: 'term', field: t.field, value: t.value };
    throw new QqlError(`unexpected ${t.kind === 'word' ? JSON.stringify(t.text) : ')'}`);
  };
  const node = parseOr();
  if (pos < tokens.length) throw new QqlError('unexpected text after the query');
  return node;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function qqlTime(text: string, now: number): number {
  const t = text.trim().replace(/^['"]|['"]$/g, '');
  const rel = /^now(?:([+-])(\d+)([smhdw]))?$/i.exec(t);
  if (rel) return rel[1] ? now + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * UNIT_MS[rel[3]!.toLowerCase()]! : now;
  if (/^\d+$/.test(t)) return Number(t);
  const parsed = Date.parse(t);
  if (Number.isNaN(parsed)) throw new QqlError(`cannot read time ${JSON.stringify(text)}`);
  return parsed;
}

/** Field accessor: the values of a field for a record (strings or numbers). */
export type QqlFields = (field: string) => readonly (string | number | undefined)[] | undefined;

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}

export function evaluateQql(node: QqlNode, fields: QqlFields, now: number): boolean {
  switch (node.op) {
    case 'and':
      return evaluateQql(node.left, fields, now) && evaluateQql(node.right, fields, now);
    case 'or':
      return evaluateQql(node.left, fields, now) || evaluateQql(node.right, fields, now);
    case 'not':
      return !evaluateQql(node.inner, fields, now);
    case 'term': {
      const values = fields(node.field);
      if (!values) throw new QqlError(`unknown field ${node.field}`);
      const re = wildcard(node.value);
      return values.some((v) => v !== undefined && re.test(String(v)));
    }
    case 'range': {
      const values = fields(node.field);
      if (!values) throw new QqlError(`unknown field ${node.field}`);
      const from = qqlTime(node.from, now);
      const to = qqlTime(node.to, now);
      return values.some((v) => typeof v === 'number' && v >= from && v <= to);
    }
  }
}
