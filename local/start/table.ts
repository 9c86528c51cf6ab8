/** Plain-text tables with aligned columns (what `npm start` prints), fitted to a width when asked. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** Shortens text to `width` characters by cutting its middle (both ends of an image reference or ARN say the most). */
export function middleEllipsis(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return text.slice(0, width);
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/**
 * Shrinks the `flexible` columns (widest first) until every line fits `maxWidth`; cells of those
 * columns lose their middle. The other columns keep their width.
 */
export function fitTable(headers: readonly string[], rows: readonly (readonly string[])[], maxWidth: number, flexible: readonly number[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  while (total() > maxWidth) {
    const column = [...flexible].sort((a, b) => widths[b]! - widths[a]!)[0];
    if (column === undefined || widths[column]! <= Math.max(headers[column]!.length, 8)) break;
    widths[column]! -= 1;
  }
  const fit = (cells: readonly string[]) => cells.map((cell, column) => middleEllipsis(cell, widths[column]!));
  return renderTable(fit(headers), rows.map(fit));
}

/**
 * Wraps text into lines of at most `width` columns counting the `indent` every line gets (the caller
 * writes the first line's indent itself; continuation lines get it here). Long words are cut.
 */
export function wrap(text: string, width: number, indent: string): string {
  const room = Number.isFinite(width) ? Math.max(20, width - indent.length) : Number.POSITIVE_INFINITY;
  const lines: string[] = [];
  let rest = text;
  while (rest.length > room) {
    const cut = rest.lastIndexOf(' ', room);
    const at = cut > room / 2 ? cut : room;
    lines.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  lines.push(rest);
  return lines.join(`\n${indent}`);
}
