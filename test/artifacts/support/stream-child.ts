/**
 * Run as its own process by the 2 GiB test and the bench: GetObject through the SDK from the given endpoint,
 * streamed through the scanner's spool (SHA-256 + MIME head + write to disk in one pass), then prints one JSON
 * line: sha256, size, seconds, and the process's peak RSS. A separate process, so the peak is this path's alone.
 *   tsx stream-child.ts <endpoint> <bucket> <key> <spool file> [--hash-only]
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spool } from '../../../shared/artifacts/spool';

async function main(): Promise<void> {
  const [endpoint, bucket, key, file, mode] = process.argv.slice(2);
  if (!endpoint || !bucket || !key || !file) throw new Error('usage: stream-child <endpoint> <bucket> <key> <spool file> [--hash-only]');
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: 'LOCAL', secretAccessKey: 'LOCAL' },
  });
  const started = performance.now();
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = response.Body as Readable;
  let sha256: string;
  let size = 0;
  if (mode === '--hash-only') {
    // The baseline: the same download in flowing mode (no backpressure, no async step per chunk) into a bare
    // SHA-256, nothing written: the fastest a stream can be hashed here.
    const hash = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      body.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      body.once('end', resolve);
      body.once('error', reject);
    });
    sha256 = hash.digest('hex');
  } else {
    const out = await spool(body, { file, maxBytes: Number.MAX_SAFE_INTEGER });
    sha256 = out.sha256;
    size = out.size;
    rmSync(file, { force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ sha256, size, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
  s3.destroy();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
