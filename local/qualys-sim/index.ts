/**
 * Qualys Container Security API simulator: a real HTTP server on 127.0.0.1 implementing the
 * endpoints of ../../../shared/reference/qualys.md with their documented shapes, seeded from data/
 * (registries.json, images.json, vulnerabilities.json).
 *
 * ```ts
 * const sim = await startQualysSimulator({ clock: new SimClock(), rateLimit: { global: { limit: 300, windowSec: 3600 } } });
 * const client = createQualysClient({ gateway: sim.url, credentials: { kind: 'token', token: sim.credentials.accessToken }, clock: sim.clock });
 * sim.registerImage({ registry: 'myacr.azurecr.io', repository: 'team/app', tags: ['1.0'], vulns: [{ qid: 178905, package: 'libexpat1', version: '2.5.0-1' }] });
 * sim.clock.advance(10 * 60_000);            // on-demand scans land in simulated time
 * sim.expectedCounts('myacr.azurecr.io/team/app:1.0'); // what a correct client reports
 * sim.injectFault({ path: '/images', kind: 'status', status: 503, times: 2 });
 * // Documented latitude a client must cope with: capped or ignored paging, 429s without headers,
 * // scans shown in progress (or hidden) while they run, a server clock that is off, lowered limits.
 * sim.setBehaviour({ paging: { pageCap: 100 }, rateLimitHeaders: 'not-on-429', rescanView: 'in-progress', clockSkewMs: 60_000 });
 * sim.setRateLimit({ families: { registry: { limit: 10, windowSec: 60 }, images: { limit: 12, windowSec: 60 } } });
 * sim.callLog;                                // every call: time, path, query, status, auth kind, fault
 * await sim.stop();
 * ```
 *
 * Seed images: docker.io/library/nginx:latest (ACI corpus; already scanned), docker.io/repo/
 * testcontainerapp0:v4 (ACA corpus container and init container; not scanned), azcloudconsoleregistry.
 * azurecr.io/aci-helloworld:v1, shipscandemo.azurecr.io/shop/{orders-api:1.4.2 (recent scan, reusable by
 * digest), web-frontend:2.0.0 (clean), reports:3.3.1 (large), payments-worker:3.1.0 (scans fail)}, and
 * images on registries without a connector (notonboarded.azurecr.io/legacy/app:1.0, mcr.microsoft.com).
 * Accepted credentials: user `shipscan-sim` / `sim-password`, access token `sim-access-token`.
 */
export * from './server';
export { SimClock } from './clock';
export { mulberry32 } from './random';
export { Catalogue, registryUriOf, type KbVulnerability, type ImageVuln, type RegisterImageInput, type SimImage, type SimRegistry } from './catalogue';
export { parseQql, evaluateQql, QqlError } from './qql';
