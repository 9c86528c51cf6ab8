import { expect } from 'chai';
import fc from 'fast-check';
import { MockAgent } from 'undici';
import { ImageReferenceError, parseImageReference } from '../../shared/image-reference';
import { parseQScannerSarif, parseQScannerScanResultMeta, QScannerReportError } from '../../shared/qualys/qscanner-report';
import { QualysClient } from '../../shared/qualys/cs-client';
import { QualysError } from '../../shared/qualys/errors';
import { RateLimiter } from '../../shared/qualys/rate-limiter';
import { ImageListSchema, ImageSchema, RegistryListSchema, RegistrySchema, ScheduleResponseSchema, SeverityCountsSchema, VulnDetailSchema, VulnListSchema } from '../../shared/qualys/schemas';
import { SEVERITIES } from '../../shared/severity';
import { expectLinear } from '../support/growth';
import { imageReferenceSeeds, qscannerReportSeeds, qualysResponseSeeds, type QScannerReports, type QualysEndpoint } from './support/seeds';
import { fuzz, hostileString, hostileValue, jsonText, mutated, mutatedText, nestedText, repeatTo, TRAPS } from './support/hostile';
import { describe as show, expectNoPollution, expectProperty, prototypeSnapshot, typedOutcome, typedOutcomeAsync } from './support/typed';

/**
 * The parsers of text from outside: image references (from ARM, Lambda and events), the QScanner
 * SARIF and ScanResult.json reports, and every Container Security API answer, through the client
 * that reads them (its status, header and body handling) with a mock dispatcher in place of the network.
 */

describe('fuzz: image references', function () {
  this.timeout(120_000);
  const prototypes = prototypeSnapshot();
  afterEach(() => expectNoPollution(prototypes));
  const seeds = imageReferenceSeeds();
  const reference = fc.oneof(
    { weight: 3, arbitrary: mutatedText(seeds) },
    { weight: 1, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...seeds, ...TRAPS, '/', ':', '@', 'sha256:', 'a'.repeat(64)), { maxLength: 8 }).map((p) => p.join('')) },
  );

  it('parses any text into a reference that parses again to itself, or throws ImageReferenceError', async () => {
    await expectProperty(
      fc.property(reference, (input) => {
        const ref = typedOutcome(() => parseImageReference(input), [ImageReferenceError], input);
        if (!ref) return;
        expect(parseImageReference(ref.canonical).canonical, show(input)).to.equal(ref.canonical);
        expect(ref.repository.length).to.be.at.most(255);
      }),
      fuzz(600),
    );
  });

  it('refuses values that are not text with ImageReferenceError', async () => {
    await expectProperty(
      fc.property(hostileValue.filter((v) => typeof v !== 'string'), (input) => {
        typedOutcome(() => parseImageReference(input as string), [ImageReferenceError], input);
      }),
      fuzz(200),
    );
  });

  it('parses in time proportional to the text', async () => {
    for (const unit of ['a-', 'a.', 'a/', '[:', 'a:', '@sha256:', '-eyJ', '\u0000']) {
      await expectLinear(`repeated ${JSON.stringify(unit)}`, (n) => repeatTo(unit, n), (text) => typedOutcome(() => parseImageReference(text), [ImageReferenceError], text), { small: 4_000 });
    }
  });
});

describe('fuzz: QScanner reports', function () {
  this.timeout(120_000);
  const prototypes = prototypeSnapshot();
  afterEach(() => expectNoPollution(prototypes));
  let reports: QScannerReports;

  before(async () => {
    reports = await qscannerReportSeeds();
  });

  it('reads the fake qscanner reports it starts from', () => {
    const readable = reports.sarif.flatMap((text) => {
      try {
        return [parseQScannerSarif(text)];
      } catch (error) {
        // The `garbled` scenario writes a truncated SARIF on purpose.
        expect(error).to.be.instanceOf(QScannerReportError);
        return [];
      }
    });
    expect(readable.length).to.be.at.least(4);
    expect(readable.some((r) => r.vulnerabilities.length > 0 && r.secrets.length > 0)).to.equal(true);
  });

  it('reads any SARIF text into findings with known severities, or throws QScannerReportError', async () => {
    const parsedSeeds = () => reports.sarif.flatMap((t) => (t.trimEnd().endsWith('}') ? [JSON.parse(t) as unknown] : []));
    let withFindings = 0;
    await expectProperty(
      fc.property(fc.oneof(mutatedText(reports.sarif), mutated(parsedSeeds()).map(jsonText), hostileValue.map(jsonText), fc.constantFrom(nestedText(5_000, 'array'), nestedText(5_000, 'object'))), (text) => {
        const findings = typedOutcome(() => parseQScannerSarif(text, 'fuzzed.sarif.json'), [QScannerReportError], text);
        for (const v of findings?.vulnerabilities ?? []) {
          expect(SEVERITIES, show(v)).to.include(v.severity);
          expect(v.id).to.be.a('string');
          for (const cve of v.cves) expect(cve).to.be.a('string').that.is.not.empty;
        }
        for (const s of findings?.secrets ?? []) expect(s.id).to.be.a('string');
        if ((findings?.vulnerabilities.length ?? 0) > 0) withFindings += 1;
      }),
      fuzz(600),
    );
    expect(withFindings, 'mutated reports that still hold findings').to.be.at.least(20);
  });

  it('reads any ScanResult.json text into its metadata, or throws QScannerReportError', async () => {
    const parsedSeeds = () => reports.scanResults.map((t) => JSON.parse(t) as unknown);
    await expectProperty(
      fc.property(fc.oneof(mutatedText(reports.scanResults), mutated(parsedSeeds()).map(jsonText), hostileValue.map(jsonText)), (text) => {
        const meta = typedOutcome(() => parseQScannerScanResultMeta(text, 'fuzzed-ScanResult.json'), [QScannerReportError], text);
        for (const value of Object.values(meta ?? {})) expect(value).to.be.a('string');
      }),
      fuzz(300),
    );
  });

  it('reads reports in time proportional to their size', async () => {
    const sarif = JSON.parse(reports.sarif.find((t) => t.includes('"secret/'))!) as { runs: { results: unknown[]; tool: { driver: { rules: unknown[] } } }[] };
    const run = sarif.runs[0]!;
    const scaled = (n: number) => JSON.stringify({ ...sarif, runs: [{ ...run, results: Array.from({ length: n }, (_, i) => run.results[i % run.results.length]), tool: { driver: { ...run.tool.driver, rules: Array.from({ length: n }, (_, i) => run.tool.driver.rules[i % run.tool.driver.rules.length]) } } }] });
    await expectLinear('SARIF results and rules', scaled, (text) => parseQScannerSarif(text), { small: 200 });
  });
});

describe('fuzz: Container Security API answers through the client', function () {
  this.timeout(120_000);
  const prototypes = prototypeSnapshot();
  afterEach(() => expectNoPollution(prototypes));
  const GATEWAY = 'https://qualysapi.qg2.apps.qualys.com';
  let seeds: Record<QualysEndpoint, string[]>;
  let agent: MockAgent;
  /** What the mock gateway answers next (every request gets it). */
  let answer: { status: number; body: string; headers: Record<string, string> } = { status: 200, body: '{}', headers: {} };

  before(async () => {
    seeds = await qualysResponseSeeds();
    agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get(GATEWAY)
      .intercept({ path: () => true, method: () => true })
      .reply(() => ({ statusCode: answer.status, data: answer.body, responseOptions: { headers: { 'content-type': 'application/json', ...answer.headers } } }))
      .persist();
  });
  after(async () => {
    await agent?.close();
  });

  function client(credentials: 'token' | 'password'): QualysClient {
    let now = Date.parse('2026-01-15T09:00:00Z');
    // An instant clock: waits the client decides on (backoff, rate limits) pass without real time.
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    return new QualysClient({
      gateway: GATEWAY,
      credentials: credentials === 'token' ? { kind: 'token', token: 'fuzz-token' } : { kind: 'password', username: 'fuzz-user', password: 'fuzz-password' },
      clock,
      rateLimiter: new RateLimiter({ clock }),
      dispatcher: agent,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxRetryMs: 60_000, maxRateLimitWaitMs: 5_000 },
      random: () => 0.5,
      requestTimeoutMs: 5_000,
    });
  }

  const SHA = 'a'.repeat(64);
  const calls: Record<Exclude<QualysEndpoint, 'auth'>, (c: QualysClient) => Promise<unknown>> = {
    images: (c) => c.listImages({ filter: 'repo.name:nginx', pageSize: 50 }),
    image: (c) => c.getImage(SHA),
    vulnerabilities: (c) => c.getVulnerabilityReport(SHA, { pageSize: 1000, maxPages: 2 }),
    counts: (c) => c.getVulnerabilityCounts(SHA),
    registries: (c) => c.findRegistry('https://index.docker.io'),
    schedule: (c) => c.scheduleScan({ registryUuid: 'r-1', name: 'fuzz', repo: 'library/nginx', tag: '1.27' }),
  };
  const endpoints = Object.keys(calls) as (keyof typeof calls)[];
  const status = fc.oneof({ weight: 6, arbitrary: fc.constant(200) }, { weight: 1, arbitrary: fc.constantFrom(201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503) });
  const rateHeaders = fc.dictionary(fc.constantFrom('x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-window-sec', 'x-ratelimit-towait-sec', 'retry-after'), fc.oneof(fc.constantFrom('0', '1', '60', '-1', '1e400', 'NaN', ''), fc.nat().map(String), hostileString.map((s) => s.replace(/[^\x20-\x7e]/g, '').slice(0, 100))), { maxKeys: 3 });
  const body = (endpoint: QualysEndpoint) =>
    fc.oneof(
      { weight: 3, arbitrary: mutated(seeds[endpoint].map((t) => JSON.parse(t) as unknown)).map(jsonText) },
      { weight: 2, arbitrary: mutatedText(seeds[endpoint]) },
      { weight: 1, arbitrary: hostileValue.map(jsonText) },
      { weight: 1, arbitrary: fc.constantFrom(...seeds[endpoint], '', '<html>503</html>', nestedText(5_000, 'array'), nestedText(5_000, 'object')) },
    );

  it('turns any answer of any endpoint into its result or a QualysError', async () => {
    const call = fc.constantFrom(...endpoints).chain((endpoint) => fc.tuple(fc.constant(endpoint), body(endpoint), status, rateHeaders));
    const reached = new Set<string>();
    await expectProperty(
      fc.asyncProperty(call, async ([endpoint, text, code, headers]) => {
        answer = { status: code, body: text, headers };
        const read = calls[endpoint](client('token')).then(
          () => reached.add(`${endpoint} read`),
          (error: unknown) => {
            reached.add((error as Error).name);
            throw error;
          },
        );
        await typedOutcomeAsync(() => read, [QualysError], { endpoint, code, headers, text });
      }),
      fuzz(500),
    );
    // Every endpoint read some answers, and the answers it refused were refused for every reason there is.
    expect([...reached].sort()).to.include.members([
      ...endpoints.map((e) => `${e} read`),
      'QualysAuthError',
      'QualysMalformedResponseError',
      'QualysNotFoundError',
      'QualysRateLimitError',
      'QualysRequestError',
      'QualysServerError',
    ]);
  });

  it('turns any /auth answer into a token or a QualysError', async () => {
    const auth = fc.oneof(mutatedText(seeds.auth), hostileString, fc.constantFrom(...seeds.auth, `${'eyJ'.repeat(10)}.${'x'.repeat(70_000)}.sig`));
    await expectProperty(
      fc.asyncProperty(auth, status, async (text, code) => {
        answer = { status: code, body: text, headers: {} };
        // The same answer for /auth and for the call after it: an image body that is not one is a QualysError too.
        await typedOutcomeAsync(() => client('password').getImage(SHA), [QualysError], { code, text });
      }),
      fuzz(150),
    );
  });

  it('the schemas read any value without throwing', async () => {
    const schemas = [ImageListSchema, ImageSchema, RegistryListSchema, RegistrySchema, ScheduleResponseSchema, SeverityCountsSchema, VulnDetailSchema, VulnListSchema];
    const all = Object.values(seeds).flat().flatMap((t) => {
      try {
        return [JSON.parse(t) as unknown];
      } catch {
        return [];
      }
    });
    await expectProperty(
      fc.property(fc.oneof(mutated(all), hostileValue), (value) => {
        for (const schema of schemas) typedOutcome(() => schema.safeParse(value), [], value);
      }),
      fuzz(200),
    );
  });

  it('reads a long vulnerability list in time proportional to its length', async () => {
    const details = (JSON.parse(seeds.vulnerabilities.find((t) => t.includes('"qid"'))!) as { details: Record<string, unknown>[] }).details;
    const page = (n: number) => JSON.stringify({ details: Array.from({ length: n }, (_, i) => ({ ...details[i % details.length], qid: 100_000 + i })) });
    const c = client('token');
    await expectLinear('vulnerability details', page, async (text) => {
      answer = { status: 200, body: text, headers: {} };
      // One page holds the whole list (a server may send more than asked); the client reads that page only.
      await c.getVulnerabilityReport(SHA, { pageSize: 1000, maxPages: 1 });
    }, { small: 100 });
  });
});
