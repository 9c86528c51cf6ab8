import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { SimClock, startQualysSimulator, type QualysSimulator } from '../../local/qualys-sim';
import {
  QualysAuthError,
  QualysConfigError,
  QualysMalformedResponseError,
  QualysRateLimitError,
  QualysRequestError,
  QualysServerError,
  QualysNotFoundError,
} from '../../shared/qualys/errors';
import { resolveGateway } from '../../shared/qualys/gateway';
import { QualysClient } from '../../shared/qualys/cs-client';
import { RateLimiter } from '../../shared/qualys/rate-limiter';
import { apiCalls, simClient } from './support';
import { createScanWorkflow } from '../../shared/qualys/workflow';
import { parseImageReference } from '../../shared/image-reference';

const NGINX_SHA = '217cfca64109a23a963dd2c76a7ebfc45d9073fc30d8c302952aaba9abd01b2e';

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}


/**
 * A loopback gateway answering every request with the same JSON body: shapes the simulator will not
 * produce (repeated pages, malformed details). Request URLs are appended to `calls` when given.
 */
async function withJsonGateway(body: unknown, run: (gateway: string) => Promise<void>, calls?: string[]): Promise<void> {
  const server = createServer((req, res) => {
    calls?.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('Qualys CS API client against the simulator (real HTTP)', function () {
  let sim: QualysSimulator;
  beforeEach(async () => {
    sim = await startQualysSimulator();
  });
  afterEach(async () => sim.stop());

  describe('authentication', () => {
    it('uses a static access token as the bearer, without /auth', async () => {
      const { client } = simClient(sim, { credentials: { kind: 'token', token: sim.credentials.accessToken } });
      const page = await client.listImages({ filter: 'repo.repository:"library/nginx"' });
      expect(page.images.map((i) => i.sha)).to.deep.equal([NGINX_SHA]);
      expect(sim.callLog.map((c) => [c.path, c.auth])).to.deep.equal([['/csapi/v1.3/images', 'token']]);
    });

    it('gets a JWT once, reuses it, and refreshes it before the 4 h expiry', async () => {
      const { client } = simClient(sim);
      await client.getImage(NGINX_SHA);
      await client.getImage(NGINX_SHA);
      expect(sim.callLog.filter((c) => c.path === '/auth')).to.have.length(1);
      sim.clock.advance(3 * 3600_000 + 56 * 60_000); // inside the 5-minute refresh margin
      await client.getImage(NGINX_SHA);
      expect(sim.callLog.filter((c) => c.path === '/auth')).to.have.length(2);
      expect(sim.callLog.filter((c) => c.status === 401)).to.have.length(0);
      expect(sim.callLog.filter((c) => c.path !== '/auth').every((c) => c.auth === 'jwt')).to.equal(true);
    });

    it('re-authenticates once on 401 and carries on', async () => {
      const { client } = simClient(sim);
      await client.getImage(NGINX_SHA);
      sim.expireTokens();
      const image = await client.getImage(NGINX_SHA);
      expect(image.sha).to.equal(NGINX_SHA);
      expect(sim.callLog.map((c) => `${c.path === '/auth' ? 'auth' : 'image'}:${c.status}`)).to.deep.equal(['auth:200', 'image:200', 'image:401', 'auth:200', 'image:200']);
    });

    it('fails with QualysAuthError when the 401 persists after one re-authentication', async () => {
      const { client } = simClient(sim);
      sim.injectFault({ path: '/images/', kind: 'status', status: 401, times: 5 });
      const err = await rejection(client.getImage(NGINX_SHA));
      expect(err).to.be.instanceOf(QualysAuthError);
      expect((err as QualysAuthError).retryable).to.equal(false);
      expect(sim.callLog.filter((c) => c.path === '/auth')).to.have.length(2);
      expect(apiCalls(sim)).to.have.length(2);
    });

    it('retries a 429 on /auth (documented as exempt from rate limits) instead of calling the credentials bad', async () => {
      const { client } = simClient(sim);
      sim.injectFault({ path: '/auth', kind: 'status', status: 429, times: 2 });
      const image = await client.getImage(NGINX_SHA);
      expect(image.sha).to.equal(NGINX_SHA);
      expect(sim.callLog.filter((c) => c.path === '/auth').map((c) => c.status)).to.deep.equal([429, 429, 200]);
    });

    it('reports wrong credentials without revealing the password', async () => {
      const { client } = simClient(sim, { credentials: { kind: 'password', username: 'shipscan-sim', password: 'hunter2-wrong' } });
      const err = await rejection(client.listImages());
      expect(err).to.be.instanceOf(QualysAuthError);
      expect(err.message).to.include('credentials').and.not.include('hunter2').and.not.include('shipscan-sim');
      expect(JSON.stringify(client)).to.not.include('hunter2');
      const bad = simClient(sim, { credentials: { kind: 'token', token: 'revoked-token-value' } }).client;
      const err2 = await rejection(bad.listImages());
      expect(err2).to.be.instanceOf(QualysAuthError);
      expect(err2.message).to.not.include('revoked-token-value');
    });
  });

  describe('rate limits', () => {
    it('slows down before the budget is spent: no 429 from a single client', async () => {
      sim.setRateLimit({ global: { limit: 10, windowSec: 60 } });
      const { client, clock } = simClient(sim, { credentials: { kind: 'token', token: sim.credentials.accessToken } });
      for (let i = 0; i < 25; i++) await client.getImage(NGINX_SHA);
      expect(sim.callLog.filter((c) => c.status === 429)).to.have.length(0);
      expect(sim.callLog).to.have.length(25);
      // 25 calls at 10 per minute take at least two full windows of (simulated) waiting.
      expect(clock.sleeps.reduce((a, b) => a + b, 0)).to.be.at.least(120_000);
      expect(client.rateLimiter.headroom()).to.be.below(1);
    });

    it('honours a 429 by waiting what the server says, then retries', async () => {
      sim.setRateLimit({ global: { limit: 3, windowSec: 60 } });
      const a = simClient(sim, { credentials: { kind: 'token', token: sim.credentials.accessToken } });
      for (let i = 0; i < 3; i++) await a.client.getImage(NGINX_SHA);
      sim.clock.advance(15_000);
      // Another process with its own limiter knows nothing of the spent budget.
      const b = simClient(sim, { credentials: { kind: 'token', token: sim.credentials.accessToken } });
      const image = await b.client.getImage(NGINX_SHA);
      expect(image.sha).to.equal(NGINX_SHA);
      expect(sim.callLog.slice(3).map((c) => c.status)).to.deep.equal([429, 200]);
      expect(b.clock.sleeps).to.deep.equal([45_000]);
      expect(b.client.stats.rateLimited).to.equal(1);
    });

    it('a 409 whose rate headers do not say the budget is spent is a conflict: QualysRequestError, sent once', async () => {
      const { client, clock } = simClient(sim, { credentials: { kind: 'token', token: sim.credentials.accessToken } });
      sim.injectFault({ path: '/images/', kind: 'status', status: 409, times: 1 });
      sim.injectFault({ path: '/images/', kind: 'status', status: 409, times: 1, headers: { 'X-RateLimit-Remaining': '17', 'X-RateLimit-ToWait-Sec': '0' } });
      for (let i = 0; i < 2; i++) {
        const err = await rejection(client.getImage(NGINX_SHA));
        expect(err).to.be.instanceOf(QualysRequestError);
        expect(err).to.include({ status: 409, retryable: false });
      }
      expect(apiCalls(sim).map((c) => c.status)).to.deep.equal([409, 409]);
      expect(client.stats.rateLimited).to.equal(0);
      expect(clock.sleeps).to.deep.equal([]);
    });

    it('a 409 whose rate headers say the budget is spent is waited out like a 429', async () => {
      const { client, clock } = simClient(sim, { credentials: { kind: 'token', token: sim.credentials.accessToken } });
      sim.injectFault({ path: '/images/', kind: 'status', status: 409, times: 1, headers: { 'X-RateLimit-Remaining': '0', 'X-RateLimit-ToWait-Sec': '7' } });
      sim.injectFault({ path: '/images/', kind: 'status', status: 409, times: 1, headers: { 'X-RateLimit-ToWait-Sec': '3' } });
      expect((await client.getImage(NGINX_SHA)).sha).to.equal(NGINX_SHA);
      expect(apiCalls(sim).map((c) => c.status)).to.deep.equal([409, 409, 200]);
      expect(client.stats.rateLimited).to.equal(2);
      expect(clock.sleeps.reduce((a, b) => a + b, 0)).to.be.at.least(10_000);
    });

    it('gives up with a retryable QualysRateLimitError when the wait exceeds its budget', async () => {
      sim.setRateLimit({ global: { limit: 1, windowSec: 3600 } });
      const a = simClient(sim, { credentials: { kind: 'token', token: sim.credentials.accessToken } });
      await a.client.getImage(NGINX_SHA);
      const b = simClient(sim, { credentials: { kind: 'token', token: sim.credentials.accessToken }, retry: { maxRateLimitWaitMs: 60_000 } });
      const err = await rejection(b.client.getImage(NGINX_SHA));
      expect(err).to.be.instanceOf(QualysRateLimitError);
      expect(err).to.include({ retryable: true, retryAfterSec: 3600 });
    });
  });

  describe('bursts past a known budget (simulated time, concurrent callers)', () => {
    let clock: SimClock;
    beforeEach(async () => {
      await sim.stop();
      clock = new SimClock();
      sim = await startQualysSimulator({ clock });
    });
    const client = (maxRateLimitWaitMs = 30 * 60_000) =>
      new QualysClient({
        gateway: sim.url,
        credentials: { kind: 'token', token: sim.credentials.accessToken },
        clock,
        rateLimiter: new RateLimiter({ clock, random: () => 0.5 }),
        random: () => 0.5,
        retry: { maxRateLimitWaitMs },
      });
    /** Calls and 429s per rate-limit window of the server. */
    const perWindow = () => {
      const windows = new Map<string, { calls: number; rejected: number }>();
      for (const c of sim.callLog) {
        if (!c.rate) continue;
        const w = windows.get(c.rate.window) ?? { calls: 0, rejected: 0 };
        w.calls += 1;
        if (c.rate.limited) w.rejected += 1;
        windows.set(c.rate.window, w);
      }
      return [...windows.values()];
    };
    const NGINX = () => sim.findImage('nginx')!.sha;

    it('first contact: 30 simultaneous image reads into a budget of 12 per minute draw no 429', async () => {
      sim.setRateLimit({ families: { images: { limit: 12, windowSec: 60 } } });
      const c = client();
      await Promise.all(Array.from({ length: 30 }, () => clock.actor(() => c.getImage(NGINX()))));
      expect(sim.callLog.filter((x) => x.status === 429)).to.have.length(0);
      expect(sim.callLog.filter((x) => x.status === 200)).to.have.length(30);
      expect(Math.max(...perWindow().map((w) => w.calls))).to.be.at.most(12);
    });

    it('window rollover: 30 schedule posts into a budget of 10 per minute, none beyond it', async () => {
      sim.setRateLimit({ families: { registry: { limit: 10, windowSec: 60 } } });
      const c = client();
      const request = { registryUuid: 'c7b9e1f3-2d4a-4e6c-9a8b-7c6d5e4f3a03', repo: 'shop/web-frontend', tag: '2.0.0', name: 'burst' };
      await Promise.all(Array.from({ length: 30 }, () => clock.actor(() => c.scheduleScan(request))));
      expect(sim.schedules).to.have.length(30);
      expect(sim.callLog.filter((x) => x.status === 429)).to.have.length(0);
      const windows = perWindow();
      expect(windows.map((w) => w.calls)).to.deep.equal([10, 10, 10]);
    });

    it('concurrent submits share one registry lookup while the budget makes it wait, and schedule in full windows', async () => {
      sim.setRateLimit({ families: { registry: { limit: 10, windowSec: 60 } } });
      const c = client();
      // Another process has spent this window: the lookup meets a 429 and waits for the next one.
      for (let i = 0; i < 10; i++) await client().findRegistry('https://nowhere.example');
      sim.callLog.length = 0;
      const wf = createScanWorkflow({ client: c });
      const tickets = await Promise.all(
        Array.from({ length: 20 }, () => clock.actor(() => wf.submit(parseImageReference('shipscandemo.azurecr.io/shop/web-frontend:2.0.0')))),
      );
      expect(tickets.every((t) => typeof t.scheduleId === 'string')).to.equal(true);
      expect(sim.callLog.filter((x) => x.path === '/csapi/v1.3/registry').map((x) => x.status)).to.deep.equal([429, 200]);
      expect(sim.callLog.filter((x) => x.status === 429)).to.have.length(1);
      expect(Math.max(...perWindow().map((w) => w.calls))).to.be.at.most(10);
    });

    it('429s without rate-limit headers: at most 2 rejected calls per window, every call answered in the end', async () => {
      sim.setRateLimit({ families: { images: { limit: 12, windowSec: 60 } } });
      sim.setBehaviour({ rateLimitHeaders: 'never' });
      const c = client();
      const images = await Promise.all(Array.from({ length: 40 }, () => clock.actor(() => c.getImage(NGINX()))));
      expect(images.every((i) => i.sha === NGINX())).to.equal(true);
      const windows = perWindow();
      expect(windows.reduce((n, w) => n + w.calls - w.rejected, 0)).to.equal(40);
      expect(Math.max(...windows.map((w) => w.rejected))).to.be.at.most(2);
    });

    it('429s without rate-limit headers from a server that announces its budget otherwise: at most 2 rejected per window', async () => {
      sim.setRateLimit({ families: { images: { limit: 12, windowSec: 60 } } });
      sim.setBehaviour({ rateLimitHeaders: 'not-on-429' });
      // Another process spends most of each window behind this client's back.
      const other = client();
      const c = client();
      const mine = Array.from({ length: 30 }, () => clock.actor(() => c.getImage(NGINX())));
      const theirs = Array.from({ length: 3 }, (_, i) => clock.actor(async () => {
        for (let w = 0; w < 4; w++) {
          await clock.sleep(i * 1000 + 1);
          for (let k = 0; k < 3; k++) await other.getImage(NGINX());
          await clock.sleep(60_000);
        }
      }));
      await Promise.all([...mine, ...theirs]);
      expect(Math.max(...perWindow().map((w) => w.rejected))).to.be.at.most(2);
    });
  });

  describe('transient failures', () => {
    it('retries 5xx with backoff and succeeds', async () => {
      const { client, clock } = simClient(sim);
      sim.injectFault({ path: '/images', kind: 'status', status: 503, times: 2 });
      const page = await client.listImages({ filter: 'repo.tag:"1.4.2"' });
      expect(page.images).to.have.length(1);
      expect(apiCalls(sim).map((c) => c.status)).to.deep.equal([503, 503, 200]);
      expect(clock.sleeps).to.deep.equal([250, 500]); // random 0.5 x 500 ms x 2^n
      expect(client.stats.retries).to.equal(2);
    });

    it('surfaces a persistent 5xx as a retryable QualysServerError after maxAttempts', async () => {
      const { client } = simClient(sim, { retry: { maxAttempts: 3 } });
      sim.injectFault({ path: '/images', kind: 'status', status: 502, times: 10 });
      const err = await rejection(client.getImage(NGINX_SHA));
      expect(err).to.be.instanceOf(QualysServerError);
      expect(err).to.include({ retryable: true, status: 502 });
      expect(apiCalls(sim)).to.have.length(3);
    });

    it('bounds retries by total time as well as by count', async () => {
      const { client } = simClient(sim, { retry: { maxAttempts: 50, baseDelayMs: 10_000, maxRetryMs: 20_000 } });
      sim.injectFault({ path: '/images', kind: 'status', status: 500, times: 50 });
      const err = await rejection(client.getImage(NGINX_SHA));
      expect(err).to.be.instanceOf(QualysServerError);
      expect(apiCalls(sim).length).to.be.within(2, 4);
    });

    it('retries dropped connections', async () => {
      const { client } = simClient(sim);
      sim.injectFault({ path: '/images', kind: 'drop', times: 1 });
      const image = await client.getImage(NGINX_SHA);
      expect(image.sha).to.equal(NGINX_SHA);
      expect(apiCalls(sim).map((c) => c.fault ?? c.status)).to.deep.equal(['drop', 200]);
    });

    it('times out a slow request and retries it', async () => {
      const { client } = simClient(sim, { requestTimeoutMs: 200 });
      sim.injectFault({ path: '/images', kind: 'delay', delayMs: 1500, times: 1 });
      const image = await client.getImage(NGINX_SHA);
      expect(image.sha).to.equal(NGINX_SHA);
      expect(client.stats.retries).to.equal(1);
    });

    it('treats malformed bodies as typed errors (retried, then surfaced)', async () => {
      const { client } = simClient(sim, { retry: { maxAttempts: 2 } });
      sim.injectFault({ path: '/images', kind: 'malformed', times: 1 });
      expect((await client.getImage(NGINX_SHA)).sha).to.equal(NGINX_SHA);
      sim.injectFault({ path: '/images', kind: 'malformed', times: 2 });
      const err = await rejection(client.listImages());
      expect(err).to.be.instanceOf(QualysMalformedResponseError).and.instanceOf(QualysServerError);
      expect(err.message).to.include('not JSON');
    });

    it('does not retry a request the server calls bad', async () => {
      const { client } = simClient(sim);
      const err = await rejection(client.listImages({ filter: 'nosuchfield:"x"' }));
      expect(err).to.be.instanceOf(QualysRequestError);
      expect(err.message).to.include('unknown field nosuchfield');
      expect(apiCalls(sim)).to.have.length(1);
    });
  });

  describe('typed calls', () => {
    it('parses images defensively: numeric strings, epoch-ms strings, unknown fields dropped', async () => {
      const { client } = simClient(sim);
      const image = await client.getImage(NGINX_SHA);
      expect(image.size).to.equal(192_563_200);
      expect(image.lastScanned).to.equal(sim.clock.now() - 3 * 3600_000);
      expect(image.vulnerabilities).to.deep.equal({ severity1Count: 1, severity2Count: 1, severity3Count: 3, severity4Count: 3, severity5Count: 2 });
      expect(image).to.not.have.property('riskScore');
      expect(image).to.not.have.property('customerUuid');
      expect(image.repo[0]).to.deep.equal({ registry: 'registry-1.docker.io', repository: 'library/nginx', tag: 'latest' });
    });

    it('404 is QualysNotFoundError', async () => {
      const { client } = simClient(sim);
      const err = await rejection(client.getImage('0'.repeat(64)));
      expect(err).to.be.instanceOf(QualysNotFoundError);
    });

    it('pages through image lists', async () => {
      for (let i = 1; i <= 7; i++) sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'paging/app', tags: [`t${i}`], scannedAgoMs: i * 60_000 });
      const { client } = simClient(sim);
      const images = await client.findImages('repo.repository:"paging/app"', { pageSize: 3 });
      expect(images).to.have.length(7);
      expect(new Set(images.map((i) => i.sha)).size).to.equal(7);
      expect(apiCalls(sim).map((c) => c.query.pageNumber)).to.deep.equal(['1', '2', '3']);
    });

    it('keeps paging past a full page holding an unreadable item', async () => {
      for (let i = 1; i <= 7; i++) sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'paging/app', tags: [`t${i}`], scannedAgoMs: i * 60_000 });
      const { client } = simClient(sim);
      // Page 1 arrives full (3 items) but one of them has no sha: 2 readable images, and more pages to come.
      sim.injectFault({ path: '/csapi/v1.3/images', kind: 'bad-item', times: 1 });
      const images = await client.findImages('repo.repository:"paging/app"', { pageSize: 3 });
      expect(apiCalls(sim).map((c) => [c.query.pageNumber, c.fault])).to.deep.equal([['1', 'bad-item'], ['2', undefined], ['3', undefined]]);
      expect(images).to.have.length(6);
      expect(new Set(images.map((i) => i.sha)).size).to.equal(6);
    });

    it('stops paging when the server ignores pageNumber, without counting a finding twice', async () => {
      // A gateway that answers every page with the same full page (paging of /vuln is not documented).
      const page = { details: [1, 2, 3, 4].map((n) => ({ qid: 100 + n, title: `finding ${n}`, severity: 3, cveids: [] })) };
      const calls: string[] = [];
      await withJsonGateway(page, async (gateway) => {
        const client = new QualysClient({ gateway, credentials: { kind: 'token', token: 'paging-token' }, rateLimit: false });
        const report = await client.getVulnerabilityReport(NGINX_SHA, { pageSize: 4 });
        expect(report.details.map((d) => d.qid)).to.deep.equal(['101', '102', '103', '104']);
        // The repeat leaves it unsure whether the list was cut, so the counts are asked: this gateway's say none.
        expect(calls.map((c) => c.split('?')[0])).to.deep.equal([`/csapi/v1.3/images/${NGINX_SHA}/vuln`, `/csapi/v1.3/images/${NGINX_SHA}/vuln`, `/csapi/v1.3/images/${NGINX_SHA}/vuln/count`]);
        expect(report.incomplete).to.equal(undefined);
      }, calls);
    });

    describe('paging decided from what the server says', () => {
      /** An image with `n` findings under fresh QIDs, already scanned. */
      const manyFindings = (repository: string, n: number) => {
        for (let q = 0; q < n; q++) sim.registerVulnerability({ qid: 800_000 + q, title: `finding ${q}`, severity: ((q % 5) + 1) as 1 | 2 | 3 | 4 | 5, cveids: [] });
        return sim.registerImage({
          registry: 'shipscandemo.azurecr.io',
          repository,
          tags: ['1'],
          scannedAgoMs: 60_000,
          vulns: Array.from({ length: n }, (_, q) => ({ qid: 800_000 + q, package: `p${q}`, version: '1' })),
        });
      };
      const paged = () => {
        for (let i = 1; i <= 7; i++) sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: 'paging/app', tags: [`t${i}`], scannedAgoMs: i * 60_000 });
      };

      it('reads every vulnerability from a server that caps pages below the pageSize asked for', async () => {
        const image = manyFindings('big/app', 250);
        sim.setBehaviour({ paging: { pageCap: 100 } });
        const { client } = simClient(sim);
        const report = await client.getVulnerabilityReport(image.sha);
        expect(report.details).to.have.length(250);
        expect(new Set(report.details.map((d) => d.qid)).size).to.equal(250);
        expect(report.incomplete).to.equal(undefined);
        // 100 + 100 + 50, then an empty page: the endpoint sends no count to stop at earlier.
        expect(apiCalls(sim).map((c) => [c.query.pageNumber, c.query.pageSize])).to.deep.equal([['1', '1000'], ['2', '100'], ['3', '100'], ['4', '100']]);
      });

      it('stops at the total it was given, with no extra call', async () => {
        const image = manyFindings('big/app', 250);
        sim.setBehaviour({ paging: { pageCap: 100 } });
        const { client } = simClient(sim);
        const report = await client.getVulnerabilityReport(image.sha, { expectedTotal: 250 });
        expect(report.details).to.have.length(250);
        expect(apiCalls(sim)).to.have.length(3);
        const small = await client.getVulnerabilityReport(NGINX_SHA, { expectedTotal: 10 });
        expect(small.details).to.have.length(10);
        expect(apiCalls(sim)).to.have.length(4);
      });

      it('reports vulnerabilities a server that ignores pageNumber will not hand over as incomplete, with the reason', async () => {
        const image = manyFindings('big/app', 250);
        sim.setBehaviour({ paging: { pageCap: 100, ignorePaging: true } });
        const { client } = simClient(sim);
        const report = await client.getVulnerabilityReport(image.sha);
        expect(report.details).to.have.length(100);
        expect(report.incomplete).to.include('reported 250').and.include('sent 100').and.include('ignores pageNumber');
        expect(apiCalls(sim).map((c) => c.path.split('/').pop())).to.deep.equal(['vuln', 'vuln', 'count']);
      });

      it('reads every image of a listing from a server that caps pages', async () => {
        paged();
        sim.setBehaviour({ paging: { pageCap: 3 } });
        const { client } = simClient(sim);
        const images = await client.findImages('repo.repository:"paging/app"');
        expect(new Set(images.map((i) => i.sha)).size).to.equal(7);
        // count (7) ends it: no empty page needed.
        expect(apiCalls(sim).map((c) => [c.query.pageNumber, c.query.pageSize])).to.deep.equal([['1', '1000'], ['2', '3'], ['3', '3']]);
      });

      it('pages a listing without count on to an empty page', async () => {
        paged();
        sim.setBehaviour({ paging: { pageCap: 3, count: false } });
        const { client } = simClient(sim);
        const listing = await client.listAllImages('repo.repository:"paging/app"');
        expect(new Set(listing.images.map((i) => i.sha)).size).to.equal(7);
        expect(listing.incomplete).to.equal(undefined);
        expect(apiCalls(sim).map((c) => c.query.pageNumber)).to.deep.equal(['1', '2', '3', '4']);
      });

      it('reports a listing the server will not page as incomplete, and one cut by maxPages', async () => {
        paged();
        sim.setBehaviour({ paging: { pageCap: 2, ignorePaging: true } });
        const { client } = simClient(sim);
        const ignored = await client.listAllImages('repo.repository:"paging/app"');
        expect(ignored.images).to.have.length(2);
        expect(ignored.incomplete).to.include('reported 7 images and sent 2').and.include('ignores pageNumber');
        sim.setBehaviour({ paging: { pageCap: 2, count: false } });
        const cut = await client.listAllImages('repo.repository:"paging/app"', { maxPages: 2 });
        expect(cut.images).to.have.length(4);
        expect(cut.incomplete).to.include('4 images read with more to come');
      });
    });

    it('parses vulnerability details one by one: an unusable severity keeps the finding, a missing QID is skipped and counted', async () => {
      const details = [
        { qid: 201, title: 'severity zero', severity: 0 },
        { qid: 202, title: 'no severity' },
        { title: 'no qid', severity: 5 },
        { qid: 203, title: 'numeric string', severity: '4' },
        { qid: '204', title: 'a word', severity: 'High' },
        { qid: 205, title: 'out of range', severity: 9, cveids: ['CVE-2024-0001'] },
      ];
      await withJsonGateway({ details }, async (gateway) => {
        const client = new QualysClient({ gateway, credentials: { kind: 'token', token: 'detail-token' }, rateLimit: false, retry: { maxAttempts: 2, baseDelayMs: 1 } });
        expect((await client.getVulnerabilities(NGINX_SHA)).map((d) => d.qid)).to.deep.equal(['201', '202', '203', '204', '205']);
        const report = await client.getVulnerabilityReport(NGINX_SHA);
        expect(report.skipped).to.equal(1);
        expect(report.details.map((d) => [d.qid, d.severity])).to.deep.equal([['201', 0], ['202', undefined], ['203', 4], ['204', 'High'], ['205', 9]]);
        expect(report.details.find((d) => d.qid === '205')?.cveids).to.deep.equal(['CVE-2024-0001']);
      });
    });

    it('counts a skipped detail once when the server repeats the page', async () => {
      const page = { details: [{ severity: 3 }, ...[1, 2, 3].map((n) => ({ qid: 300 + n, severity: 3 }))] };
      await withJsonGateway(page, async (gateway) => {
        const client = new QualysClient({ gateway, credentials: { kind: 'token', token: 'paging-token' }, rateLimit: false });
        const report = await client.getVulnerabilityReport(NGINX_SHA, { pageSize: 4 });
        expect(report).to.deep.equal({ details: report.details, skipped: 1, pages: 3 });
        expect(report.details.map((d) => d.qid)).to.deep.equal(['301', '302', '303']);
      });
    });

    it('reads every page of vulnerability details, and the counts', async () => {
      const { client } = simClient(sim);
      const details = await client.getVulnerabilities(NGINX_SHA, { pageSize: 4 });
      expect(details.map((d) => d.qid)).to.have.length(10);
      // 4 + 4 + 2 and an empty page: with no total given, a short page does not end the list.
      expect(apiCalls(sim)).to.have.length(4);
      const expat = details.find((d) => d.qid === '178905')!;
      expect(expat).to.deep.include({ severity: 5, cveids: ['CVE-2024-45490', 'CVE-2024-45491', 'CVE-2024-45492'] });
      expect(expat.software).to.deep.equal([{ name: 'libexpat1', version: '2.5.0-1', fixVersion: '2.5.0-1+deb12u1' }]);
      expect(expat.cvss3Info?.baseScore).to.equal(9.8);
      expect(await client.getVulnerabilityCounts(NGINX_SHA)).to.deep.equal({ severity1Count: 1, severity2Count: 1, severity3Count: 3, severity4Count: 3, severity5Count: 2 });
    });

    it('finds registries by URI and answers undefined for unknown ones (204)', async () => {
      const { client } = simClient(sim);
      expect((await client.findRegistry('https://shipscandemo.azurecr.io'))?.registryUuid).to.equal('c7b9e1f3-2d4a-4e6c-9a8b-7c6d5e4f3a03');
      expect(await client.findRegistry('https://notonboarded.azurecr.io')).to.equal(undefined);
      expect(apiCalls(sim).map((c) => c.status)).to.deep.equal([200, 204]);
    });

    it('falls back to forceScan false when the subscription refuses it', async () => {
      await sim.stop();
      sim = await startQualysSimulator({ forceScanSupported: false });
      const { client } = simClient(sim);
      const id = await client.scheduleScan({ registryUuid: 'c7b9e1f3-2d4a-4e6c-9a8b-7c6d5e4f3a03', repo: 'shop/web-frontend', tag: '2.0.0', name: 'test' });
      expect(id).to.match(/^[0-9a-f-]{36}$/);
      const posts = apiCalls(sim);
      expect(posts.map((c) => [c.status, (c.body as { forceScan: boolean }).forceScan])).to.deep.equal([[400, true], [200, false]]);
    });
  });

  describe('schedule posts (not idempotent)', () => {
    const REGISTRY = 'c7b9e1f3-2d4a-4e6c-9a8b-7c6d5e4f3a03';
    const request = { registryUuid: REGISTRY, repo: 'shop/web-frontend', tag: '2.0.0', name: 'test' };
    const posts = () => apiCalls(sim).filter((c) => c.path.endsWith('/schedule'));

    it('does not resend a post whose connection was lost after Qualys acted on it', async () => {
      const { client } = simClient(sim);
      sim.injectFault({ path: '/schedule', kind: 'drop-after', times: 1 });
      const err = await rejection(client.scheduleScan(request));
      expect(err).to.be.instanceOf(QualysServerError);
      expect(err).to.include({ retryable: true });
      expect(err.message).to.include('not resent');
      expect(posts()).to.have.length(1);
      expect(sim.schedules).to.have.length(1);
      expect(client.stats.retries).to.equal(0);
    });

    it('does not resend a post that timed out (Qualys may still act on it)', async () => {
      const { client } = simClient(sim, { requestTimeoutMs: 200 });
      sim.injectFault({ path: '/schedule', kind: 'delay', delayMs: 700, times: 1 });
      const err = await rejection(client.scheduleScan(request));
      expect(err).to.be.instanceOf(QualysServerError);
      expect(err).to.include({ retryable: true });
      expect(err.message).to.include('timed out');
      // The slow handler finishes after the client gave up and creates its schedule anyway.
      await new Promise((resolve) => setTimeout(resolve, 900));
      expect(sim.schedules).to.have.length(1);
      expect(posts()).to.have.length(1);
    });

    it('does not resend a post answered 2xx with an unreadable body (it was done)', async () => {
      const { client } = simClient(sim);
      sim.injectFault({ path: '/schedule', kind: 'malformed', times: 1 });
      const err = await rejection(client.scheduleScan(request));
      expect(err).to.be.instanceOf(QualysMalformedResponseError);
      expect(err).to.include({ retryable: true });
      expect(posts()).to.have.length(1);
      expect(sim.schedules).to.have.length(1);
    });

    it('still resends a post whose connection was refused (it never left this process)', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      const { client } = simClient(sim, { gateway: `http://127.0.0.1:${port}`, credentials: { kind: 'token', token: 't' }, retry: { maxAttempts: 3 } });
      const err = await rejection(client.scheduleScan(request));
      expect(err).to.be.instanceOf(QualysServerError);
      expect(err.message).to.include('connection failed').and.not.include('not resent');
      expect(client.stats.retries).to.equal(2);
    });

    it('still resends a post Qualys refused with a 5xx or a 429 (it did not act)', async () => {
      const { client } = simClient(sim);
      sim.injectFault({ path: '/schedule', kind: 'status', status: 503, times: 1 });
      sim.injectFault({ path: '/schedule', kind: 'status', status: 429, times: 1, headers: { 'X-RateLimit-Remaining': '0', 'X-RateLimit-ToWait-Sec': '2' } });
      const id = await client.scheduleScan(request);
      expect(posts().map((c) => c.status)).to.deep.equal([503, 429, 200]);
      expect(sim.schedules.map((s) => s.scheduleId)).to.deep.equal([id]);
    });
  });

  describe('gateway', () => {
    it('resolves PODs and validates URLs', () => {
      expect(resolveGateway({ pod: 'us2' })).to.equal('https://gateway.qg2.apps.qualys.com');
      expect(resolveGateway({ pod: 'KSA1' })).to.equal('https://gateway.qg1.apps.qualysksa.com');
      expect(resolveGateway({ gateway: 'https://gateway.private.example.com/' })).to.equal('https://gateway.private.example.com');
      expect(() => resolveGateway({ pod: 'MARS1' })).to.throw(QualysConfigError, /unknown POD "MARS1"/);
      expect(() => resolveGateway({ gateway: 'http://gateway.example.com' })).to.throw(QualysConfigError, /https/);
      expect(() => resolveGateway({})).to.throw(QualysConfigError);
      expect(() => new QualysClient({ pod: 'US1', credentials: { kind: 'password', username: 'u', password: '' } })).to.throw(QualysConfigError, /username and password/);
    });
  });
});
