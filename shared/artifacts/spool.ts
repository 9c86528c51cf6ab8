import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SNIFF_BYTES } from './mime';

/**
 * One pass over an object's bytes: SHA-256 and the first bytes (for the MIME sniff) are taken from the same chunks
 * that are written to ephemeral storage, so the object is never held in memory and never read twice. The pipeline
 * respects backpressure end to end (a slow disk slows the download instead of filling the heap), and a size cap or
 * an excluded type stops the download at once (the source is destroyed, its connection closed).
 */

export type SpoolAbortCode = 'OBJECT_TOO_LARGE' | 'EXCLUDED_TYPE';

export class SpoolAbort extends Error {
  override readonly name = 'SpoolAbort';
  constructor(
    readonly code: SpoolAbortCode,
    reason: string,
  ) {
    super(reason);
  }
}

export interface SpoolOptions {
  /** Created exclusively (never overwrites), mode 0600. */
  file: string;
  /** Bytes beyond this abort the spool with OBJECT_TOO_LARGE (the event's size may be missing or wrong). */
  maxBytes: number;
  /**
   * Called once with the first SNIFF_BYTES bytes (or all of a shorter object); a string return value aborts the
   * spool with EXCLUDED_TYPE and that reason.
   */
  onHead?: (head: Buffer) => string | undefined;
}

export interface Spooled {
  file: string;
  sha256: string;
  size: number;
  /** The first SNIFF_BYTES bytes. */
  head: Buffer;
}

/** Hashes, counts and keeps the head of every chunk it passes on unchanged (no copy). */
export class HashingTap extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private readonly headChunks: Buffer[] = [];
  private headLength = 0;
  private headSeen = false;
  bytes = 0;

  constructor(private readonly options: Pick<SpoolOptions, 'maxBytes' | 'onHead'>) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.options.maxBytes) {
      callback(new SpoolAbort('OBJECT_TOO_LARGE', `larger than the limit of ${this.options.maxBytes} bytes`));
      return;
    }
    this.hash.update(chunk);
    if (!this.headSeen) {
      const wanted = SNIFF_BYTES - this.headLength;
      const part = chunk.length > wanted ? chunk.subarray(0, wanted) : chunk;
      // Copied: the source may reuse its buffers, and the head outlives this chunk.
      this.headChunks.push(Buffer.from(part));
      this.headLength += part.length;
      if (this.headLength >= SNIFF_BYTES) {
        const abort = this.seeHead();
        if (abort) {
          callback(abort);
          return;
        }
      }
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.headSeen ? null : this.seeHead());
  }

  private seeHead(): SpoolAbort | null {
    this.headSeen = true;
    const reason = this.options.onHead?.(this.head());
    return reason === undefined ? null : new SpoolAbort('EXCLUDED_TYPE', reason);
  }

  head(): Buffer {
    return Buffer.concat(this.headChunks, this.headLength);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Spools `source` into `options.file`; on any failure the partial file is removed and the error rethrown. */
export async function spool(source: Readable, options: SpoolOptions): Promise<Spooled> {
  const tap = new HashingTap(options);
  try {
    await pipeline(source, tap, createWriteStream(options.file, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    await rm(options.file, { force: true });
    throw error;
  }
  return { file: options.file, sha256: tap.digest(), size: tap.bytes, head: tap.head() };
}
