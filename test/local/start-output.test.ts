import { expect } from 'chai';
import { copyPathOf } from '../../local/start/output/run-folder';
import { escapeHtml, renderReportHtml } from '../../local/start/output/report-html';
import { renderText } from '../../local/start/output/text';
import { progressReporter, liveProgressWanted } from '../../local/start/progress';
import { emptySummary, type RunSummary } from '../../local/start/summary';
import { fitTable, middleEllipsis, renderTable, wrap } from '../../local/start/table';

const counts = { critical: 1, high: 2, medium: 3, low: 4, informational: 0, total: 10 };

function summaryWithLongValues(): RunSummary {
  const summary = emptySummary();
  summary.events = 3;
  summary.processed = 1;
  summary.scans.push({
    cloud: 'azure',
    workload: 'ACA a-container-app-with-a-rather-long-name-indeed',
    image: 'shipscandemo.azurecr.io/some/deeply/nested/repository/name/for/an/image:1.2.3-with-a-long-tag',
    status: 'COMPLETED',
    counts,
    cacheHit: false,
    resultKey: `blob://scan-results/shipscandemo.azurecr.io/some/deeply/nested/sha256-${'a'.repeat(64)}/0f3e.json`,
    file: `results/blob/scan-results/shipscandemo.azurecr.io/some/deeply/nested/sha256-${'a'.repeat(64)}/0f3e.json`,
  });
  summary.failures.push({ event: { source: 'events/a-file-with-a-long-name.json#1', cloud: 'aws', label: 'CreateFunction20150331 x (1010101010101, us-east-1)' }, reason: `the scanner did not recognise the message: ${'word '.repeat(40)}` });
  summary.ignored.push({ event: { source: 'b.json#2', cloud: 'aws', label: 'CreateBucket (us-east-1)' }, by: 'EventBridge rule shipscan-local-deployments', reason: 'source is "aws.s3", which matches none of ["aws.lambda"]' });
  return summary;
}

describe('npm start output', () => {
  it('fits the table and the reasons into 120 columns by default, and says where the run folder is', () => {
    const summary = { ...summaryWithLongValues(), resultsDir: '/home/u/shipscan/.shipscan/runs/20261203T101010000Z-abcdef' };
    const text = renderText(summary, { wide: false, cwd: '/home/u/shipscan' });
    for (const line of text.split('\n')) expect(line.length, line).to.be.at.most(120);
    expect(text).to.include('…');
    expect(text).to.include('failed (1):');
    expect(text).to.include('ignored (1):');
    expect(text).to.include('dropped by EventBridge rule shipscan-local-deployments: source is "aws.s3"');
    expect(text).to.include('3 events: 1 processed, 1 ignored, 1 failed; 1 scan records, 0 findings');
    expect(text).to.include('results: .shipscan/runs/20261203T101010000Z-abcdef/ (report.html, summary.json, results/)');
    expect(text).to.not.include('blob://');
  });

  it('--wide prints full values: the stored key and the run-folder copy, reasons unwrapped', () => {
    const summary = summaryWithLongValues();
    const text = renderText(summary, { wide: true });
    expect(text).to.include(summary.scans[0]!.resultKey);
    expect(text).to.include(summary.scans[0]!.file!);
    expect(text).to.include(summary.scans[0]!.image!);
    expect(text).to.include(summary.failures[0]!.reason);
    expect(text).to.not.include('…');
  });

  it('lists findings when there are some', () => {
    const summary = emptySummary();
    summary.findings.push({ cloud: 'aws', ruleId: 'aws.cloudtrail.stop-logging', category: 'activity', severity: 'HIGH', state: 'ACTIVE', resourceId: 'arn:aws:cloudtrail:us-east-1:123456789012:trail/main', actor: 'mallory' });
    expect(renderText(summary, { wide: false })).to.include('findings (1):\n  HIGH aws.cloudtrail.stop-logging ACTIVE arn:aws:cloudtrail:us-east-1:123456789012:trail/main by mallory\n');
  });

  it('lists the emails with where each went: the full path when it fits 120 columns, else the path in the run folder', () => {
    const email = (n: number) => ({
      cloud: 'azure' as const,
      channel: 'email',
      to: ['secops@example.com'],
      subject: `[shipscan] CRITICAL opened: NSG rule allow-ssh allows port 22 from the internet (web-nsg-${n})`,
      findingId: `${n}`.repeat(64),
      transition: 'open',
      eml: `mail/20261203091500000-critical-open-${`${n}`.repeat(16)}.eml`,
      html: `mail/20261203091500000-critical-open-${`${n}`.repeat(16)}.html`,
    });
    const short = { ...emptySummary(), emails: [email(1)], resultsDir: '/home/u/shipscan/.shipscan/runs/20261203T101010000Z-abcdef' };
    expect(renderText(short, { wide: false, cwd: '/home/u/shipscan' })).to.include(
      'emails (1, written to the run folder instead of sent):\n  secops@example.com: [shipscan] CRITICAL opened: NSG rule allow-ssh allows port 22 from the internet (web-nsg-1)\n' +
        '    .shipscan/runs/20261203T101010000Z-abcdef/mail/20261203091500000-critical-open-1111111111111111.eml\n',
    );
    const deep = { ...emptySummary(), emails: [email(2)], resultsDir: `/tmp/${'nested/'.repeat(5)}runs/20261203T101010000Z-abcdef` };
    const text = renderText(deep, { wide: false, cwd: '/home/u' });
    for (const line of text.split('\n')) expect(line.length, line).to.be.at.most(120);
    expect(text).to.include('\n    mail/20261203091500000-critical-open-2222222222222222.eml\n');
    expect(renderText(deep, { wide: true, cwd: '/home/u' })).to.include(`\n    ${deep.resultsDir}/mail/20261203091500000-critical-open-2222222222222222.eml\n`);
    const html = renderReportHtml(deep, new Date('2026-12-03T10:00:00Z'));
    expect(html).to.include('<a href="mail/20261203091500000-critical-open-2222222222222222.html">html</a>');
    expect(html).to.include('<a href="mail/20261203091500000-critical-open-2222222222222222.eml">eml</a>');
  });

  it('tables: aligned columns, fitted by cutting the middle of flexible columns, text wrapped with an indent', () => {
    expect(renderTable(['a', 'bb'], [['xxx', 'y'], ['z', '']])).to.equal('a    bb\n---  --\nxxx  y\nz');
    expect(middleEllipsis('abcdefghij', 5)).to.equal('ab…ij');
    expect(middleEllipsis('abc', 5)).to.equal('abc');
    const fitted = fitTable(['name', 'image'], [['n', 'registry.example/very/long/repository/path:tag']], 30, [1]);
    for (const line of fitted.split('\n')) expect(line.length).to.be.at.most(30);
    expect(fitted).to.include('registry.exa…ry/path:tag');
    expect(wrap('one two three four five six seven eight nine ten eleven twelve', 26, '  ')).to.equal('one two three four five\n  six seven eight nine ten\n  eleven twelve');
  });

  it('progress: a live meter only on a terminal outside CI and --json; step lines always', () => {
    expect(liveProgressWanted({ write: () => true, isTTY: true }, false, {})).to.equal(true);
    expect(liveProgressWanted({ write: () => true, isTTY: true }, true, {})).to.equal(false);
    expect(liveProgressWanted({ write: () => true, isTTY: true }, false, { CI: 'true' })).to.equal(false);
    expect(liveProgressWanted({ write: () => true, isTTY: false }, false, {})).to.equal(false);
    let clock = 0;
    const written: string[] = [];
    const stream = { write: (text: string) => (written.push(text), true), isTTY: true };
    const live = progressReporter(stream, true, () => clock);
    const tick = live.meter(4);
    clock = 1000;
    tick(1);
    clock = 1050;
    tick(2); // within 100 ms of the last draw: skipped
    clock = 2000;
    live.log('a step');
    tick(4);
    live.end();
    expect(written.join('')).to.equal('[  1.0s] 1/4 events, 1.0/s\r\x1b[K[  2.0s] a step\n[  1.0s] 1/4 events, 1.0/s\r\x1b[K[  2.0s] 4/4 events, 2.0/s\r\x1b[K');
    const plain: string[] = [];
    const quiet = progressReporter({ write: (text: string) => (plain.push(text), true) }, false, () => 0);
    quiet.meter(2)(1);
    quiet.log('only this');
    quiet.end();
    expect(plain).to.deep.equal(['[  0.0s] only this\n']);
  });

  it('run-folder copies mirror the storage keys and refuse anything that would leave the folder', () => {
    expect(copyPathOf('s3://shipscan-results/results/123/us-east-1/f/zip-ab/1.json')).to.equal('results/s3/shipscan-results/results/123/us-east-1/f/zip-ab/1.json');
    expect(copyPathOf('blob://scan-results/docker.io/library/nginx/sha256-1/2.json')).to.equal('results/blob/scan-results/docker.io/library/nginx/sha256-1/2.json');
    expect(copyPathOf('s3://b/../../etc/passwd')).to.equal(undefined);
    expect(copyPathOf('s3://b/a//b')).to.equal(undefined);
    expect(copyPathOf('-')).to.equal(undefined);
  });

  it('report.html escapes what events and results carry, loads nothing, and renders every section', () => {
    const summary = summaryWithLongValues();
    summary.failures[0]!.reason = '<script>alert(1)</script> & "quotes"';
    const html = renderReportHtml(summary, new Date('2026-12-03T10:00:00Z'));
    expect(html).to.not.include('<script>');
    expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).to.include(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).to.not.match(/(src|href)="https?:/);
    expect(html.match(/data-row="scan"/g)).to.have.length(1);
    expect(html).to.include('No findings in this run.');
    expect(html).to.include('No email in this run.');
    expect(escapeHtml(`'`)).to.equal('&#39;');
  });
});
