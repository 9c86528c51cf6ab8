import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CORPUS_DIR, loadCorpus } from '../../support/corpus';
import { memoryDeployment } from '../../support/memory-deployment';
import { deploymentEventVariant, resourceId, type Kind } from '../../../local/arm-stub/variants';
import { FAKE_QSCANNER_PATH } from '../../../local/fake-qscanner';
import { startQualysSimulator } from '../../../local/qualys-sim';

/**
 * What the fuzzer starts from: the published samples of the corpus (through the loader every test uses,
 * so ../shared/corpus when it is there, else local/corpus), the variants of them the runtime scans, the
 * fake qscanner's reports, and the Qualys simulator's answers.
 */

const run = promisify(execFile);

function corpusFiles(dir: string): string[] {
  return readdirSync(path.join(CORPUS_DIR, dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `${dir}/${f}`);
}

const SUB = '6b1f5a2e-1c7d-4a51-9f3e-2d8c0a7b9e41';

/** Every Azure event sample as published, and the ACI / ACA writes made from them (also with `data_base64`). */
export function azureEventSeeds(): unknown[] {
  const published = corpusFiles('azure').map((f) => loadCorpus(f));
  const writes: unknown[] = [];
  for (const file of ['azure/eventgrid-resourcewritesuccess-storage.azuredocs.json', 'azure/cloudevents-resourcewritesuccess-storage.azuredocs-de.json']) {
    for (const kind of ['ACI', 'ACA'] as Kind[]) {
      writes.push(deploymentEventVariant(loadCorpus(file), { kind, resourceUri: resourceId(kind, SUB, 'rg-fuzz', `${kind.toLowerCase()}-seed`), correlationId: `corr-${kind}`, eventId: `ev-${kind}` }));
    }
  }
  const [cloudEvent] = writes[2] as Record<string, unknown>[];
  const { data, ...rest } = cloudEvent!;
  const binary = { ...rest, data_base64: Buffer.from(JSON.stringify(data)).toString('base64') };
  return [...published, ...writes, [binary]];
}

/** Every AWS event sample as published, the CreateFunction record with a valid account, an EventBridge envelope of it, and a bulk target. */
export function awsEventSeeds(): unknown[] {
  const published = corpusFiles('aws').map((f) => loadCorpus(f));
  const create = JSON.parse(JSON.stringify(loadCorpus('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json')).split('1010101010101').join('101010101010')) as Record<string, unknown>;
  const envelope = { version: '0', id: 'fuzz-envelope', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.lambda', account: '101010101010', time: '2026-01-15T09:00:00Z', region: 'us-east-1', resources: [], detail: create };
  return [...published, create, envelope, { functionArn: 'arn:aws:lambda:us-east-1:101010101010:function:orders-api', reason: 'bulk' }];
}

/** The inputs of Docker's reference test tables. */
export function imageReferenceSeeds(): string[] {
  return loadCorpus<{ input: string }[]>('reference/distribution-reference-cases.json').map((c) => c.input);
}

/** Scan-poll messages as onDeployment writes them (taken off the in-memory poll queue). */
export async function pollMessageSeeds(): Promise<unknown[]> {
  const writes = azureEventSeeds().filter((_, i, all) => i >= all.length - 5);
  const messages: unknown[] = [];
  for (const [i, write] of writes.entries()) {
    // A deployment of its own each: in one store the later writes would be duplicates or cache hits.
    const d = memoryDeployment({
      workload: (event) => ({ kind: 'found', workload: { resourceId: event.resourceId, containerType: event.containerType, containers: [{ name: 'a', image: 'nginx:1.27', init: false }, { name: 'b', image: `mcr.microsoft.com/dotnet/runtime@sha256:${'a'.repeat(64)}`, init: true }], registryServers: [] } }),
    });
    await d.handle(write, { id: `seed-${i}` });
    for (const m of d.stores.pollQueue.messages) messages.push(JSON.parse(Buffer.from(m.body, 'base64').toString('utf8')));
  }
  return messages;
}

export interface QScannerReports {
  sarif: string[];
  scanResults: string[];
}

/** The fake qscanner's `*-Report.sarif.json` and `*-ScanResult.json` for every scenario that writes them. */
export async function qscannerReportSeeds(): Promise<QScannerReports> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-fuzz-qscanner-'));
  try {
    const targets: [string, string][] = [
      ['image', 'docker.io/library/vuln:1'],
      ['image', 'docker.io/library/distroless:1'],
      ['image', 'docker.io/library/clean:1'],
      ['image', 'docker.io/library/garbled:1'],
      ['image', 'docker.io/library/deny:1'],
      ['lambda', 'arn:aws:lambda:us-east-1:123456789012:function:orders-api'],
    ];
    await Promise.all(
      targets.map(async ([command, target], i) => {
        const out = path.join(dir, String(i));
        const args = [FAKE_QSCANNER_PATH, command, target, '--mode', 'get-report', '--scan-types', 'pkg,secret', '--format', 'json', '--report-format', 'sarif,json', '--output-dir', out, '--pod', 'US2'];
        // Exit codes 15/42 are verdicts, not failures: the reports are written either way.
        await run(process.execPath, args, { env: { ...process.env, QUALYS_ACCESS_TOKEN: 'fuzz-token', FAKE_QSCANNER_LOG: '' } }).catch(() => undefined);
      }),
    );
    const reports: QScannerReports = { sarif: [], scanResults: [] };
    for (const sub of (await readdir(dir)).sort()) {
      for (const file of (await readdir(path.join(dir, sub))).sort()) {
        const text = await readFile(path.join(dir, sub, file), 'utf8');
        if (file.endsWith('-Report.sarif.json')) reports.sarif.push(text);
        if (file.endsWith('-ScanResult.json')) reports.scanResults.push(text);
      }
    }
    if (reports.sarif.length < 4 || reports.scanResults.length < 5) throw new Error(`the fake qscanner wrote too few reports: ${JSON.stringify(reports).slice(0, 200)}`);
    return reports;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export type QualysEndpoint = 'images' | 'image' | 'vulnerabilities' | 'counts' | 'registries' | 'schedule' | 'auth';

/** The Qualys simulator's answer bodies, one or more per endpoint the client reads. */
export async function qualysResponseSeeds(): Promise<Record<QualysEndpoint, string[]>> {
  const sim = await startQualysSimulator({ rateLimit: false });
  try {
    const get = async (p: string, init: RequestInit = {}) => {
      const res = await fetch(`${sim.url}${p}`, { ...init, headers: { authorization: `Bearer ${sim.credentials.accessToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
      return res.text();
    };
    const list = await get('/csapi/v1.3/images?pageNumber=1&pageSize=5');
    const shas = (JSON.parse(list) as { data: { sha: string }[] }).data.map((i) => i.sha).slice(0, 2);
    const registries = await get('/csapi/v1.3/registry?pageNumber=1&pageSize=50');
    const registryUuid = (JSON.parse(registries) as { data: { registryUuid: string }[] }).data[0]!.registryUuid;
    const schedule = await get(`/csapi/v1.3/registry/${registryUuid}/schedule`, { method: 'POST', body: JSON.stringify({ name: 'fuzz', onDemand: true, filters: [{ repoTags: [{ repo: 'shop/orders-api', tag: '1.4.2' }] }], forceScan: true }) });
    const auth = await fetch(`${sim.url}/auth`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: sim.credentials.username, password: sim.credentials.password, token: 'true' }).toString() }).then((r) => r.text());
    return {
      images: [list],
      image: await Promise.all(shas.map((sha) => get(`/csapi/v1.3/images/${sha}`))),
      vulnerabilities: await Promise.all(shas.map((sha) => get(`/csapi/v1.3/images/${sha}/vuln?type=DETAILS&pageNumber=1&pageSize=1000`))),
      counts: await Promise.all(shas.map((sha) => get(`/csapi/v1.3/images/${sha}/vuln/count`))),
      registries: [registries],
      schedule: [schedule, JSON.stringify({ data: JSON.parse(schedule) })],
      auth: [auth],
    };
  } finally {
    await sim.stop();
  }
}
