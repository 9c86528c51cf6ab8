import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunningEmulator } from './dynalite';

/**
 * s3rver (S3 emulator) on loopback with a free port, storing into a fresh temp directory that is
 * removed on stop. Clients need `forcePathStyle: true` and `requestChecksumCalculation` /
 * `responseChecksumValidation` set to `WHEN_REQUIRED` (see s3ClientOptions).
 */

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

export interface S3rverOptions {
  /** Buckets created at start. */
  buckets?: readonly string[];
}

export async function startS3rver(options: S3rverOptions = {}): Promise<RunningEmulator> {
  // s3rver ships no type declarations.
  const S3rver = require('s3rver') as S3rverClass;
  const directory = await mkdtemp(path.join(os.tmpdir(), 'shipscan-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** S3 client settings that work against s3rver (and are harmless against S3). */
export function s3ClientOptions(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
}
