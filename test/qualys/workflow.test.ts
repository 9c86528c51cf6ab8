import { expect } from 'chai';
import { startQualysSimulator, type QualysSimulator } from '../../local/qualys-sim';
import { parseImageReference } from '../../shared/image-reference';
import { parseScanResult, type ScanTarget } from '../../shared/scan-result';
import { QualysServerError, RegistryNotOnboardedError } from '../../shared/qualys/errors';
import { createScanWorkflow } from '../../shared/qualys/workflow';
import { parseScanTicket, ScanTicketError } from '../../shared/qualys/ticket';
import { loadCorpus } from '../support/corpus';
import { apiCalls, simClient } from './support';

const target = (ref: string): ScanTarget => {
  const image = parseImageReference(ref);
  return {
    cloud: 'azure',
    kind: 'container-image',
    image: { registry: image.registry, repository: image.repository, ...(image.tag ? { tag: image.tag } : {}), ...(image.digest ? { digest: image.digest } : {}), reference: image.canonical },
  };
};

describe('ScanWorkflow over the CS API simulator (real HTTP)', function () {
  let sim: QualysSimulator;
  beforeEach(async () => {
    sim = await startQualysSimulator();
  });
  afterEach(async () => sim.stop());

  const workflow = () => createScanWorkflow({ client: simClient(sim).client });
  const finishScans = () => sim.clock.advance(11 * 60_000);

  it('schedules the ACI corpus image (nginx), sees the old scan as RUNNING, then COMPLETED, and reads its results', async () => {
    const group = loadCorpus<{ properties: { containers: { properties: { image: string } }[] } }>('arm/aci-containergroup-get.json');
    const ref = group.properties.containers[0]!.properties.image;
    expect(ref).to.equal('nginx');
    const wf = workflow();
    const ticket = await wf.submit(parseImageReference(ref));
    expect(ticket).to.deep.include({ image: 'docker.io/library/nginx:latest', registry: 'docker.io', repository: 'library/nginx', tag: 'latest', reused: false });
    expect(ticket.registryUuid).to.equal('6f1c2b7e-8a4d-4f0e-9b1a-2c3d4e5f6a01');
    expect(ticket.scheduleId).to.be.a('string');
    expect(JSON.parse(JSON.stringify(ticket))).to.deep.equal(ticket);
    const before = await wf.check(ticket);
    expect(before.state).to.equal('RUNNING');
    expect(before.detail).to.include('older scan');
    finishScans();
    const after = await wf.check(before.ticket);
    expect(after.state).to.equal('COMPLETED');
    expect(after.ticket.imageSha).to.equal(sim.findImage('nginx')!.sha);
    const result = await wf.results(after.ticket, target(ref));
    expect(parseScanResult(JSON.parse(JSON.stringify(result)))).to.deep.equal(result);
    expect(result.counts).to.deep.equal(sim.expectedCounts('nginx'));
    expect(result.counts).to.deep.equal({ critical: 2, high: 3, medium: 3, low: 1, informational: 1, total: 10 });
    expect(result.engine.name).to.equal('qualys-csapi');
    const expat = result.vulnerabilities.find((v) => v.id === '178905')!;
    expect(expat).to.deep.include({ severity: 'CRITICAL', package: 'libexpat1', fixedVersion: '2.5.0-1+deb12u1', cvss3: 9.8 });
  });

  it('scans the ACA corpus container and init container image, unknown to Qualys until then', async () => {
    const app = loadCorpus<{ properties: { template: { containers: { image: string }[]; initContainers: { image: string }[] } } }>('arm/aca-containerapp-get.json');
    const refs = [...app.properties.template.containers, ...app.properties.template.initContainers].map((c) => c.image);
    expect(new Set(refs)).to.deep.equal(new Set(['repo/testcontainerapp0:v4']));
    const wf = workflow();
    const ticket = await wf.submit(parseImageReference(refs[0]!));
    expect((await wf.check(ticket)).state).to.equal('PENDING');
    finishScans();
    const done = await wf.check(ticket);
    expect(done.state).to.equal('COMPLETED');
    const result = await wf.results(done.ticket, target(refs[0]!));
    expect(result.counts).to.deep.equal({ critical: 0, high: 3, medium: 2, low: 0, informational: 1, total: 6 });
    expect(result.counts).to.deep.equal(sim.expectedCounts('repo/testcontainerapp0:v4'));
  });

  it('reuses a recent Qualys scan of the same digest without scheduling or polling', async () => {
    const orders = sim.findImage('shipscandemo.azurecr.io/shop/orders-api:1.4.2')!;
    const wf = workflow();
    const ticket = await wf.submit(parseImageReference(`shipscandemo.azurecr.io/shop/orders-api:1.4.2@${orders.digest}`));
    expect(ticket).to.deep.include({ reused: true, imageSha: orders.sha, sizeBytes: orders.size });
    expect(ticket.scheduleId).to.equal(undefined);
    const calls = apiCalls(sim).length;
    expect(calls).to.equal(1);
    const outcome = await wf.check(ticket);
    expect(outcome.state).to.equal('COMPLETED');
    expect(apiCalls(sim).length).to.equal(calls);
    const result = await wf.results(ticket, target('shipscandemo.azurecr.io/shop/orders-api:1.4.2'));
    expect(result.counts).to.deep.equal({ critical: 1, high: 1, medium: 1, low: 0, informational: 0, total: 3 });
  });

  it('does not reuse a scan older than reuseMaxAgeMs', async () => {
    const orders = sim.findImage('shipscandemo.azurecr.io/shop/orders-api:1.4.2')!;
    const wf = createScanWorkflow({ client: simClient(sim).client, reuseMaxAgeMs: 3600_000 });
    const ticket = await wf.submit(parseImageReference(`shipscandemo.azurecr.io/shop/orders-api:1.4.2@${orders.digest}`));
    expect(ticket.reused).to.equal(false);
    expect(ticket.scheduleId).to.be.a('string');
  });

  it('reuses the newest matching scan, asking the server only for the documented sort', async () => {
    const digest = `sha256:${'d'.repeat(64)}`;
    // Two Qualys image records of one digest; the sort by creation time puts the older scan first.
    sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'reuse/app', tags: ['old'], digest, sha: 'a'.repeat(64), scannedAgoMs: 3 * 3600_000 });
    sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'reuse/app', tags: ['new'], digest, sha: 'b'.repeat(64), scannedAgoMs: 3600_000 });
    const ticket = await workflow().submit(parseImageReference(`shipscandemo.azurecr.io/reuse/app@${digest}`));
    expect(ticket).to.deep.include({ reused: true, imageSha: 'b'.repeat(64) });
    const [list] = apiCalls(sim);
    expect(list?.query.sort).to.equal('created:desc');
    expect(list?.status).to.equal(200);
  });

  it('creates one schedule per submit when the post is lost after Qualys acted, and the retried submit reuses the landed scan', async () => {
    const image = sim.findImage('repo/testcontainerapp0:v4')!;
    const ref = parseImageReference(`repo/testcontainerapp0:v4@${image.digest}`);
    const wf = workflow();
    sim.injectFault({ path: '/schedule', kind: 'drop-after', times: 1 });
    let caught: unknown;
    await wf.submit(ref).catch((e: unknown) => (caught = e));
    // Typed and retryable: the deployments queue delivers the message again.
    expect(caught).to.be.instanceOf(QualysServerError);
    expect(caught).to.include({ retryable: true });
    expect(sim.schedules).to.have.length(1);
    // A redelivery while that scan still runs cannot see it and schedules again: one more, not two.
    const second = await wf.submit(ref);
    expect(second.scheduleId).to.be.a('string');
    expect(sim.schedules).to.have.length(2);
    // Once a scan has landed, a redelivery reuses it and schedules nothing.
    finishScans();
    const third = await wf.submit(ref);
    expect(third).to.deep.include({ reused: true, imageSha: image.sha });
    expect(sim.schedules).to.have.length(2);
    expect(apiCalls(sim).filter((c) => c.path.endsWith('/schedule'))).to.have.length(2);
  });

  it('keeps a finding with an unusable severity as INFORMATIONAL and counts details without a QID in raw', async () => {
    // Deliberately broken knowledge-base entries: the simulator serves what Qualys should never send.
    sim.registerVulnerability({ qid: 990001, title: 'severity zero', severity: 0 as unknown as 1, cveids: [] });
    sim.registerVulnerability({ qid: 990002, title: 'severity missing', severity: undefined as unknown as 1, cveids: [] });
    const image = sim.registerImage({
      registry: 'shipscandemo.azurecr.io',
      repository: 'quality/app',
      tags: ['1'],
      scannedAgoMs: 60_000,
      vulns: [
        { qid: 178905, package: 'libexpat1', version: '2.5.0-1' },
        { qid: 178266, package: 'zlib1g', version: '1' },
        { qid: 990001, package: 'odd', version: '1' },
        { qid: 990002, package: 'odder', version: '1' },
      ],
    });
    const wf = workflow();
    const ticket = await wf.submit(parseImageReference(`shipscandemo.azurecr.io/quality/app:1@${image.digest}`));
    expect(ticket.reused).to.equal(true);
    // The first detail (178905) arrives without its qid.
    sim.injectFault({ path: '/vuln', kind: 'bad-item', times: 1 });
    const result = await wf.results(ticket, target('shipscandemo.azurecr.io/quality/app:1'));
    expect(parseScanResult(JSON.parse(JSON.stringify(result)))).to.deep.equal(result);
    expect(result.vulnerabilities.map((v) => [v.id, v.severity, v.sourceSeverity])).to.deep.equal([
      ['178266', 'CRITICAL', 5],
      ['990001', 'INFORMATIONAL', 0],
      ['990002', 'INFORMATIONAL', 'unknown'],
    ]);
    expect(result.counts).to.deep.equal({ critical: 1, high: 0, medium: 0, low: 0, informational: 2, total: 3 });
    expect(result.raw).to.deep.include({ vulnDetailsSkipped: 1, vulnSeveritiesUnreadable: 2 });
  });

  it('reports a registry without a connector as a permanent RegistryNotOnboardedError, looked up once', async () => {
    const wf = workflow();
    for (let i = 0; i < 2; i++) {
      let caught: unknown;
      await wf.submit(parseImageReference('notonboarded.azurecr.io/legacy/app:1.0')).catch((e: unknown) => (caught = e));
      expect(caught).to.be.instanceOf(RegistryNotOnboardedError);
      expect(caught).to.include({ retryable: false, code: 'REGISTRY_NOT_ONBOARDED', registry: 'notonboarded.azurecr.io' });
    }
    expect(apiCalls(sim).filter((c) => c.path === '/csapi/v1.3/registry')).to.have.length(1);
    expect(apiCalls(sim).some((c) => c.path.endsWith('/schedule'))).to.equal(false);
  });

  it('reports a failed Qualys scan as FAILED with the error code', async () => {
    const wf = workflow();
    const ticket = await wf.submit(parseImageReference('shipscandemo.azurecr.io/shop/payments-worker:3.1.0'));
    finishScans();
    const outcome = await wf.check(ticket);
    expect(outcome.state).to.equal('FAILED');
    expect(outcome.detail).to.include('IMAGE_PULL_FAILED');
  });

  it('checks many tickets with one list query per batch', async () => {
    const refs: string[] = [];
    for (let i = 0; i < 90; i++) {
      sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: `fleet/svc-${i % 30}`, tags: [`1.${i}`], vulns: [{ qid: 178905, package: 'libexpat1', version: '2.5.0-1' }], scanDurationMs: 45_000 + i * 1000 });
      refs.push(`shipscandemo.azurecr.io/fleet/svc-${i % 30}:1.${i}`);
    }
    const wf = createScanWorkflow({ client: simClient(sim).client, batchSize: 40 });
    const tickets = [];
    for (const ref of refs) tickets.push(await wf.submit(parseImageReference(ref)));
    const mark = sim.callLog.length;
    sim.clock.advance(45_000 + 44_500); // the first 45 scans have landed
    const outcomes = await wf.checkMany(tickets);
    expect(apiCalls(sim, mark).map((c) => c.path)).to.deep.equal(['/csapi/v1.3/images', '/csapi/v1.3/images', '/csapi/v1.3/images']);
    expect(outcomes.filter((o) => o.state === 'COMPLETED')).to.have.length(45);
    expect(outcomes.slice(0, 45).every((o) => o.state === 'COMPLETED')).to.equal(true);
    expect(outcomes.map((o) => o.ticket.image)).to.deep.equal(tickets.map((t) => t.image));
    const result = await wf.results(outcomes[3]!.ticket, target(refs[3]!));
    expect(result.counts.critical).to.equal(1);
  });

  describe('an older scan visible while the new one runs', () => {
    const ref = 'shipscandemo.azurecr.io/clock/app:1';
    const register = () =>
      sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'clock/app', tags: ['1'], scannedAgoMs: 2 * 60_000, scanDurationMs: 60_000, vulns: [{ qid: 178905, package: 'libexpat1', version: '2.5.0-1' }] });

    it('is not taken for the new scan when the server clock runs ahead of ours', async () => {
      register();
      sim.setBehaviour({ clockSkewMs: 5 * 60_000 });
      const wf = workflow();
      const ticket = await wf.submit(parseImageReference(ref));
      // The older scan finished 2 minutes ago by our clock, 3 minutes in our future by the server's.
      const during = await wf.check(ticket);
      expect(during.state).to.equal('RUNNING');
      expect(during.detail).to.include('older scan');
      sim.clock.advance(61_000);
      expect((await wf.check(during.ticket)).state).to.equal('COMPLETED');
    });

    it('does not hide the new scan when the server clock runs behind ours', async () => {
      register();
      sim.setBehaviour({ clockSkewMs: -5 * 60_000 });
      const wf = workflow();
      const ticket = await wf.submit(parseImageReference(ref));
      expect((await wf.check(ticket)).state).to.equal('RUNNING');
      sim.clock.advance(61_000);
      const done = await wf.check(ticket);
      expect(done.state).to.equal('COMPLETED');
      expect((await wf.results(done.ticket, target(ref))).counts).to.deep.equal(sim.expectedCounts(ref));
    });

    for (const [view, state] of [['in-progress', 'RUNNING'], ['hidden', 'PENDING']] as const) {
      it(`waits through a scan the server shows ${view === 'hidden' ? 'nothing of' : 'in progress'}`, async () => {
        sim.setBehaviour({ rescanView: view });
        const wf = workflow();
        const ticket = await wf.submit(parseImageReference('shipscandemo.azurecr.io/shop/web-frontend:2.0.0'));
        const during = await wf.check(ticket);
        expect(during.state).to.equal(state);
        finishScans();
        const done = await wf.check(during.ticket);
        expect(done.state).to.equal('COMPLETED');
        expect((await wf.results(done.ticket, target('shipscandemo.azurecr.io/shop/web-frontend:2.0.0'))).counts).to.deep.equal(sim.expectedCounts('shipscandemo.azurecr.io/shop/web-frontend:2.0.0'));
      });
    }
  });

  describe('short pages', () => {
    /** An image with `n` findings under fresh QIDs, never scanned. */
    const manyFindings = (repository: string, n: number) => {
      for (let q = 0; q < n; q++) sim.registerVulnerability({ qid: 700_000 + q, title: `finding ${q}`, severity: ((q % 5) + 1) as 1 | 2 | 3 | 4 | 5, cveids: [] });
      sim.registerImage({
        registry: 'shipscandemo.azurecr.io',
        repository,
        tags: ['1'],
        vulns: Array.from({ length: n }, (_, q) => ({ qid: 700_000 + q, package: `p${q}`, version: '1' })),
      });
      return `shipscandemo.azurecr.io/${repository}:1`;
    };
    const scanned = async (ref: string) => {
      const wf = workflow();
      const ticket = await wf.submit(parseImageReference(ref));
      finishScans();
      const done = await wf.check(ticket);
      expect(done.state).to.equal('COMPLETED');
      return { wf, ticket: done.ticket };
    };

    it('reads all 2,400 findings from a server that caps /vuln pages at 500, COMPLETED, stopping at the total the image reported', async () => {
      const ref = manyFindings('big/app', 2400);
      sim.setBehaviour({ paging: { pageCap: 500 } });
      const { wf, ticket } = await scanned(ref);
      expect(ticket.vulnCount).to.equal(2400);
      const mark = sim.callLog.length;
      const result = await wf.results(ticket, target(ref));
      expect(result.status).to.equal('COMPLETED');
      expect(result.counts).to.deep.equal(sim.expectedCounts(ref));
      expect(result.counts.total).to.equal(2400);
      // 1000 asked, 500 sent; then 500 a page up to the 2,400 the image record announced.
      expect(apiCalls(sim, mark).map((c) => c.query.pageSize)).to.deep.equal(['1000', '500', '500', '500', '500']);
    });

    it('marks findings a server will not page PARTIAL with the reason, never COMPLETED', async () => {
      const ref = manyFindings('big/app', 2500);
      sim.setBehaviour({ paging: { pageCap: 100, ignorePaging: true } });
      const { wf, ticket } = await scanned(ref);
      const result = await wf.results(ticket, target(ref));
      expect(result.status).to.equal('PARTIAL');
      expect(result.counts.total).to.equal(100);
      expect(result.error).to.deep.include({ code: 'QUALYS_RESULTS_INCOMPLETE', retryable: false });
      expect(result.error?.message).to.include('reported 2500').and.include('sent 100');
      expect(parseScanResult(JSON.parse(JSON.stringify(result)))).to.deep.equal(result);
    });

    it('reads the results of an ordinary scan with one /vuln call', async () => {
      const { wf, ticket } = await scanned('shipscandemo.azurecr.io/shop/web-frontend:2.0.0');
      const mark = sim.callLog.length;
      const result = await wf.results(ticket, target('shipscandemo.azurecr.io/shop/web-frontend:2.0.0'));
      expect(result.status).to.equal('COMPLETED');
      expect(apiCalls(sim, mark)).to.have.length(1);
    });

    it('settles every ticket of a batched check when the server caps list pages or ignores paging', async () => {
      const refs: string[] = [];
      for (let i = 0; i < 5; i++) {
        sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: `short/svc-${i}`, tags: ['1'], scanDurationMs: 30_000 });
        refs.push(`shipscandemo.azurecr.io/short/svc-${i}:1`);
      }
      for (const paging of [{ pageCap: 2 }, { pageCap: 2, ignorePaging: true }]) {
        sim.setBehaviour({ paging });
        const wf = workflow();
        const tickets = [];
        for (const ref of refs) tickets.push(await wf.submit(parseImageReference(ref)));
        finishScans();
        const outcomes = await wf.checkMany(tickets);
        expect(outcomes.map((o) => o.state), JSON.stringify(paging)).to.deep.equal(refs.map(() => 'COMPLETED'));
      }
    });
  });

  it('serves images registered at runtime with the counts the simulator expects', async () => {
    sim.registerImage({
      registry: 'shipscandemo.azurecr.io',
      repository: 'demo/runtime',
      tags: ['7'],
      vulns: [
        { qid: 377102, package: 'path-to-regexp', version: '0.1.7', fixVersion: '0.1.10' },
        { qid: 45097, package: '', version: '' },
      ],
    });
    const wf = workflow();
    const ticket = await wf.submit(parseImageReference('shipscandemo.azurecr.io/demo/runtime:7'));
    finishScans();
    const done = await wf.check(ticket);
    const result = await wf.results(done.ticket, target('shipscandemo.azurecr.io/demo/runtime:7'));
    expect(result.counts).to.deep.equal(sim.expectedCounts('shipscandemo.azurecr.io/demo/runtime:7'));
    expect(result.counts).to.deep.include({ high: 1, informational: 1, total: 2 });
  });

  it('validates tickets from untrusted JSON', () => {
    expect(() => parseScanTicket({ v: 2 })).to.throw(ScanTicketError, /v/);
    expect(() => parseScanTicket({ v: 1, image: 'a', registry: 'r', repository: 'p', reused: 'no', submittedAt: 'yesterday' })).to.throw(ScanTicketError, /reused.*submittedAt|submittedAt.*reused/s);
    const ok = parseScanTicket({ v: 1, image: 'a', registry: 'r', repository: 'p', reused: false, submittedAt: '2026-01-01T00:00:00.000Z', extra: 1 });
    expect(ok).to.deep.equal({ v: 1, image: 'a', registry: 'r', repository: 'p', reused: false, submittedAt: '2026-01-01T00:00:00.000Z' });
  });
});
