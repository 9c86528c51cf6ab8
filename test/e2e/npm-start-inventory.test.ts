import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_FIX } from '../../local/start/inventory';
import { EXPECTED_FAILURES, seedResources } from '../../local/resource-graph-sim/seed';
import type { FindingRow, RunSummary } from '../../local/start/summary';

const ROOT = path.resolve(__dirname, '..', '..');
const START = path.join(ROOT, 'local', 'start.ts');

/** `npm start -- --inventory --json` as a user runs it: a child process, stdout, stderr and the exit code. */
function shipscan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', START, ...args], { cwd: ROOT, timeout: 280_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm start -- --inventory (end to end, child process): the Azure half', function () {
  this.timeout(300_000);
  let dir: string;
  let ran: { code: number; stdout: string; stderr: string };
  let summary: RunSummary;
  let azure: FindingRow[];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-inventory-e2e-'));
    ran = await shipscan(['--inventory', '--json', '--out', dir]);
    summary = JSON.parse(ran.stdout) as RunSummary;
    azure = summary.findings.filter((f) => f.cloud === 'azure');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('exits 0 with exactly one JSON document on stdout, the run summary of every other mode', () => {
    expect(ran.code, ran.stderr).to.equal(0);
    expect(ran.stdout.trim().split('\n')).to.have.length(1);
    expect(summary.schema).to.equal('shipscan.run/v1');
    expect(summary.failures).to.deep.equal([]);
    expect(existsSync(path.join(summary.resultsDir!, 'summary.json'))).to.equal(true);
    expect(JSON.parse(readFileSync(path.join(summary.resultsDir!, 'summary.json'), 'utf8'))).to.deep.equal(summary);
  });

  it('lists the findings of the seeded subscriptions as rows of the findings array (cloud, ruleId, category, severity, state, resourceId)', () => {
    for (const row of azure) expect(Object.keys(row).sort()).to.deep.equal(['category', 'cloud', 'resourceId', 'ruleId', 'severity', 'state']);
    // `ruleId name` of each ACTIVE row against the seed's expected failures (the name is the id's last segment).
    const active = azure.filter((f) => f.state === 'ACTIVE').map((f) => `${f.ruleId} ${f.resourceId.split('/').pop()!}`);
    expect(active.sort()).to.deep.equal(EXPECTED_FAILURES.map((line) => line.split(' ').slice(0, 2).join(' ').toLowerCase()).sort());
    expect(azure.every((f) => f.category === 'posture')).to.equal(true);
  });

  it('then replays the fixing event of one storage account and shows its finding RESOLVED; the next inventory agrees', () => {
    const fixed = seedResources().find((r) => r.name === DEMO_FIX.name)!.id.toLowerCase();
    expect(azure.filter((f) => f.resourceId.toLowerCase() === fixed).map((f) => `${f.ruleId} ${f.state}`)).to.deep.equal(['azure.storage.public-blob-access ACTIVE', 'azure.storage.public-blob-access RESOLVED']);
    expect(azure.filter((f) => f.state === 'RESOLVED')).to.have.length(1);
    expect(ran.stderr).to.match(/\{"service":"all"\}: \d+ queries/);
    // The fix arrives as its ARM event: GET, rules, findings and the Resources row, then the next inventory agrees.
    expect(ran.stderr).to.match(new RegExp(`event Microsoft\\.Resources\\.ResourceWriteSuccess Microsoft\\.Storage/storageAccounts/write ${DEMO_FIX.name}: GET [0-9-]+, \\d+ rules, 1 finding change\\(s\\), Resources row written`));
    expect(ran.stderr).to.match(/\{"type":"microsoft\.storage\/storageaccounts"\}: .* 0 finding change\(s\), 0 deleted/);
    expect(summary).to.include({ events: 3, processed: 3 });
  });
});
