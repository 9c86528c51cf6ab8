import { expect } from 'chai';
import { startQualysSimulator, type QualysSimulator } from '../../local/qualys-sim';

describe('Qualys CS API simulator (raw HTTP)', () => {
  let sim: QualysSimulator;
  beforeEach(async () => {
    sim = await startQualysSimulator();
  });
  afterEach(async () => sim.stop());

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${sim.url}/csapi/v1.3${path}`, { ...init, headers: { authorization: `Bearer ${sim.credentials.accessToken}`, ...(init.headers ?? {}) } });

  it('listens on loopback and issues a plain-text JWT from a form post', async () => {
    expect(sim.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${sim.url}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: sim.credentials.username, password: sim.credentials.password, token: 'true' }),
    });
    expect(res.status).to.equal(200);
    const jwt = await res.text();
    expect(jwt.split('.')).to.have.length(3);
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number };
    expect(payload.exp - payload.iat).to.equal(4 * 3600);
    const bad = await fetch(`${sim.url}/auth`, { method: 'POST', body: new URLSearchParams({ username: 'x', password: 'y', token: 'true' }) });
    expect(bad.status).to.equal(401);
    expect((await fetch(`${sim.url}/csapi/v1.3/images`)).status).to.equal(401);
  });

  it('sends the documented rate-limit headers and a 429 with the wait when the budget is spent', async () => {
    sim.setRateLimit({ families: { 'images-list': { limit: 2, windowSec: 60 } } });
    const first = await api('/images');
    expect(first.headers.get('x-ratelimit-limit')).to.equal('2');
    expect(first.headers.get('x-ratelimit-window-sec')).to.equal('60');
    expect(first.headers.get('x-ratelimit-remaining')).to.equal('1');
    expect(first.headers.get('x-concurrency-limit-limit')).to.equal('10');
    await api('/images');
    sim.clock.advance(20_000);
    const limited = await api('/images');
    expect(limited.status).to.equal(429);
    expect(limited.headers.get('x-ratelimit-towait-sec')).to.equal('40');
    // Other families have their own budget.
    expect((await api('/registry')).status).to.equal(200);
    sim.clock.advance(40_000);
    expect((await api('/images')).status).to.equal(200);
    expect(sim.callLog.filter((c) => c.status === 429)).to.have.length(1);
  });

  it('hides an image until an on-demand scan of it lands', async () => {
    const image = sim.findImage('repo/testcontainerapp0:v4')!;
    expect((await api(`/images/${image.sha}`)).status).to.equal(404);
    const post = await api('/registry/6f1c2b7e-8a4d-4f0e-9b1a-2c3d4e5f6a01/schedule', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', onDemand: true, filters: [{ repoTags: [{ repo: 'repo/testcontainerapp0', tag: 'v4' }], days: null }], forceScan: true }),
    });
    expect(post.status).to.equal(200);
    const { scheduleId } = (await post.json()) as { scheduleId: string };
    const scheduled = sim.schedules.find((s) => s.scheduleId === scheduleId)!;
    // The default duration distribution by size: 140 MB is a medium image, 1-3 minutes.
    expect(scheduled.completeAt - scheduled.requestedAt).to.be.within(60_000, 180_000);
    sim.clock.set(scheduled.completeAt);
    const res = await api(`/images/${image.sha}`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { lastScanned: string; scanStatus: string };
    expect(body).to.include({ lastScanned: String(scheduled.completeAt), scanStatus: 'SUCCESS' });
  });

  it('validates schedule bodies and list parameters', async () => {
    const post = (body: unknown) => api('/registry/6f1c2b7e-8a4d-4f0e-9b1a-2c3d4e5f6a01/schedule', { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ name: 'x', onDemand: true, filters: [] })).status).to.equal(400);
    expect((await post({ name: 'x', onDemand: false, filters: [{ repoTags: [{ repo: 'a', tag: 'b' }] }] })).status).to.equal(400);
    expect((await api('/registry/nope/schedule', { method: 'POST', body: '{}' })).status).to.equal(404);
    expect((await api('/images?pageSize=5000')).status).to.equal(400);
    expect((await api('/images?filter=repo.tag:%22unclosed')).status).to.equal(400);
    expect((await api('/images?sort=name:asc')).status).to.equal(400);
  });

  it('sorts image lists only by the documented field (created), refusing the others with 400', async () => {
    for (const sort of ['lastScanned:desc', 'updated:desc', 'size:asc', 'created:sideways']) {
      const res = await api(`/images?sort=${sort}`);
      expect(res.status, sort).to.equal(400);
      expect(((await res.json()) as { message: string }).message).to.include('created');
    }
    const b = sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'sort/app', tags: ['b'], scannedAgoMs: 60_000 });
    sim.clock.advance(60_000);
    const a = sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'sort/app', tags: ['a'], scannedAgoMs: 3_600_000 });
    const shas = async (sort: string) =>
      (((await (await api(`/images?filter=repo.repository:%22sort/app%22&sort=${sort}`)).json()) as { data: { sha: string }[] }).data).map((i) => i.sha);
    expect(await shas('created:desc')).to.deep.equal([a.sha, b.sha]);
    expect(await shas('created:asc')).to.deep.equal([b.sha, a.sha]);
  });

  it('counts an internal error (500) out of X-Concurrency-Limit-Running like any other answer', async () => {
    const image = sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'x/broken', tags: ['1'], vulns: [{ qid: 178266, package: 'zlib1g', version: '1' }], scannedAgoMs: 60_000 });
    // A knowledge-base entry removed under an image makes the handler throw: the simulator's own 500 path.
    sim.catalogue.kb.delete(178266);
    for (let i = 0; i < 3; i++) expect((await api(`/images/${image.sha}/vuln`)).status).to.equal(500);
    const next = await api('/registry');
    expect(next.status).to.equal(200);
    expect(next.headers.get('x-concurrency-limit-running')).to.equal('0');
  });

  it('injects faults: status, malformed bodies, dropped connections, seeded random 5xx', async () => {
    sim.injectFault({ path: '/images', kind: 'status', status: 502 });
    expect((await api('/images')).status).to.equal(502);
    sim.injectFault({ path: '/images', kind: 'malformed' });
    const malformed = await api('/images');
    expect(malformed.status).to.equal(200);
    expect(() => JSON.parse('{"data":[{"sha":"')).to.throw();
    expect(await malformed.text()).to.equal('{"data":[{"sha":"');
    sim.injectFault({ path: '/images', kind: 'drop' });
    let dropped: unknown;
    await api('/images').catch((e: unknown) => (dropped = e));
    expect(dropped).to.be.instanceOf(Error);
    sim.injectFault({ path: '/images', kind: 'status', status: 409, headers: { 'X-RateLimit-Remaining': '0' } });
    const conflict = await api('/images');
    expect(conflict.status).to.equal(409);
    expect(conflict.headers.get('x-ratelimit-remaining')).to.equal('0');
    sim.injectFault({ path: '/images', kind: 'bad-item' });
    const badItem = (await (await api('/images?filter=repo.repository:%22library/nginx%22')).json()) as { data: Record<string, unknown>[] };
    expect(badItem.data).to.have.length(1);
    expect(badItem.data[0]).to.not.have.property('sha');
    expect(badItem.data[0]).to.have.property('repo');
    sim.injectFault({ path: '/schedule', kind: 'drop-after' });
    let lost: unknown;
    await api('/registry/6f1c2b7e-8a4d-4f0e-9b1a-2c3d4e5f6a01/schedule', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', onDemand: true, filters: [{ repoTags: [{ repo: 'library/nginx', tag: 'latest' }] }] }),
    }).catch((e: unknown) => (lost = e));
    expect(lost).to.be.instanceOf(Error);
    expect(sim.schedules).to.have.length(1);
    expect(sim.callLog.at(-1)).to.include({ fault: 'drop-after', status: 200 });
    sim.setFaultRates({ serverErrorRate: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await api('/images?pageSize=1')).status);
    expect(statuses.filter((s) => s === 503).length).to.be.within(8, 32);
    sim.clearFaults();
    expect((await api('/images')).status).to.equal(200);
  });

  describe('switchable server behaviours', () => {
    const DOCKER_HUB = '6f1c2b7e-8a4d-4f0e-9b1a-2c3d4e5f6a01';
    const list = async (query: string) => (await (await api(`/images?${query}`)).json()) as { data: { sha: string }[]; count?: number };
    const schedule = (repo: string, tag: string) =>
      api(`/registry/${DOCKER_HUB}/schedule`, {
        method: 'POST',
        body: JSON.stringify({ name: 'x', onDemand: true, filters: [{ repoTags: [{ repo, tag }], days: null }], forceScan: true }),
      });
    const registerPaged = () => {
      for (let i = 1; i <= 7; i++) sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'paging/app', tags: [`t${i}`], scannedAgoMs: i * 60_000 });
    };

    it('caps pages below the pageSize asked for, counting offsets in the pages it really sends', async () => {
      registerPaged();
      sim.setBehaviour({ paging: { pageCap: 3 } });
      const filter = 'filter=repo.repository:%22paging/app%22';
      const pages = [await list(`${filter}&pageSize=1000&pageNumber=1`), await list(`${filter}&pageSize=1000&pageNumber=2`), await list(`${filter}&pageSize=1000&pageNumber=3`)];
      expect(pages.map((p) => p.data.length)).to.deep.equal([3, 3, 1]);
      expect(pages.map((p) => p.count)).to.deep.equal([7, 7, 7]);
      expect(new Set(pages.flatMap((p) => p.data.map((i) => i.sha))).size).to.equal(7);
      const nginx = sim.findImage('nginx')!;
      const vulns = (await (await api(`/images/${nginx.sha}/vuln?type=DETAILS&pageNumber=1&pageSize=1000`)).json()) as { details: unknown[] };
      expect(vulns.details).to.have.length(3);
      const unpaged = (await (await api(`/images/${nginx.sha}/vuln`)).json()) as { details: unknown[] };
      expect(unpaged.details).to.have.length(3);
    });

    it('ignores paging parameters when told, and leaves count out when told', async () => {
      registerPaged();
      sim.setBehaviour({ paging: { ignorePaging: true, pageCap: 2, count: false } });
      const filter = 'filter=repo.repository:%22paging/app%22';
      const one = await list(`${filter}&pageSize=3&pageNumber=1`);
      const two = await list(`${filter}&pageSize=3&pageNumber=2`);
      expect(one.data.map((i) => i.sha)).to.deep.equal(two.data.map((i) => i.sha)).and.have.length(2);
      expect(one).to.not.have.property('count');
      const nginx = sim.findImage('nginx')!;
      const page2 = (await (await api(`/images/${nginx.sha}/vuln?pageNumber=2&pageSize=4`)).json()) as { details: { qid: number }[] };
      const page1 = (await (await api(`/images/${nginx.sha}/vuln?pageNumber=1&pageSize=4`)).json()) as { details: { qid: number }[] };
      expect(page2.details).to.deep.equal(page1.details).and.have.length(2);
    });

    it('answers 429s without rate-limit headers, or no rate-limit headers at all, when told', async () => {
      sim.setRateLimit({ families: { registry: { limit: 1, windowSec: 60 } } });
      sim.setBehaviour({ rateLimitHeaders: 'not-on-429' });
      const ok = await api('/registry');
      expect(ok.headers.get('x-ratelimit-limit')).to.equal('1');
      const limited = await api('/registry');
      expect(limited.status).to.equal(429);
      for (const h of ['limit', 'remaining', 'window-sec', 'towait-sec']) expect(limited.headers.get(`x-ratelimit-${h}`), h).to.equal(null);
      sim.setBehaviour({ rateLimitHeaders: 'never' });
      sim.clock.advance(60_000);
      const bare = await api('/registry');
      expect(bare.status).to.equal(200);
      expect(bare.headers.get('x-ratelimit-remaining')).to.equal(null);
      expect(sim.callLog.map((c) => c.rate)).to.deep.equal([
        { window: `registry@${sim.clock.now() - 60_000}`, limited: false, headers: true },
        { window: `registry@${sim.clock.now() - 60_000}`, limited: true, headers: false },
        { window: `registry@${sim.clock.now()}`, limited: false, headers: false },
      ]);
    });

    it('applies lowered limits per family, each family on its own budget', async () => {
      sim.setRateLimit({ families: { registry: { limit: 10, windowSec: 60 }, images: { limit: 12, windowSec: 60 } } });
      const nginx = sim.findImage('nginx')!;
      const posts: number[] = [];
      for (let i = 0; i < 11; i++) posts.push((await schedule('library/nginx', 'latest')).status);
      const reads: number[] = [];
      for (let i = 0; i < 13; i++) reads.push((await api(`/images/${nginx.sha}`)).status);
      expect(posts.filter((s) => s === 429)).to.have.length(1);
      expect(posts.at(-1)).to.equal(429);
      expect(reads.filter((s) => s === 429)).to.have.length(1);
      expect((await api('/images')).status).to.equal(200);
    });

    it('keeps showing the older scan of an image until the new one finishes (default)', async () => {
      const nginx = sim.findImage('nginx')!;
      const before = nginx.lastScanned!;
      await schedule('library/nginx', 'latest');
      const during = (await (await api(`/images/${nginx.sha}`)).json()) as { lastScanned: string; scanStatus: string };
      expect(during).to.include({ lastScanned: String(before), scanStatus: 'SUCCESS' });
      sim.clock.advance(11 * 60_000);
      const after = (await (await api(`/images/${nginx.sha}`)).json()) as { lastScanned: string };
      expect(Number(after.lastScanned)).to.be.above(before);
    });

    it('shows a scan in progress when told: a never-scanned image appears with IN_PROGRESS and no findings', async () => {
      sim.setBehaviour({ rescanView: 'in-progress' });
      const image = sim.findImage('repo/testcontainerapp0:v4')!;
      expect((await api(`/images/${image.sha}`)).status).to.equal(404);
      await schedule('repo/testcontainerapp0', 'v4');
      const during = (await (await api(`/images/${image.sha}`)).json()) as { lastScanned: unknown; scanStatus: string; updated: string; vulnerabilities: Record<string, number> };
      expect(during).to.include({ lastScanned: null, scanStatus: 'IN_PROGRESS', updated: String(sim.clock.now()) });
      expect(Object.values(during.vulnerabilities).every((n) => Number(n) === 0)).to.equal(true);
      expect(((await (await api(`/images/${image.sha}/vuln`)).json()) as { details: unknown[] }).details).to.deep.equal([]);
      sim.clock.advance(11 * 60_000);
      const after = (await (await api(`/images/${image.sha}`)).json()) as { scanStatus: string };
      expect(after.scanStatus).to.equal('SUCCESS');
    });

    it('hides an image while it rescans it when told, and shows the new scan when it lands', async () => {
      sim.setBehaviour({ rescanView: 'hidden' });
      const nginx = sim.findImage('nginx')!;
      expect((await api(`/images/${nginx.sha}`)).status).to.equal(200);
      await schedule('library/nginx', 'latest');
      expect((await api(`/images/${nginx.sha}`)).status).to.equal(404);
      expect((await list('filter=repo.repository:%22library/nginx%22')).data).to.deep.equal([]);
      sim.clock.advance(11 * 60_000);
      const after = (await (await api(`/images/${nginx.sha}`)).json()) as { lastScanned: string };
      expect(Number(after.lastScanned)).to.be.above(sim.clock.now() - 11 * 60_000);
    });

    it('shows its own clock in timestamps and the Date header when it runs ahead', async () => {
      sim.setBehaviour({ clockSkewMs: 90_000 });
      const nginx = sim.findImage('nginx')!;
      const res = await api(`/images/${nginx.sha}`);
      expect(Date.parse(res.headers.get('date')!)).to.equal(Math.floor((sim.clock.now() + 90_000) / 1000) * 1000);
      expect(((await res.json()) as { lastScanned: string }).lastScanned).to.equal(String(nginx.lastScanned! + 90_000));
    });
  });

  it('registers images at runtime and answers expected counts', () => {
    sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'x/y', tags: ['1'], vulns: [{ qid: 178266, package: 'zlib1g', version: '1' }] });
    expect(sim.expectedCounts('shipscandemo.azurecr.io/x/y:1')).to.deep.equal({ critical: 1, high: 0, medium: 0, low: 0, informational: 0, total: 1 });
    expect(sim.expectedCounts('nginx:latest').total).to.equal(10);
    expect(() => sim.registerImage({ registry: 'r.io', repository: 'a', tags: ['1'], vulns: [{ qid: 1, package: 'p', version: '1' }] })).to.throw(/unknown QID 1/);
    expect(() => sim.expectedCounts('ghcr.io/nobody/nothing:1')).to.throw(/no image/);
  });
});
