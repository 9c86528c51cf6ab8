import { expect } from 'chai';
import { QualysCredentialProvider, CredentialError, KEY_VAULT_SECRET_NAMES } from '../../functions/azure/qualys-credentials';
import { CheckBatcher } from '../../functions/azure/check-batcher';
import { qualysEndpointFamily, createTelemetry, NoopTelemetry } from '../../functions/azure/telemetry';
import { classifyQualysError } from '../../functions/azure/qualys-errors';
import { policyPollDelay } from '../../functions/azure/poll-timing';
import { redactor } from '../../functions/azure/log';
import { parseChallenge } from '../../functions/azure/registry-digest';
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
