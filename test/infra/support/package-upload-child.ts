/**
 * Child-process side of the package upload tests (test/infra/azure-package-upload.test.ts): runs the
 * upload against Azurite over HTTPS with OAuth, trusting Azurite's certificate through
 * NODE_EXTRA_CA_CERTS (read at start-up, hence a process of its own). Started with
 * `node --import tsx package-upload-child.ts <request.json>`; prints one JSON result line.
 *
 * - `stand-in`: azure/function-package.ts's uploadPackage / deletePackage with a token-credential
 *   stand-in that mints the tokens Azurite accepts (or an expired one it must refuse).
 * - `deployed`: the serialised provider text from a plan (what Pulumi runs at deploy time), with its
 *   own DefaultAzureCredential, which here finds an App Service managed identity endpoint served
 *   by this process on loopback.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { BlobServiceClient } from '@azure/storage-blob';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { deletePackage, uploadPackage, type BlobAccess, type PackageUploadInputs, type PackageUploadOutputs } from '../../../azure/package-upload';

export const TENANT = '11111111-1111-1111-1111-111111111111';

export type ChildRequest =
  | { kind: 'stand-in'; serviceUrl: string; inputs: PackageUploadInputs; update: PackageUploadInputs; token: 'valid' | 'expired' }
  | { kind: 'deployed'; serviceUrl: string; providerFile: string; inputs: PackageUploadInputs; update: PackageUploadInputs };

export interface BlobState {
  exists: boolean;
  /** The blob's bytes, base64 (a placeholder package is a few hundred bytes). */
  base64?: string;
  contentType?: string;
  contentMd5?: string;
  metadata?: Record<string, string>;
}

export type ChildResult =
  | { ok: true; created: PackageUploadOutputs; afterCreate: BlobState; updated: PackageUploadOutputs; afterUpdate: BlobState; afterDelete: BlobState; deletedTwice: true; tokenRequests: string[] }
  | { ok: false; statusCode?: number; code?: string; message: string };

/** A JWT Azurite's basic OAuth accepts: storage audience, an Entra ID issuer, valid now (unsigned). */
export function standInToken(expired = false): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const window = expired ? { iat: now - 7200, nbf: now - 7200, exp: now - 3600 } : { iat: now - 60, nbf: now - 60, exp: now + 3600 };
  const claims = { aud: 'https://storage.azure.com', iss: `https://sts.windows.net/${TENANT}/`, oid: '33333333-3333-3333-3333-333333333333', tid: TENANT, ...window };
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c3RhbmQtaW4`;
}

function standInCredential(expired: boolean): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({ token: standInToken(expired), expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
}

function standInAccess(expired: boolean): BlobAccess {
  const credential = standInCredential(expired);
  return { client: (url) => new BlobServiceClient(url, credential), permissionWaitMs: 0, sleep: async () => undefined };
}

async function blobState(serviceUrl: string, inputs: PackageUploadInputs): Promise<BlobState> {
  const blob = new BlobServiceClient(serviceUrl, standInCredential(false)).getContainerClient(inputs.containerName).getBlockBlobClient(inputs.blobName);
  if (!(await blob.exists())) return { exists: false };
  const props = await blob.getProperties();
  const bytes = await blob.downloadToBuffer();
  return {
    exists: true,
    base64: bytes.toString('base64'),
    ...(props.contentType ? { contentType: props.contentType } : {}),
    ...(props.contentMD5 ? { contentMd5: Buffer.from(props.contentMD5).toString('base64') } : {}),
    metadata: props.metadata ?? {},
  };
}

/** An App Service managed identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER), as the platform serves it. */
async function identityEndpoint(header: string, requests: string[]): Promise<{ url: string; close(): void }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url.searchParams.get('resource') ?? '(no resource)');
    if (req.headers['x-identity-header'] !== header) {
      res.writeHead(401).end();
      return;
    }
    const token = standInToken();
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        access_token: token,
        expires_on: String(Math.floor(Date.now() / 1000) + 3600),
        resource: url.searchParams.get('resource'),
        token_type: 'Bearer',
        client_id: '44444444-4444-4444-4444-444444444444',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`, close: () => server.close() };
}

/** What the Pulumi dynamic provider host does with `__provider`: evaluate it and call `handler()`. */
function loadProvider(file: string): { create(i: unknown): Promise<{ id: string; outs: PackageUploadOutputs }>; update(id: string, o: unknown, n: unknown): Promise<{ outs: PackageUploadOutputs }>; delete(id: string, p: unknown): Promise<void> } {
  const text = readFileSync(file, 'utf8');
  // Module internals are untyped; this is the same evaluation require-from-string performs for Pulumi.
  const ModuleCtor = Module as unknown as { new (id: string): { paths: string[]; _compile(code: string, filename: string): void; exports: { handler(): never } }; _nodeModulePaths(dir: string): string[] };
  const m = new ModuleCtor('<dynamic provider>');
  m.paths = ModuleCtor._nodeModulePaths(process.cwd());
  m._compile(text, '<dynamic provider>');
  return m.exports.handler();
}

async function run(request: ChildRequest): Promise<ChildResult> {
  const { serviceUrl } = request;
  // The container exists before the upload (the stack creates it through ARM).
  await new BlobServiceClient(serviceUrl, standInCredential(false)).getContainerClient(request.inputs.containerName).createIfNotExists();
  const tokenRequests: string[] = [];
  if (request.kind === 'stand-in') {
    const access = standInAccess(request.token === 'expired');
    const created = await uploadPackage(request.inputs, access);
    const afterCreate = await blobState(serviceUrl, request.inputs);
    const updated = await uploadPackage(request.update, access);
    const afterUpdate = await blobState(serviceUrl, request.update);
    await deletePackage(request.update, access);
    const afterDelete = await blobState(serviceUrl, request.update);
    await deletePackage(request.update, access);
    return { ok: true, created, afterCreate, updated, afterUpdate, afterDelete, deletedTwice: true, tokenRequests };
  }
  const secret = 'identity-header-for-the-test';
  const endpoint = await identityEndpoint(secret, tokenRequests);
  process.env['IDENTITY_ENDPOINT'] = endpoint.url;
  process.env['IDENTITY_HEADER'] = secret;
  try {
    const provider = loadProvider(request.providerFile);
    const { id, outs: created } = await provider.create(request.inputs);
    const afterCreate = await blobState(serviceUrl, request.inputs);
    const { outs: updated } = await provider.update(id, created, request.update);
    const afterUpdate = await blobState(serviceUrl, request.update);
    await provider.delete(id, updated);
    const afterDelete = await blobState(serviceUrl, request.update);
    await provider.delete(id, updated);
    return { ok: true, created, afterCreate, updated, afterUpdate, afterDelete, deletedTwice: true, tokenRequests };
  } finally {
    endpoint.close();
  }
}

const request = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ChildRequest;
run(request)
  .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
  .catch((error: unknown) => {
    const e = error as { statusCode?: number; code?: string; message?: string };
    const result: ChildResult = { ok: false, message: String(e?.message ?? error), ...(typeof e?.statusCode === 'number' ? { statusCode: e.statusCode } : {}), ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  })
  .finally(() => process.exit(0));
