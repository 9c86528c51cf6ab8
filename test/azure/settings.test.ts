import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadSettings, SettingsError, secretValues } from '../../functions/azure/settings';
import { MAX_DEQUEUE_COUNT, QUEUE_BATCH_SIZE, RETRY_VISIBILITY_SEC } from '../../functions/azure/host-settings';
import { createLogger, Redactor, redactor } from '../../functions/azure/log';
import * as infraNames from '../../azure/names';
import { artifactSettings } from '../../azure/app-settings';
import { expectLinear } from '../support/growth';

const BASE = {
  AzureWebJobsStorage__accountName: 'shipscanstore1',
  QUALYS_POD: 'US2',
  QUALYS_ACCESS_TOKEN: 'qualys-token-value-123',
};

describe('azure app settings', () => {
  it('applies the defaults the infrastructure also uses', () => {
    const s = loadSettings(BASE);
    expect(s.qualys.gateway).to.equal('https://gateway.qg2.apps.qualys.com');
    expect(s).to.include({ resultsContainer: 'scan-results', scanTable: 'ScanMetadata', lockTable: 'ScanLocks', dedupeTable: 'EventDedupe', deploymentsQueue: 'deployments', pollsQueue: 'scan-polls', cacheHours: 24, pollMinSec: 10, maxScanMinutes: 30, severityThreshold: 'HIGH' });
    expect(s.qualys.credentials).to.deep.equal({ kind: 'token', accessToken: 'qualys-token-value-123' });
  });

  it('agrees with the names the Azure infrastructure creates', () => {
    const s = loadSettings(BASE);
    expect([s.resultsContainer, s.deadLetterContainer]).to.deep.equal([infraNames.RESULTS_CONTAINER, infraNames.DEADLETTER_CONTAINER]);
    expect([s.scanTable, s.lockTable, s.dedupeTable]).to.deep.equal([infraNames.SCAN_TABLE, infraNames.LOCK_TABLE, infraNames.DEDUPE_TABLE]);
    expect([s.deploymentsQueue, s.pollsQueue]).to.deep.equal([infraNames.DEPLOYMENTS_QUEUE, infraNames.POLLS_QUEUE]);
  });

  it('reads numbers, a gateway, username + password and Key Vault', () => {
    const s = loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', QUALYS_GATEWAY: 'https://qualys.example.com/', QUALYS_USERNAME: 'u', QUALYS_PASSWORD: 'p', CACHE_HOURS: '2', POLL_MIN_SEC: '5', MAX_SCAN_MINUTES: '45', SEVERITY_THRESHOLD: 'CRITICAL' });
    expect(s.qualys.gateway).to.equal('https://qualys.example.com');
    expect(s.qualys.credentials).to.deep.equal({ kind: 'password', username: 'u', password: 'p' });
    expect(s).to.include({ cacheHours: 2, pollMinSec: 5, maxScanMinutes: 45, severityThreshold: 'CRITICAL' });
    const kv = loadSettings({ ...BASE, QUALYS_ACCESS_TOKEN: undefined, KEY_VAULT_URL: 'https://kv-shipscan.vault.azure.net/' });
    expect(kv.qualys.credentials).to.deep.equal({ kind: 'key-vault', vaultUrl: 'https://kv-shipscan.vault.azure.net/' });
  });

  it('names every bad setting and what it expects, without echoing secrets', () => {
    let error: SettingsError | undefined;
    try {
      loadSettings({ QUALYS_POD: 'MARS1', QUALYS_PASSWORD: 'hunter2-secret', CACHE_HOURS: 'lots', ALERT_WEBHOOK_URL: 'not a url but secret' });
    } catch (e) {
      error = e as SettingsError;
    }
    expect(error).to.be.instanceOf(SettingsError);
    const text = error!.message;
    expect(text).to.match(/QUALYS_POD: .*US1/);
    expect(text).to.match(/CACHE_HOURS: .*"lots"/);
    expect(text).to.match(/AzureWebJobsStorage__accountName/);
    expect(text).to.match(/ALERT_WEBHOOK_URL/);
    expect(text).to.not.contain('hunter2-secret');
    expect(text).to.not.contain('not a url but secret');
  });

  it('spots a Key Vault reference the platform could not resolve', () => {
    expect(() => loadSettings({ ...BASE, QUALYS_ACCESS_TOKEN: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/qualys-access-token/)' })).to.throw(
      SettingsError,
      /QUALYS_ACCESS_TOKEN: is an unresolved Key Vault reference/,
    );
  });

  it('lists the secret values for the log redactor', () => {
    const s = loadSettings({ ...BASE, ALERT_WEBHOOK_URL: 'https://hooks.example.com/services/T000/B000/XXXX' });
    expect(secretValues(s)).to.include.members(['qualys-token-value-123', 'https://hooks.example.com/services/T000/B000/XXXX']);
  });
});

describe('azure host.json', () => {
  const host = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'functions', 'azure', 'host.json'), 'utf8'));

  it('sets the queue retry policy the handlers count on', () => {
    expect(host.version).to.equal('2.0');
    expect(host.extensionBundle.id).to.equal('Microsoft.Azure.Functions.ExtensionBundle');
    expect(host.extensions.queues.maxDequeueCount).to.equal(MAX_DEQUEUE_COUNT);
    expect(host.extensions.queues.batchSize).to.equal(QUEUE_BATCH_SIZE);
    const [h, m, sec] = String(host.extensions.queues.visibilityTimeout).split(':').map(Number) as [number, number, number];
    expect(h * 3600 + m * 60 + sec).to.equal(RETRY_VISIBILITY_SEC);
    expect(host.extensions.queues.messageEncoding).to.equal('base64');
  });
});

describe('azure log redaction', () => {
  it('removes registered secrets and credential shapes from every line', () => {
    const r = new Redactor();
    r.add('s3cr3t-token-value');
    const line = r.redact(
      'token s3cr3t-token-value; Authorization: Bearer abc.def-ghi_jkl; password=pw123&user=x; {"accessToken":"zzz"}; eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig; AccountKey=Eby8vdM0==;',
    );
    expect(line).to.not.match(/s3cr3t-token-value|abc\.def|pw123|"zzz"|eyJhbGciOiJIUzI1NiJ9\.|Eby8vdM0/);
  });

  it('applies to structured log fields and error messages', () => {
    const lines: string[] = [];
    const sink = { debug: (l: unknown) => lines.push(String(l)), info: (l: unknown) => lines.push(String(l)), warn: (l: unknown) => lines.push(String(l)), error: (l: unknown) => lines.push(String(l)) };
    redactor.add('registered-secret-xyz');
    const log = createLogger(sink, { fn: 'test' });
    log.error('failed', { error: new Error('call with registered-secret-xyz failed'), detail: 'password=abc' });
    expect(lines).to.have.length(1);
    const parsed = JSON.parse(lines[0]!);
    expect(parsed).to.include({ msg: 'failed', level: 'error', fn: 'test', errorName: 'Error' });
    expect(lines[0]).to.not.contain('registered-secret-xyz');
    expect(lines[0]).to.not.contain('password=abc');
  });

  it('redacts a password holding a quote and a backslash in the JSON-escaped form a log line carries', () => {
    const password = 'Qx"9\\tail-7f3e';
    redactor.add(password);
    const lines: string[] = [];
    const sink = { debug: (l: unknown) => lines.push(String(l)), info: (l: unknown) => lines.push(String(l)), warn: (l: unknown) => lines.push(String(l)), error: (l: unknown) => lines.push(String(l)) };
    const log = createLogger(sink);
    // Field names the credential patterns do not know: only the registered value can catch these.
    log.error('login failed', { detail: `Qualys said no to ${password}`, form: `user=u&pass=${encodeURIComponent(password)}`, error: new Error(`bad ${password}`) });
    const line = lines[0]!;
    expect(JSON.parse(line).detail).to.equal('Qualys said no to [redacted]');
    expect(line).to.not.contain(JSON.stringify(password).slice(1, -1));
    expect(line).to.not.contain(encodeURIComponent(password));
    expect(line).to.not.contain('tail-7f3e');
  });

  it('redacts JWTs where the JWT pattern finds them, and nowhere else', () => {
    // The pattern as written first: the specification the redactor must keep to, on short texts.
    const jwt = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
    const r = new Redactor();
    const piece = fc.constantFrom('eyJ', 'eyJhbGciOi', '-', '.', '_', 'a', 'Z9', 'abcde', ' ', '/', 'é', '"');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }).map((p) => p.join('')), (text) => {
        expect(r.redact(text)).to.equal(text.replace(jwt, '[redacted-jwt]'));
      }),
      { numRuns: 2000, seed: 18 },
    );
    expect(r.redact('id_token=x; eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl, then text')).to.equal('id_token=x; [redacted-jwt], then text');
    // The shortest text the pattern takes for a JWT, and one character less.
    expect(r.redact('(eyJaaaaa.bbbbb.)')).to.equal('([redacted-jwt])');
    expect(r.redact('(eyJaaaa.bbbbb.)')).to.equal('(eyJaaaa.bbbbb.)');
  });

  it('redacts in time proportional to the text, whatever the text repeats', async function () {
    this.timeout(120_000);
    const r = new Redactor();
    r.add('registered-secret-0a1b');
    const shapes: Record<string, string> = {
      'JWT starts without dots': '-eyJ',
      'JWT starts before one dot': '-eyJaaaaaa.',
      'Bearer words': 'Bearer ',
      'Bearer and spaces': `Bearer${' '.repeat(30)}`,
      'credential keys': 'token=',
      'credential JSON fields': '"token":"',
      'JSON field names and spaces': `"token"${' '.repeat(30)}`,
      'a registered secret, cut': 'registered-secret-0a1',
    };
    for (const [what, unit] of Object.entries(shapes)) {
      await expectLinear(what, (n) => unit.repeat(Math.ceil(n / unit.length)), (text) => r.redact(text), { small: 4096 });
    }
  });

  it('redacts every string of a record without breaking its structure', () => {
    const r = new Redactor();
    r.add('1234567');
    const out = r.redactDeep({ reason: 'token 1234567 rejected', count: 1234567, nested: [{ body: 'x1234567y' }], at: '2026-01-15' });
    expect(out).to.deep.equal({ reason: 'token [redacted] rejected', count: 1234567, nested: [{ body: 'x[redacted]y' }], at: '2026-01-15' });
  });
});

describe('azure app settings: blob uploads (azure.artifacts.storageAccounts)', () => {
  const artifacts = {
    enabled: true,
    registries: [],
    storageAccounts: ['/subscriptions/6b1f5a2e-1c7d-4a51-9f3e-2d8c0a7b9e41/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/ShopUploads'],
    containers: { include: ['releases', 'wheels'], exclude: [] },
    prefixes: ['builds/', 'a,b/'],
    maxObjectMb: 64,
    existingSystemTopics: {},
    qscanner: true,
  };

  it('reads exactly what the infrastructure writes: queue, accounts, containers, prefixes, size cap, the QScanner path', () => {
    const env = Object.fromEntries(artifactSettings(artifacts).map((s) => [s.name, String(s.value)]));
    const s = loadSettings({ ...BASE, ...env });
    expect(s.blobUploads).to.deep.equal({
      queue: infraNames.BLOB_UPLOADS_QUEUE,
      accounts: ['shopuploads'],
      include: ['releases', 'wheels'],
      exclude: [],
      prefixes: ['builds/', 'a,b/'],
      maxObjectBytes: 64 * 1024 * 1024,
      qscannerPath: infraNames.QSCANNER_PACKAGE_PATH,
    });
    expect(loadSettings(BASE).blobUploads).to.equal(undefined);
  });

  it('names what is wrong: no accounts, bad names, prefixes that are not a JSON array, QScanner without a token', () => {
    const problems = (env: Record<string, string | undefined>) => {
      try {
        loadSettings({ ...BASE, BLOB_UPLOADS_QUEUE: 'blob-uploads', ...env });
      } catch (error) {
        if (error instanceof SettingsError) return error.problems.map((p) => p.setting);
        throw error;
      }
      return [];
    };
    expect(problems({})).to.deep.equal(['ARTIFACT_STORAGE_ACCOUNTS']);
    expect(problems({ ARTIFACT_STORAGE_ACCOUNTS: 'ok1,not_an-account' })).to.deep.equal(['ARTIFACT_STORAGE_ACCOUNTS']);
    expect(problems({ ARTIFACT_STORAGE_ACCOUNTS: 'shop1', ARTIFACT_PREFIXES: 'builds/' })).to.deep.equal(['ARTIFACT_PREFIXES']);
    expect(problems({ ARTIFACT_STORAGE_ACCOUNTS: 'shop1', ARTIFACT_CONTAINERS_INCLUDE: 'Bad_Name' })).to.deep.equal(['ARTIFACT_CONTAINERS_INCLUDE']);
    expect(problems({ ARTIFACT_STORAGE_ACCOUNTS: 'shop1', QSCANNER_PATH: 'qscanner/qscanner', QUALYS_ACCESS_TOKEN: undefined, QUALYS_USERNAME: 'u', QUALYS_PASSWORD: 'p' })).to.deep.equal(['QSCANNER_PATH']);
    expect(problems({ ARTIFACT_STORAGE_ACCOUNTS: 'shop1' })).to.deep.equal([]);
  });
});
