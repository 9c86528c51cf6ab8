import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { BlobServiceClient } from '@azure/storage-blob';
import { PROJECT_ROOT, runPlanDetailed, type PlanResult } from '../../local/plan';
import { deletePackage, diffPackage, principalTypeOfToken, uploadPackage, type BlobAccess, type PackageUploadInputs } from '../../azure/package-upload';
import { crc32, packageTreeSha256, packageZip } from '../../azure/package-archive';
import { PACKAGE_BLOB, PACKAGE_CONTAINER, PACKAGE_UPLOAD_TYPE } from '../../azure/names';
import { startOAuthAzurite, type OAuthAzurite } from './support/azurite-oauth';
import type { ChildRequest, ChildResult } from './support/package-upload-child';

const FILES = ['dist/index.js', 'host.json', 'package.json'];

/** A directory shaped like `npm run build:functions` output (`<root>/azure/...`); returns the root. */
function bundleRoot(parent: string, name: string, code: string): string {
  const root = path.join(parent, name);
  mkdirSync(path.join(root, 'azure', 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'azure', 'host.json'), '{"version":"2.0"}');
  writeFileSync(path.join(root, 'azure', 'package.json'), '{"name":"shipscan-functions","main":"dist/index.js"}');
  writeFileSync(path.join(root, 'azure', 'dist', 'index.js'), code);
  return root;
}

function inputsFor(serviceUrl: string, directory: string): PackageUploadInputs {
  return { serviceUrl, containerName: PACKAGE_CONTAINER, blobName: PACKAGE_BLOB, directory, files: FILES, sha256: packageTreeSha256(directory, FILES) };
}

interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  data: Buffer;
}

/** Reads a zip the way unzip does: from the end-of-central-directory record, each entry through its local header. */
function readZip(zip: Buffer): ZipEntry[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(end, 'end of central directory').to.equal(zip.length - 22);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).to.equal(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    expect(zip.readUInt32LE(local)).to.equal(0x04034b50);
    const body = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(body, body + size);
    entries.push({ name, method, crc, data: method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw) });
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}

/** Only the parts of a BlobServiceClient the upload touches, answering `upload` from a script. */
function scriptedAccess(answers: (() => Promise<unknown>)[], waitMs: number): { access: BlobAccess; sleeps: number[]; calls: () => number } {
  const sleeps: number[] = [];
  let calls = 0;
  const blob = {
    upload: () => {
      calls++;
      const answer = answers.shift();
      if (!answer) throw new Error('no scripted answer left');
      return answer();
    },
  };
  const client = { getContainerClient: () => ({ getBlockBlobClient: () => blob }) };
  return {
    // A stand-in for the SDK client: the test scripts the storage answers, not the HTTP exchange.
    access: { client: () => client as unknown as BlobServiceClient, permissionWaitMs: waitMs, sleep: async (ms) => void sleeps.push(ms) },
    sleeps,
    calls: () => calls,
  };
}

const denied = (code: string) => () => Promise.reject(Object.assign(new Error(code), { statusCode: 403, code }));

describe('Function App package upload with Entra ID', function () {
  this.timeout(180_000);
  let work: string;
  let v1: string;
  let v2: string;

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'shipscan-package-'));
    // A large repetitive file deflates; the tiny ones are stored.
    v1 = path.join(bundleRoot(work, 'v1', `module.exports = {};\n${'// padding padding padding\n'.repeat(400)}`), 'azure');
    v2 = path.join(bundleRoot(work, 'v2', 'module.exports = { version: 2 };\n'), 'azure');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  describe('the package zip', () => {
    it('holds exactly the files, readable by a standard zip reader, with correct CRCs', () => {
      const entries = readZip(packageZip(v1, FILES));
      expect(entries.map((e) => e.name)).to.deep.equal(FILES);
      for (const entry of entries) {
        expect(entry.data.equals(readFileSync(path.join(v1, entry.name))), entry.name).to.equal(true);
        // zlib's CRC-32 (Node 20.15+) is an independent implementation of the same checksum.
        expect(entry.crc, entry.name).to.equal(zlib.crc32(entry.data));
      }
      expect(entries.map((e) => e.method)).to.deep.equal([8, 0, 0]);
    });

    it('computes the standard CRC-32 (the check value of "123456789")', () => {
      expect(crc32(Buffer.from('123456789'))).to.equal(0xcbf43926);
      expect(crc32(Buffer.alloc(0))).to.equal(0);
    });

    it('is the same bytes for the same files, and its fingerprint is the bundle fingerprint', () => {
      expect(packageZip(v1, FILES).equals(packageZip(v1, FILES))).to.equal(true);
      expect(packageZip(v1, FILES).equals(packageZip(v2, FILES))).to.equal(false);
      // What azure/bundle.ts puts in the app settings is what the provider checks before uploading.
      const hash = createHash('sha256');
      for (const file of FILES) hash.update(file).update('\0').update(readFileSync(path.join(v1, file))).update('\0');
      expect(packageTreeSha256(v1, FILES)).to.equal(hash.digest('hex'));
    });

    it('refuses paths that leave the package directory', () => {
      expect(() => packageZip(v1, ['../v2/azure/host.json'])).to.throw(/leaves the package directory/);
    });
  });

  describe('the provider logic', () => {
    it('overwrites the same blob for new content (an update) and replaces only for a new place', () => {
      const olds = { ...inputsFor('https://a.blob.core.windows.net/', v1), url: 'x', zipSha256: 'y', size: 1 };
      expect(diffPackage(olds, inputsFor('https://a.blob.core.windows.net/', v1))).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
      // A create-then-delete replacement would delete the blob it had just written: new content is an update.
      expect(diffPackage(olds, inputsFor('https://a.blob.core.windows.net/', v2))).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
      // Another checkout of the same code (another directory) changes nothing.
      expect(diffPackage({ ...olds, directory: '/elsewhere' }, inputsFor('https://a.blob.core.windows.net/', v1)).changes).to.equal(false);
      expect(diffPackage(olds, inputsFor('https://b.blob.core.windows.net/', v1))).to.deep.equal({ changes: true, replaces: ['serviceUrl'], deleteBeforeReplace: false });
      expect(diffPackage(olds, { ...inputsFor('https://a.blob.core.windows.net/', v1), containerName: 'other' }).replaces).to.deep.equal(['containerName']);
    });

    it('refuses to upload files that changed since the program read them, before touching storage', async () => {
      const { access, calls } = scriptedAccess([], 0);
      const error = await uploadPackage({ ...inputsFor('https://a.blob.core.windows.net/', v1), sha256: '0'.repeat(64) }, access).catch((e: unknown) => e as Error);
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.match(/changed since the program read it/);
      expect(calls()).to.equal(0);
    });

    it('waits while a new role assignment propagates, with backoff, then uploads', async () => {
      const { access, sleeps, calls } = scriptedAccess([denied('AuthorizationPermissionMismatch'), denied('AuthorizationPermissionMismatch'), () => Promise.resolve({})], 600_000);
      const outs = await uploadPackage(inputsFor('https://a.blob.core.windows.net/', v1), access);
      expect(calls()).to.equal(3);
      expect(sleeps).to.deep.equal([5_000, 10_000]);
      expect(outs).to.deep.include({ url: `https://a.blob.core.windows.net/${PACKAGE_CONTAINER}/${PACKAGE_BLOB}`, size: packageZip(v1, FILES).length });
      expect(outs.zipSha256).to.equal(createHash('sha256').update(packageZip(v1, FILES)).digest('hex'));
    });

    it('gives up after the wait, naming the role the deploying identity needs', async () => {
      const answers = Array.from({ length: 20 }, () => denied('AuthorizationPermissionMismatch'));
      const { access, sleeps } = scriptedAccess(answers, 60_000);
      const error = await uploadPackage(inputsFor('https://a.blob.core.windows.net/', v1), access).catch((e: unknown) => e as Error);
      expect((error as Error).message).to.match(/Storage Blob Data Contributor on the package container/);
      expect(sleeps.reduce((a, b) => a + b, 0)).to.be.at.most(60_000);
    });

    it('does not retry other failures (an authentication failure is no propagation delay)', async () => {
      const { access, calls } = scriptedAccess([denied('AuthenticationFailed'), () => Promise.resolve({})], 600_000);
      const error = await uploadPackage(inputsFor('https://a.blob.core.windows.net/', v1), access).catch((e: unknown) => e as Error);
      expect((error as Error).message).to.equal('AuthenticationFailed');
      expect(calls()).to.equal(1);
    });

    it('tells a signed-in user from a service principal by the ARM token, for the deployer role assignment', () => {
      const token = (claims: Record<string, unknown>) => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
      expect(principalTypeOfToken(token({ idtyp: 'user', scp: 'user_impersonation' }))).to.equal('User');
      expect(principalTypeOfToken(token({ idtyp: 'app' }))).to.equal('ServicePrincipal');
      // Without idtyp: delegated scopes mean a user; an app-only token (service principal, managed identity) has none.
      expect(principalTypeOfToken(token({ scp: 'user_impersonation' }))).to.equal('User');
      expect(principalTypeOfToken(token({ roles: [] }))).to.equal('ServicePrincipal');
      expect(() => principalTypeOfToken('not-a-jwt')).to.throw(/not a JWT/);
    });
  });

  describe('against Azurite with Entra ID (bearer tokens over HTTPS)', () => {
    let azurite: OAuthAzurite;
    let plan: PlanResult;
    let planRoot: string;

    before(async () => {
      planRoot = path.dirname(v1);
      [azurite, plan] = await Promise.all([
        startOAuthAzurite(),
        runPlanDetailed({
          stack: 'package-upload',
          env: { SHIPSCAN_BUNDLE_DIR: planRoot },
          config: { 'shipscan:azure': { enabled: true }, 'shipscan:qualys': { pod: 'US2', accessToken: { secret: 'token-for-the-upload-test' } } },
        }),
      ]);
    });
    after(async () => azurite?.stop());

    /** Runs one scenario in a child that trusts Azurite's certificate and inherits no Azure credentials. */
    function runChild(request: ChildRequest): Promise<ChildResult> {
      const file = path.join(work, `request-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
      writeFileSync(file, JSON.stringify(request));
      const env = { PATH: process.env['PATH'] ?? '', HOME: work, NODE_EXTRA_CA_CERTS: azurite.caFile };
      return new Promise((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', path.join(__dirname, 'support', 'package-upload-child.ts'), file],
          { cwd: PROJECT_ROOT, env, timeout: 120_000 },
          (error, stdout, stderr) => {
            const line = stdout.trim().split('\n').pop();
            if (error || !line) return reject(new Error(`the upload child failed: ${error?.message ?? 'no output'}\n${stderr.slice(-2000)}`));
            resolve(JSON.parse(line) as ChildResult);
          },
        );
      });
    }

    function expectPackage(state: { exists: boolean; base64?: string; contentType?: string; contentMd5?: string; metadata?: Record<string, string> }, directory: string): void {
      const zip = packageZip(directory, FILES);
      expect(state.exists).to.equal(true);
      expect(Buffer.from(state.base64 ?? '', 'base64').equals(zip), 'the blob holds the zip of the files').to.equal(true);
      expect(state.contentType).to.equal('application/zip');
      expect(state.contentMd5).to.equal(createHash('md5').update(zip).digest('base64'));
      expect(state.metadata).to.deep.equal({ sha256: packageTreeSha256(directory, FILES), zipsha256: createHash('sha256').update(zip).digest('hex') });
    }

    it('uploads, overwrites in place and deletes the package with a bearer token (token-credential stand-in)', async () => {
      const result = await runChild({ kind: 'stand-in', serviceUrl: azurite.blobEndpoint, inputs: inputsFor(azurite.blobEndpoint, v1), update: inputsFor(azurite.blobEndpoint, v2), token: 'valid' });
      if (!result.ok) throw new Error(`upload failed: ${JSON.stringify(result)}`);
      expectPackage(result.afterCreate, v1);
      expect(result.created.url).to.equal(`${azurite.blobEndpoint}${PACKAGE_CONTAINER}/${PACKAGE_BLOB}`);
      expectPackage(result.afterUpdate, v2);
      expect(result.updated.url).to.equal(result.created.url);
      expect(result.afterDelete).to.deep.equal({ exists: false });
    });

    it('is refused with an expired token: the upload has no key or SAS to fall back on', async () => {
      const result = await runChild({ kind: 'stand-in', serviceUrl: azurite.blobEndpoint, inputs: inputsFor(azurite.blobEndpoint, v1), update: inputsFor(azurite.blobEndpoint, v2), token: 'expired' });
      expect(result).to.deep.include({ ok: false, statusCode: 403, code: 'AuthenticationFailed' });
    });

    it('the deployed provider (the serialised text in the plan) uploads with DefaultAzureCredential', async () => {
      const uploads = plan.resources.filter((r) => r.type === PACKAGE_UPLOAD_TYPE);
      expect(uploads).to.have.length(1);
      const planned = uploads[0]!.inputs as Record<string, unknown>;
      const providerFile = path.join(work, 'provider.js');
      writeFileSync(providerFile, String(planned['__provider']));
      // The planned inputs, pointed at Azurite instead of the planned account.
      const inputs = { ...inputsFor(azurite.blobEndpoint, v1), directory: String(planned['directory']), files: planned['files'] as string[], sha256: String(planned['sha256']) };
      expect(inputs.directory).to.equal(v1);
      const result = await runChild({ kind: 'deployed', serviceUrl: azurite.blobEndpoint, providerFile, inputs, update: inputsFor(azurite.blobEndpoint, v2) });
      if (!result.ok) throw new Error(`deployed provider failed: ${JSON.stringify(result)}`);
      expectPackage(result.afterCreate, v1);
      expectPackage(result.afterUpdate, v2);
      expect(result.afterDelete).to.deep.equal({ exists: false });
      // DefaultAzureCredential found the (App Service) managed identity and asked it for storage tokens.
      expect(result.tokenRequests.length).to.be.greaterThan(0);
      expect(new Set(result.tokenRequests)).to.deep.equal(new Set(['https://storage.azure.com']));
    });
  });
});
