/**
 * report.html: one run as a page a person opens from the run folder. Self-contained on purpose (inline
 * CSS, no script, no font or CDN; the Content-Security-Policy forbids loading anything), so it renders
 * offline and shows the same on every machine. Every text from events and results is escaped.
 * Sections: totals, scans with severity bars, failures and ignored events with their reasons, findings,
 * and the finding emails the run wrote (linked: their .html and .eml copies sit beside the report).
 */
import { scanTarget, type RunSummary, type ScanRow } from '../summary';

const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1b1f24; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
.meta { color: #57606a; } .totals { display: flex; gap: 1.5rem; margin: 1rem 0; }
.totals div { border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem 1rem; }
.totals b { display: block; font-size: 1.3rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
th { background: #f6f8fa; } td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-size: 12px; word-break: break-all; }
.bar { display: flex; width: 12rem; height: .8rem; background: #eaeef2; border-radius: 3px; overflow: hidden; }
.bar span { display: block; height: 100%; }
.critical { background: #8b0000; } .high { background: #d1242f; } .medium { background: #e3a008; } .low { background: #54aeff; }
.legend span { display: inline-block; width: .8rem; height: .8rem; margin: 0 .25rem 0 .8rem; vertical-align: middle; }
.status-FAILED, .failed { color: #d1242f; font-weight: 600; } .empty { color: #57606a; font-style: italic; }
`;

function bar(scan: ScanRow, max: number): string {
  const segments = SEVERITIES.map((s) => {
    const n = scan.counts[s];
    return n > 0 ? `<span class="${s}" style="width:${((n / max) * 100).toFixed(2)}%" title="${s} ${n}"></span>` : '';
  }).join('');
  const label = SEVERITIES.map((s) => `${scan.counts[s]} ${s}`).join(', ');
  return `<div class="bar" role="img" aria-label="${escapeHtml(label)}">${segments}</div>`;
}

function scansSection(summary: RunSummary): string {
  if (summary.scans.length === 0) return '<p class="empty">No scans in this run.</p>';
  const max = Math.max(1, ...summary.scans.map((s) => SEVERITIES.reduce((sum, sev) => sum + s.counts[sev], 0)));
  const rows = summary.scans
    .map((scan) => {
      const target = escapeHtml(scanTarget(scan));
      const result = scan.file ? `<a href="${escapeHtml(scan.file)}"><code>${escapeHtml(scan.file)}</code></a>` : `<code>${escapeHtml(scan.resultKey)}</code>`;
      return (
        `<tr data-row="scan"><td>${escapeHtml(scan.cloud)}</td><td>${escapeHtml(scan.workload)}</td><td><code>${target}</code></td>` +
        `<td class="status-${escapeHtml(scan.status.split(' ')[0]!)}">${escapeHtml(scan.status)}${scan.cacheHit ? ' (cache hit)' : ''}</td>` +
        `<td class="num">${SEVERITIES.map((s) => scan.counts[s]).join(' / ')}</td><td>${bar(scan, max)}</td><td>${result}</td></tr>`
      );
    })
    .join('\n');
  return (
    `<p class="legend">${SEVERITIES.map((s) => `<span class="${s}"></span>${s}`).join('')}</p>` +
    `<table><thead><tr><th>cloud</th><th>workload</th><th>image or function</th><th>status</th><th>crit / high / med / low</th><th>severity</th><th>ScanResult</th></tr></thead>\n<tbody>${rows}</tbody></table>`
  );
}

function eventsSection(rows: { source: string; label: string; detail: string }[], kind: 'failure' | 'ignored', empty: string): string {
  if (rows.length === 0) return `<p class="empty">${empty}</p>`;
  const body = rows
    .map((r) => `<tr data-row="${kind}"><td><code>${escapeHtml(r.source)}</code></td><td>${escapeHtml(r.label)}</td><td${kind === 'failure' ? ' class="failed"' : ''}>${escapeHtml(r.detail)}</td></tr>`)
    .join('\n');
  return `<table><thead><tr><th>event</th><th>what</th><th>${kind === 'failure' ? 'reason' : 'dropped by, and why'}</th></tr></thead>\n<tbody>${body}</tbody></table>`;
}

function findingsSection(summary: RunSummary): string {
  if (summary.findings.length === 0) return '<p class="empty">No findings in this run.</p>';
  const body = summary.findings
    .map(
      (f) =>
        `<tr data-row="finding"><td>${escapeHtml(f.severity)}</td><td>${escapeHtml(f.ruleId)}</td><td>${escapeHtml(f.category)}</td><td>${escapeHtml(f.state)}</td>` +
        `<td><code>${escapeHtml(f.resourceId)}</code></td><td>${escapeHtml(f.actor ?? '-')}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th>severity</th><th>rule</th><th>category</th><th>state</th><th>resource</th><th>actor</th></tr></thead>\n<tbody>${body}</tbody></table>`;
}

/** The emails the run wrote, each linking its copies beside the report (relative links, nothing remote). */
function emailsSection(summary: RunSummary): string {
  if (summary.emails.length === 0) return '<p class="empty">No email in this run.</p>';
  const body = summary.emails
    .map(
      (e) =>
        `<tr data-row="email"><td>${escapeHtml(e.to.join(', '))}</td><td>${escapeHtml(e.subject)}</td><td>${escapeHtml(e.transition)}</td>` +
        `<td><a href="${escapeHtml(e.html)}">html</a> &middot; <a href="${escapeHtml(e.eml)}">eml</a></td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th>to</th><th>subject</th><th>transition</th><th>copy</th></tr></thead>\n<tbody>${body}</tbody></table>`;
}

export function renderReportHtml(summary: RunSummary, when: Date): string {
  const total = (label: string, value: number, id: string) => `<div data-total="${id}"><b>${value}</b>${label}</div>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shipscan run ${escapeHtml(when.toISOString())}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>shipscan run</h1>
<p class="meta">${escapeHtml(when.toISOString())} &middot; embedded stack (npm start)</p>
<section class="totals">
${total('events', summary.events, 'events')}
${total('processed', summary.processed, 'processed')}
${total('ignored', summary.ignored.length, 'ignored')}
${total('failed', summary.failures.length, 'failed')}
${total('scan records', summary.scans.length, 'scans')}
${total('findings', summary.findings.length, 'findings')}
</section>
<h2 id="scans">Scans</h2>
${scansSection(summary)}
<h2 id="failures">Failed events</h2>
${eventsSection(
  summary.failures.map((f) => ({ source: f.event.source, label: f.event.label, detail: f.reason })),
  'failure',
  'No event failed.',
)}
<h2 id="ignored">Ignored events</h2>
${eventsSection(
  summary.ignored.map((i) => ({ source: i.event.source, label: i.event.label, detail: `${i.by}: ${i.reason}` })),
  'ignored',
  'No event was dropped.',
)}
<h2 id="findings">Findings</h2>
${findingsSection(summary)}
<h2 id="emails">Emails</h2>
${emailsSection(summary)}
</body>
</html>
`;
}
