import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { createHash } from 'node:crypto';
import { packageTreeSha256, packageZip } from './package-archive';

/**
 * Uploading the Function App package with Entra ID: what the package upload's dynamic provider
 * (azure/function-package.ts) does at deploy time, as plain functions over an injectable
 * {@link BlobAccess}. Deployments authenticate with DefaultAzureCredential (the deploying identity:
 * `az login`, AZURE_* environment variables, workload or managed identity); never with an account
 * key, SAS or connection string, so every storage account of the stack can refuse shared keys.
 */

/** Where the package goes. A change of any of these is a replacement (a new blob elsewhere). */
export interface PackageTarget {
  /** The account's blob endpoint, `https://<account>.blob.core.windows.net/`. */
  serviceUrl: string;
  containerName: string;
  blobName: string;
}

/** What goes there: the built files, and their fingerprint (azure/bundle.ts). */
export interface PackageSource {
  directory: string;
  /** '/'-separated paths relative to `directory`, in package order. */
  files: string[];
  /** packageTreeSha256 of the files: a change uploads the package again. */
  sha256: string;
}

export type PackageUploadInputs = PackageTarget & PackageSource;

export interface PackageUploadOutputs extends PackageUploadInputs {
  /** The blob's URL (also the resource id). */
  url: string;
  /** SHA-256 of the zip as uploaded, and its size in bytes. */
  zipSha256: string;
  size: number;
}

/** How the upload reaches storage. Deployments use {@link entraIdAccess}; tests inject a stand-in. */
export interface BlobAccess {
  client(serviceUrl: string): BlobServiceClient;
  /** How long a 403 is retried while a new data-role assignment propagates (Azure: up to ~10 minutes). */
  permissionWaitMs: number;
  sleep(ms: number): Promise<void>;
}

const PERMISSION_WAIT_MS = 10 * 60_000;

/** The deployed access: a bearer token from DefaultAzureCredential; never a key, SAS or connection string. */
export function entraIdAccess(): BlobAccess {
  const credential = new DefaultAzureCredential();
  return {
    client: (serviceUrl) => new BlobServiceClient(serviceUrl, credential),
    permissionWaitMs: PERMISSION_WAIT_MS,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/** A 403 that a role assignment still propagating explains (and a retry can cure). */
function isPermissionDenied(error: unknown): boolean {
  const e = error as { statusCode?: unknown; code?: unknown } | null;
  return e !== null && typeof e === 'object' && e.statusCode === 403 && (e.code === 'AuthorizationPermissionMismatch' || e.code === 'AuthorizationFailure');
}

/**
 * Runs `operation`, retrying a permission 403 with backoff (5 s doubling to 60 s) until the waits
 * add up to `permissionWaitMs`. Counting the waits rather than the wall clock keeps it testable.
 */
async function withPermissionRetry<T>(access: BlobAccess, what: string, operation: () => Promise<T>): Promise<T> {
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isPermissionDenied(error)) throw error;
      const delay = Math.min(5_000 * 2 ** attempt, 60_000);
      if (waited + delay > access.permissionWaitMs) {
        const reason = (error as { code?: unknown }).code;
        throw new Error(
          `${what}: storage refused the deploying identity (${String(reason)}) for ${Math.round(waited / 1000)} s; ` +
            'it needs Storage Blob Data Contributor on the package container (the stack grants it to the identity running pulumi up)',
          { cause: error },
        );
      }
      await access.sleep(delay);
      waited += delay;
    }
  }
}

function blobUrl(target: PackageTarget): string {
  const base = target.serviceUrl.endsWith('/') ? target.serviceUrl : `${target.serviceUrl}/`;
  return `${base}${target.containerName}/${target.blobName}`;
}

/**
 * Checks the files are still the package the program planned (same fingerprint), zips them and
 * writes the blob in one Put Blob, with the zip's MD5 as its Content-MD5 for whoever downloads it.
 */
export async function uploadPackage(inputs: PackageUploadInputs, access: BlobAccess): Promise<PackageUploadOutputs> {
  const actual = packageTreeSha256(inputs.directory, inputs.files);
  if (actual !== inputs.sha256) {
    throw new Error(`the package in ${inputs.directory} changed since the program read it (sha256 ${actual}, expected ${inputs.sha256}); run pulumi up again`);
  }
  const zip = packageZip(inputs.directory, inputs.files);
  const md5 = createHash('md5').update(zip).digest();
  const zipSha256 = createHash('sha256').update(zip).digest('hex');
  const blob = access.client(inputs.serviceUrl).getContainerClient(inputs.containerName).getBlockBlobClient(inputs.blobName);
  await withPermissionRetry(access, `uploading ${blobUrl(inputs)}`, () =>
    blob.upload(zip, zip.length, {
      blobHTTPHeaders: { blobContentType: 'application/zip', blobContentMD5: md5 },
      metadata: { sha256: inputs.sha256, zipsha256: zipSha256 },
    }),
  );
  return {
    serviceUrl: inputs.serviceUrl,
    containerName: inputs.containerName,
    blobName: inputs.blobName,
    directory: inputs.directory,
    files: [...inputs.files],
    sha256: inputs.sha256,
    url: blobUrl(inputs),
    zipSha256,
    size: zip.length,
  };
}

/** Deletes the package blob (and any snapshots); a blob already gone is fine. */
export async function deletePackage(target: PackageTarget, access: BlobAccess): Promise<void> {
  const blob = access.client(target.serviceUrl).getContainerClient(target.containerName).getBlockBlobClient(target.blobName);
  await withPermissionRetry(access, `deleting ${blobUrl(target)}`, () => blob.deleteIfExists({ deleteSnapshots: 'include' }));
}

const TARGET_KEYS = ['serviceUrl', 'containerName', 'blobName'] as const;

export interface PackageDiff {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

/** A new place is a replacement; new content at the same place is an in-place update. */
export function diffPackage(olds: Partial<PackageUploadOutputs>, news: PackageUploadInputs): PackageDiff {
  const replaces = TARGET_KEYS.filter((key) => olds[key] !== news[key]);
  return { changes: replaces.length > 0 || olds.sha256 !== news.sha256, replaces: [...replaces], deleteBeforeReplace: false };
}

/**
 * The principal type of the identity an ARM access token was issued to, for its role assignment
 * (azure-native defaults principalType to User, and ARM refuses a type that does not match):
 * 'User' for a signed-in user (az login), 'ServicePrincipal' for an app-only token (a service
 * principal or a managed identity). Reads the `idtyp` claim, else whether the token carries
 * delegated scopes (`scp`); only the type leaves this function, never the token.
 */
export function principalTypeOfToken(token: string): 'User' | 'ServicePrincipal' {
  const payload = token.split('.')[1];
  let claims: { idtyp?: unknown; scp?: unknown } | undefined;
  try {
    claims = payload ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims) : undefined;
  } catch {
    claims = undefined;
  }
  if (!claims || typeof claims !== 'object') throw new Error('the deploying identity\'s ARM token is not a JWT: cannot tell a user from a service principal');
  if (claims.idtyp === 'app') return 'ServicePrincipal';
  if (claims.idtyp === 'user') return 'User';
  return typeof claims.scp === 'string' ? 'User' : 'ServicePrincipal';
}
