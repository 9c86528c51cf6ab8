import { expect } from 'chai';
import { QualysCredentialProvider, CredentialError, KEY_VAULT_SECRET_NAMES } from '../../functions/azure/qualys-credentials';
import { CheckBatcher } from '../../functions/azure/check-batcher';
import { qualysEndpointFamily, createTelemetry, NoopTelemetry } from '../../functions/azure/telemetry';
import { classifyQualysError } from '../../functions/azure/qualys-errors';
import { policyPollDelay } from '../../functions/azure/poll-timing';
import { redactor } from '../../functions/azure/log';
import { ANY_REGISTRY, parseChallenge, RegistryDigestResolver } from '../../functions/azure/registry-digest';
import { alertPayload, sendAlert, type AlertInput } from '../../functions/azure/notify/scan-alerts';
import { isTeamsWorkflowUrl } from '../../shared/notify/teams';
import { defaultRetryPolicy, pollRetryDelaySec, waitDelaySec } from '../../functions/azure/retry-policy';
import { parseImageReference } from '../../shared/image-reference';
import { startArmStub } from '../../local/arm-stub/server';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QUALYS_DEPENDENCY_NAMES, qualysDependencyName } from '../../functions/azure/telemetry-names';
import { RegistryNotOnboardedError, QualysServerError, QualysAuthError, QualysRequestError } from '../../shared/qualys/errors';
import type { CheckOutcome, ScanTicket } from '../../shared/qualys/contracts';

const ticket = (repository: string, extra: Partial<ScanTicket> = {}): ScanTicket => ({
  v: 1,
  image: `docker.io/${repository}:1`,
  registry: 'docker.io',
  repository,
  tag: '1',
  reused: false,
  submittedAt: '2026-01-15T09:00:00.000Z',
  ...extra,
});

describe('azure runtime units', () => {
  describe('Qualys credentials', () => {
    it('reads the access token from Key Vault, caches it for the TTL and registers it with the redactor', async () => {
      const reads: string[] = [];
      const secrets = {
        async getSecret(name: string) {
          reads.push(name);
          if (name === KEY_VAULT_SECRET_NAMES.accessToken) return { value: 'kv-token-7c1d9e' };
          throw Object.assign(new Error('SecretNotFound'), { statusCode: 404 });
        },
      };
      const provider = new QualysCredentialProvider({ kind: 'key-vault', vaultUrl: 'https://kv-shipscan.vault.azure.net' }, { secrets, ttlMs: 60_000 });
      const [a, b] = await Promise.all([provider.get(), provider.get()]);
      expect(a).to.deep.equal({ kind: 'token', accessToken: 'kv-token-7c1d9e' });
      expect(b).to.equal(a);
      await provider.get();
      expect(reads).to.deep.equal(['qualys-access-token']);
      provider.invalidate();
      await provider.get();
      expect(reads).to.have.length(2);
      expect(redactor.redact('token kv-token-7c1d9e')).to.equal('token [redacted]');
    });

    it('falls back to username + password secrets, and names what is missing otherwise', async () => {
      const values: Record<string, string> = { 'qualys-username': 'scanner', 'qualys-password': 'pw-91b2' };
      const secrets = {
        async getSecret(name: string) {
          if (values[name]) return { value: values[name] };
          throw Object.assign(new Error('SecretNotFound'), { statusCode: 404 });
        },
      };
      const provider = new QualysCredentialProvider({ kind: 'key-vault', vaultUrl: 'https://kv.vault.azure.net' }, { secrets });
      expect(await provider.get()).to.deep.equal({ kind: 'password', username: 'scanner', password: 'pw-91b2' });
      const empty = new QualysCredentialProvider({ kind: 'key-vault', vaultUrl: 'https://kv.vault.azure.net' }, { secrets: { getSecret: async () => ({}) } });
      let error: unknown;
      await empty.get().catch((e) => (error = e));
      expect(error).to.be.instanceOf(CredentialError);
      expect((error as Error).message).to.contain('neither qualys-access-token nor qualys-username + qualys-password');
      const denied = new QualysCredentialProvider({ kind: 'key-vault', vaultUrl: 'https://kv.vault.azure.net' }, { secrets: { getSecret: async () => Promise.reject(Object.assign(new Error('Forbidden'), { statusCode: 403 })) } });
      await denied.get().catch((e) => (error = e));
      expect((error as Error).message).to.contain('Key Vault Secrets User');
    });
  });

  describe('check batching', () => {
    it('merges concurrent checks into one checkMany call and hands each caller its own outcome', async () => {
      const calls: number[] = [];
      const workflow = {
        async checkMany(tickets: readonly ScanTicket[]): Promise<CheckOutcome[]> {
          calls.push(tickets.length);
          return tickets.map((t) => ({ state: t.repository === 'done' ? 'COMPLETED' : 'RUNNING', detail: t.repository, ticket: t }));
        },
      };
      const batcher = new CheckBatcher(workflow, 20);
      const outcomes = await Promise.all(['a', 'done', 'b', 'c'].map((r) => batcher.check(ticket(r))));
      expect(calls).to.deep.equal([4]);
      expect(outcomes.map((o) => `${o.detail}:${o.state}`)).to.deep.equal(['a:RUNNING', 'done:COMPLETED', 'b:RUNNING', 'c:RUNNING']);
      expect(batcher.stats).to.deep.equal({ batches: 1, tickets: 4 });
    });

    it('splits at maxBatch and rejects every caller of a failed batch', async () => {
      const calls: number[] = [];
      const batcher = new CheckBatcher({ checkMany: async (t: readonly ScanTicket[]) => (calls.push(t.length), Promise.reject(new QualysServerError('503'))) }, 20, 2);
      const settled = await Promise.allSettled(['a', 'b', 'c'].map((r) => batcher.check(ticket(r))));
      expect(calls).to.deep.equal([2, 1]);
      expect(settled.every((s) => s.status === 'rejected')).to.equal(true);
    });

    it('falls back to one check per ticket when a batch fails permanently, so only the bad ticket fails', async () => {
      const calls: string[][] = [];
      const batcher = new CheckBatcher(
        {
          checkMany: async (t: readonly ScanTicket[]) => {
            calls.push(t.map((x) => x.repository));
            if (t.some((x) => x.repository === 'bad')) throw new QualysRequestError('GET /images: HTTP 400 invalid filter', 400);
            return t.map((x): CheckOutcome => ({ state: 'RUNNING', detail: 'in progress', ticket: x }));
          },
        },
        20,
        10,
      );
      const settled = await Promise.allSettled(['a', 'bad', 'c'].map((r) => batcher.check(ticket(r))));
      expect(calls[0]).to.deep.equal(['a', 'bad', 'c']);
      expect(calls.slice(1).sort()).to.deep.equal([['a'], ['bad'], ['c']]);
      expect(settled.map((s) => s.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
      expect((settled[1] as PromiseRejectedResult).reason).to.be.instanceOf(QualysRequestError);
    });

    it('does not fan a transient batch failure out into per-ticket checks', async () => {
      const calls: number[] = [];
      const batcher = new CheckBatcher({ checkMany: async (t: readonly ScanTicket[]) => (calls.push(t.length), Promise.reject(new QualysServerError('503'))) }, 20, 10);
      const settled = await Promise.allSettled(['a', 'b'].map((r) => batcher.check(ticket(r))));
      expect(calls).to.deep.equal([2]);
      expect(settled.every((s) => s.status === 'rejected')).to.equal(true);
    });
  });

  describe('telemetry names', () => {
    it('maps Qualys paths to their rate-limit families', () => {
      expect(qualysEndpointFamily('/auth')).to.equal('auth');
      expect(qualysEndpointFamily('/csapi/v1.3/images?filter=x')).to.equal('images/list');
      expect(qualysEndpointFamily('/csapi/v1.3/images/abc/vuln')).to.equal('images');
      expect(qualysEndpointFamily('/csapi/v1.3/registry/u/schedule')).to.equal('registry');
      expect(qualysEndpointFamily('/csapi/v1.3/registry')).to.equal('registry');
      expect(qualysEndpointFamily('/somewhere')).to.equal('other');
      expect(QUALYS_DEPENDENCY_NAMES).to.include(qualysDependencyName('images/list'));
    });

    it('is a no-op without a connection string', () => {
      expect(createTelemetry(undefined)).to.be.instanceOf(NoopTelemetry);
    });
  });

  describe('Qualys error classes', () => {
    it('treats not-onboarded registries as permanent and server errors as transient', () => {
      expect(classifyQualysError(new RegistryNotOnboardedError('x.azurecr.io', ['https://x.azurecr.io']))).to.include({ permanent: true, code: 'REGISTRY_NOT_ONBOARDED' });
      expect(classifyQualysError(new QualysServerError('503'))).to.include({ permanent: false, code: 'QualysServerError' });
      expect(classifyQualysError('weird')).to.include({ permanent: false });
      // A rejected token may be a rotation not yet visible through the Key Vault reference.
      expect(classifyQualysError(new QualysAuthError('GET /images: Qualys rejected the access token (HTTP 401)', 401))).to.include({ permanent: false, code: 'QualysAuthError' });
      expect(classifyQualysError(new QualysRequestError('GET /images: HTTP 400', 400))).to.include({ permanent: true });
    });
  });

  describe('poll timing', () => {
    const start = new Date('2026-01-15T09:00:00Z');
    const deadline = new Date(start.getTime() + 30 * 60_000);
    it('checks a reused scan at once and a new one near its expected completion, never past the deadline', () => {
      const delay = policyPollDelay({ pollMinSec: 10, random: () => 0.5 });
      expect(delay({ ticket: ticket('r', { reused: true }), checks: 0, startedAt: start, deadline, now: start })).to.equal(0);
      const first = delay({ ticket: ticket('n', { sizeBytes: 50 * 1_048_576 }), checks: 0, startedAt: start, deadline, now: start });
      expect(first).to.be.within(30, 60);
      const late = delay({ ticket: ticket('n'), checks: 9, startedAt: start, deadline, now: new Date(deadline.getTime() - 5000) });
      expect(late).to.be.at.most(5);
      expect(delay({ ticket: ticket('n'), checks: 10, startedAt: start, deadline, now: deadline })).to.equal(0);
    });

    it('stretches the wait when the rate-limit headroom is low', () => {
      const roomy = policyPollDelay({ pollMinSec: 10, random: () => 0.5, headroom: () => 1 });
      const tight = policyPollDelay({ pollMinSec: 10, random: () => 0.5, headroom: () => 0.05 });
      const input = { ticket: ticket('n'), checks: 3, startedAt: start, deadline, now: new Date(start.getTime() + 5 * 60_000) };
      expect(tight(input)).to.be.greaterThan(roomy(input) * 2);
    });
  });

  describe('retry schedule', () => {
    it('retries a failing poll 7 times, 30 s doubling to 15 min, about 45 minutes before FAILED', () => {
      const policy = defaultRetryPolicy(30);
      const delays = Array.from({ length: policy.pollMaxAttempts - 1 }, (_, i) => pollRetryDelaySec(policy, i + 1));
      expect(delays).to.deep.equal([30, 60, 120, 240, 480, 900, 900]);
      expect(delays.reduce((a, b) => a + b, 0)).to.equal(2730);
      expect([0, 1, 2, 3, 4, 5].map((w) => waitDelaySec(policy, w))).to.deep.equal([30, 60, 120, 240, 300, 300]);
      // A deployment may wait out the longest lock another workload can hold (maxScanMinutes + 10), and an hour more.
      expect(policy.deploymentMaxDeferSec).to.equal((30 + 10 + 60) * 60);
    });
  });

  describe('alert webhooks', () => {
    const input: AlertInput = {
      result: {
        schemaVersion: 1,
        scanId: 'scan-a1',
        status: 'COMPLETED',
        target: { cloud: 'azure', kind: 'container-image' },
        engine: { name: 'qualys-csapi' },
        startedAt: '2026-01-15T09:00:00.000Z',
        completedAt: '2026-01-15T09:01:00.000Z',
        counts: { critical: 2, high: 3, medium: 1, low: 0, informational: 0, total: 6 },
        vulnerabilities: [],
      },
      image: 'docker.io/library/nginx:1.27',
      containerType: 'ACI',
      resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/g',
      blobPath: 'docker.io/library/nginx/sha256-abc/scan-a1.json',
    };

    for (const [url, workflow] of [
      ['https://prod-12.westeurope.logic.azure.com:443/workflows/0a1b/triggers/manual/paths/invoke?api-version=2016-06-01&sig=x', true],
      ['https://default0c1d.2e.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/9f8e/triggers/manual/paths/invoke?sig=x', true],
      ['https://example.com/custom/workflows/abc', true],
      ['https://hooks.slack.com/services/T000/B000/XXXX', false],
      ['https://contoso.webhook.office.com/webhookb2/1234@5678/IncomingWebhook/abcd/ef01', false],
      ['https://outlook.office.com/webhook/1234/IncomingWebhook/abcd/ef01', false],
    ] as const) {
      it(`posts ${workflow ? 'an Adaptive Card message' : '{text}'} to ${new URL(url).host}`, () => {
        expect(isTeamsWorkflowUrl(url)).to.equal(workflow);
        const body = alertPayload(url, input);
        if (workflow) {
          expect(body).to.have.property('type', 'message');
          expect(body).to.not.have.property('text');
        } else {
          expect(Object.keys(body)).to.deep.equal(['text']);
        }
      });
    }

    it('sends the shape each kind of receiver needs (loopback receiver)', async () => {
      const received: { path: string; body: Record<string, unknown> }[] = [];
      const server = createServer((req, res) => {
        let text = '';
        req.on('data', (c) => (text += c));
        // Teams Workflows answer 202 Accepted.
        req.on('end', () => (received.push({ path: req.url ?? '', body: JSON.parse(text) as Record<string, unknown> }), res.writeHead(req.url?.includes('/workflows/') ? 202 : 200).end()));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        expect(await sendAlert(input, { url: `${base}/workflows/7c1d/triggers/manual/paths/invoke?sig=s`, threshold: 'HIGH' })).to.equal(true);
        expect(await sendAlert(input, { url: `${base}/services/T000/B000/XXXX`, threshold: 'HIGH' })).to.equal(true);
      } finally {
        await new Promise((r) => server.close(r));
      }
      expect(received).to.have.length(2);
      const card = received[0]!.body as { type: string; attachments: { contentType: string; content: { type: string; version: string; body: { type: string; text?: string; facts?: { title: string; value: string }[] }[] } }[] };
      expect(card.type).to.equal('message');
      expect(card.attachments).to.have.length(1);
      expect(card.attachments[0]!.contentType).to.equal('application/vnd.microsoft.card.adaptive');
      expect(card.attachments[0]!.content).to.include({ type: 'AdaptiveCard', version: '1.4' });
      const blocks = card.attachments[0]!.content.body;
      expect(blocks.map((b) => b.text ?? '').join(' ')).to.contain('docker.io/library/nginx:1.27').and.to.contain('2 critical, 3 high');
      expect(blocks.flatMap((b) => b.facts ?? []).map((f) => f.value)).to.include.members([input.resourceId, input.blobPath]);
      const slack = received[1]!.body as { text: string };
      expect(Object.keys(slack)).to.deep.equal(['text']);
      expect(slack.text).to.contain('2 critical, 3 high');
    });
  });

  describe('registry digests in local runs', () => {
    it('never leaves the machine: a loopback-only resolver refuses a real registry without a network call', async () => {
      const calls: string[] = [];
      const original = globalThis.fetch;
      globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
        calls.push(String(input instanceof Request ? input.url : input));
        return original(input, init);
      }) as typeof fetch;
      try {
        const resolver = new RegistryDigestResolver({ loopbackOnly: true, credential: { getToken: async () => ({ token: 'fake-local-token', expiresOnTimestamp: Date.now() + 60_000 }) } });
        for (const image of ['nginx:1.27', 'shipscandemo.azurecr.io/shop/orders-api:1.4.2', 'mcr.microsoft.com/azuredocs/aci-helloworld']) {
          const answer = await resolver.resolve(parseImageReference(image));
          expect(answer.digest, image).to.equal(undefined);
          expect(answer.note, image).to.match(/refused a call to .* loopback/);
        }
      } finally {
        globalThis.fetch = original;
      }
      expect(calls).to.deep.equal([]);
    });

    it('sends every registry to the "*" endpoint (with the token dance), so tags resolve offline', async () => {
      const arm = await startArmStub();
      try {
        const digest = `sha256:${'c'.repeat(64)}`;
        arm.setManifest('team/app', '2.1', digest);
        const resolver = new RegistryDigestResolver({ loopbackOnly: true, overrides: { [ANY_REGISTRY]: arm.endpoint }, credential: { getToken: async () => ({ token: 'fake-local-token', expiresOnTimestamp: Date.now() + 60_000 }) } });
        expect(await resolver.resolve(parseImageReference('ghcr.io/team/app:2.1'))).to.deep.include({ digest });
        expect(await resolver.resolve(parseImageReference('myacr.azurecr.io/team/app:2.1'))).to.deep.include({ digest });
        expect((await resolver.resolve(parseImageReference('ghcr.io/team/app:9.9'))).note).to.match(/HTTP 404/);
        expect(arm.requests.some((r) => r.path === '/oauth2/exchange'), 'ACR names take the ACR token exchange').to.equal(true);
        expect(arm.requests.some((r) => r.path === '/token'), 'others take the anonymous token').to.equal(true);
      } finally {
        await arm.stop();
      }
    });
  });

  describe('registry challenges', () => {
    it('parses a Bearer challenge and rejects others', () => {
      expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).to.deep.equal({
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/nginx:pull',
      });
      expect(parseChallenge('Basic realm="x"')).to.equal(undefined);
      expect(parseChallenge(null)).to.equal(undefined);
    });
  });
});
