import { expect } from 'chai';
import { runInventoryMode } from '../../local/inventory/start';
import { parseStartOptions, UsageError } from '../../local/start/options';
import type { ProgressReporter } from '../../local/start/progress';
import { EXIT } from '../../local/start/exit-codes';
import type { FindingRow } from '../../local/start/summary';

/**
 * `npm start -- --inventory` (AWS half) in process: seeded fake accounts are inventoried and evaluated, the
 * findings printed, a fixing event replayed and its finding shown RESOLVED; `--json` prints one summary
 * whose `findings` rows have the shape of an event replay's.
 */

function capture(): { reporter: ProgressReporter; lines: string[] } {
  const lines: string[] = [];
  return { lines, reporter: { log: (line) => lines.push(line), meter: () => () => undefined, end: () => undefined } };
}

async function stdoutOf(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  // Only this process's own stdout is captured, for the duration of one call.
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await fn();
    return { code, out: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

describe('npm start -- --inventory (AWS)', function () {
  this.timeout(180_000);

  it('takes --inventory alone, with --json', () => {
    expect(parseStartOptions(['--inventory']).mode).to.equal('inventory');
    expect(parseStartOptions(['--inventory', '--json']).json).to.equal(true);
    expect(() => parseStartOptions(['--inventory', '--serve'])).to.throw(UsageError, /--inventory goes alone/);
  });

  it('--json: the findings array holds the open findings and the one the fixing event resolved', async () => {
    const { reporter, lines } = capture();
    const { code, out } = await stdoutOf(() => runInventoryMode(parseStartOptions(['--inventory', '--json']), reporter));
    expect(code).to.equal(EXIT.ok);
    const summary = JSON.parse(out) as { findings: FindingRow[]; inventory: { aws: { steps: { step: string }[] } } };
    const keys = ['category', 'cloud', 'resourceId', 'ruleId', 'severity', 'state'];
    for (const row of summary.findings) expect(Object.keys(row).sort()).to.deep.equal(keys);
    const resolved = summary.findings.filter((f) => f.state === 'RESOLVED');
    expect(resolved.map((f) => [f.ruleId, f.resourceId])).to.deep.equal([['aws.s3.bucket-policy-public', 'arn:aws:s3:::jcazure2-dummy-bucket5']]);
    const active = summary.findings.filter((f) => f.state === 'ACTIVE');
    expect(active.length).to.be.greaterThan(10);
    expect([...new Set(active.map((f) => f.ruleId))]).to.include.members(['aws.ec2.security-group-open-to-internet', 'aws.s3.bucket-policy-public', 'aws.rds.instance-publicly-accessible']);
    expect(summary.inventory.aws.steps.map((s) => s.step)).to.deep.equal(['seeded', 'inventory {"service":"all"}', 'evaluation {}', 'replayed DeleteBucketPolicy']);
    expect(lines.join('\n')).to.match(/RESOLVED \(fixed\)/);
  });
});
