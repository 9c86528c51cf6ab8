import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import * as yauzl from 'yauzl';
import { MIME, isGzip, isTarHeader, isZip, refineArchiveMime, sniffMime, type Mime } from './mime';

/**
 * Safe extraction of an untrusted archive into a fresh directory, for a scanner that reads a file tree.
 *
 * - Paths: an entry whose name is absolute, has a drive letter, a NUL, or a `..` segment (with `/` or `\` as
 *   separator: zip-slip) is refused; every target is checked to stay inside the destination once joined.
 * - Links: symlinks and hard links are never created nor followed; such entries are refused, and so are device
 *   files and FIFOs. Files are written 0600 (never executable), directories 0700, never over an existing file.
 * - Bombs: bounded by the total bytes written (counted as they are written, not taken from headers), the number
 *   of entries, the compression ratio (per zip entry and overall, above a small floor) and the nesting depth of
 *   archives inside archives (jars in a war, layers in an image archive, a tar in a gzip).
 * A limit stops the extraction where it is: what was written stays for the scan, and the report says which limit
 * and why (the scan is then PARTIAL, never silently complete). Refused entries are listed (the first 50).
 */

export interface ExtractLimits {
  /** Bytes written in all, every depth together. */
  maxTotalBytes: number;
  /** Entries seen in all, every depth together. */
  maxEntries: number;
  /** Uncompressed / compressed, per zip entry and overall; checked above RATIO_FLOOR_BYTES. */
  maxRatio: number;
  /** Archives inside the object's own archive are opened down to this depth (0: the object only). */
  maxDepth: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = { maxTotalBytes: 1024 * 1024 * 1024, maxEntries: 20_000, maxRatio: 100, maxDepth: 3 };

/** Small files compress extremely well (a page of zeros, a sparse config); ratios below this size say nothing. */
export const RATIO_FLOOR_BYTES = 1024 * 1024;
const MAX_REFUSED_LISTED = 50;
const MAX_TOP_LEVEL_NAMES = 200;

export type LimitCode = 'ARCHIVE_TOO_LARGE' | 'ARCHIVE_TOO_MANY_ENTRIES' | 'ARCHIVE_RATIO' | 'ARCHIVE_UNREADABLE';

export interface ExtractionReport {
  /** The object's type, refined by what the archive holds (jar, war, docker image archive). */
  mime: Mime;
  files: number;
  bytes: number;
  entries: number;
  /** Archives opened inside the object. */
  nestedArchives: number;
  /** Deepest nesting reached (0: the object itself). */
  depth: number;
  refused: { path: string; reason: string }[];
  refusedCount: number;
  /** Set when a limit stopped the extraction. */
  limit?: { code: LimitCode; reason: string };
}

class LimitReached extends Error {
  override readonly name = 'LimitReached';
  constructor(
    readonly code: LimitCode,
    reason: string,
  ) {
    super(reason);
  }
}

/** Why an entry name is refused, or its safe relative path (`/`-separated, no `.` or empty segments). */
export function safeEntryPath(name: string): { path: string } | { refused: string } {
  if (name.includes('\0')) return { refused: 'NUL in the entry name' };
  const unified = name.replace(/\\/g, '/');
  if (unified.startsWith('/')) return { refused: 'absolute path' };
  if (/^[A-Za-z]:/.test(unified)) return { refused: 'drive-letter path' };
  const segments = unified.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) return { refused: 'path traversal (..)' };
  if (segments.length === 0) return { refused: 'empty entry name' };
  if (segments.some((segment) => Buffer.byteLength(segment) > 255) || unified.length > 4096) return { refused: 'entry name too long' };
  return { path: segments.join('/') };
}

/** Shared by every archive of one extraction, at every depth. */
class Budget {
  bytes = 0;
  entries = 0;
  files = 0;
  nested = 0;
  depth = 0;
  readonly refused: { path: string; reason: string }[] = [];
  refusedCount = 0;
  topLevelNames: string[] = [];

  constructor(
    readonly limits: ExtractLimits,
    /** Size of the object as stored: the denominator of the overall ratio. */
    readonly storedBytes: number,
  ) {}

  entry(): void {
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) throw new LimitReached('ARCHIVE_TOO_MANY_ENTRIES', `more than ${this.limits.maxEntries} entries`);
  }

  take(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.limits.maxTotalBytes) throw new LimitReached('ARCHIVE_TOO_LARGE', `more than ${this.limits.maxTotalBytes} bytes once extracted`);
    if (this.bytes > RATIO_FLOOR_BYTES && this.bytes / Math.max(1, this.storedBytes) > this.limits.maxRatio) {
      throw new LimitReached('ARCHIVE_RATIO', `extracted ${this.bytes} bytes from ${this.storedBytes} stored (ratio above ${this.limits.maxRatio})`);
    }
  }

  refuse(name: string, reason: string): void {
    this.refusedCount += 1;
    if (this.refused.length < MAX_REFUSED_LISTED) this.refused.push({ path: name.slice(0, 300), reason });
  }
}

/** Counts bytes against the budget as they pass (headers and declared sizes are not trusted). */
class Meter extends Transform {
  constructor(private readonly budget: Budget) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.budget.take(chunk.length);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback(null, chunk);
  }
}

/**
 * Bounds a gzip stream as it inflates, before anything is written: ratio to the compressed size (above the
 * floor) and total size. This is what stops a gzip bomb, including zeros after a tar's end that no entry counts.
 */
class InflateGuard extends Transform {
  private inflated = 0;
  constructor(
    private readonly limits: ExtractLimits,
    private readonly compressedBytes: number,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.inflated += chunk.length;
    if (this.inflated > this.limits.maxTotalBytes) {
      callback(new LimitReached('ARCHIVE_TOO_LARGE', `gzip stream inflates past ${this.limits.maxTotalBytes} bytes`));
    } else if (this.inflated > RATIO_FLOOR_BYTES && this.inflated / Math.max(1, this.compressedBytes) > this.limits.maxRatio) {
      callback(new LimitReached('ARCHIVE_RATIO', `gzip stream inflates ${this.compressedBytes} bytes past ${this.inflated} (ratio above ${this.limits.maxRatio})`));
    } else callback(null, chunk);
  }
}

/** A file's inflated bytes as a stream whose errors (corrupt data, a guard's limit) reach the reader. */
function inflatedStream(file: string, guard: InflateGuard): Readable {
  const out = new PassThrough();
  pipeline(createReadStream(file), createGunzip(), guard, out).catch((error: Error) => out.destroy(error));
  return out;
}

/** The first inflated bytes of a gzip file, from its first 4 KiB (bounded: a bomb's head cannot fill memory). */
async function inflatedHead(file: string): Promise<Buffer> {
  try {
    return gunzipSync(await readHead(file, 4096), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 8 * 1024 * 1024 }).subarray(0, 512);
  } catch {
    return Buffer.alloc(0);
  }
}

function inside(root: string, relative: string): string {
  const target = path.resolve(root, ...relative.split('/'));
  if (target !== root && !target.startsWith(root + path.sep)) throw new Error(`entry ${relative} escapes ${root}`);
  return target;
}

async function readHead(file: string, bytes = 512): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

class Extractor {
  constructor(private readonly budget: Budget) {}

  /** Writes one entry's bytes; refuses (and drains nothing more) when the path is taken or unusable. */
  private async writeFile(root: string, relative: string, source: Readable): Promise<string | undefined> {
    const target = inside(root, relative);
    try {
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await pipeline(source, new Meter(this.budget), createWriteStream(target, { flags: 'wx', mode: 0o600 }));
    } catch (error) {
      if (error instanceof LimitReached) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
        source.resume();
        this.budget.refuse(relative, code === 'EEXIST' ? 'duplicate entry' : 'path conflicts with another entry');
        return undefined;
      }
      throw error;
    }
    this.budget.files += 1;
    return target;
  }

  /** Opens a file just written when it is itself an archive and the depth allows. */
  private async nested(file: string, depth: number): Promise<void> {
    if (depth >= this.budget.limits.maxDepth) return;
    const head = await readHead(file);
    if (!isZip(head) && !isGzip(head) && !isTarHeader(head)) return;
    this.budget.nested += 1;
    this.budget.depth = Math.max(this.budget.depth, depth + 1);
    const into = `${file}.extracted`;
    await mkdir(into, { recursive: true, mode: 0o700 });
    try {
      await this.archive(file, sniffMime(head), into, depth + 1);
    } catch (error) {
      if (error instanceof LimitReached) throw error;
      // A damaged inner archive is noted and the rest goes on (its bytes were written as a file anyway).
      this.budget.refuse(path.basename(file), `inner archive unreadable: ${(error as Error).message.slice(0, 200)}`);
    }
  }

  async archive(file: string, mime: Mime, root: string, depth: number, name = path.basename(file)): Promise<void> {
    if (mime === MIME.gzip) return this.gzip(file, root, depth, name);
    if (isZip(await readHead(file, 4))) return this.zip(file, root, depth);
    return this.tar(createReadStream(file), root, depth);
  }

  private async gzip(file: string, root: string, depth: number, name: string): Promise<void> {
    const guard = new InflateGuard(this.budget.limits, (await stat(file)).size);
    // A .tar.gz is one archive to its author: its tar is read straight from the inflating stream, no level deeper.
    if (isTarHeader(await inflatedHead(file))) return this.tar(inflatedStream(file, guard), root, depth);
    this.budget.entry();
    const inflatedName = name.replace(/\.tgz$/i, '.tar').replace(/\.(gz|gzip)$/i, '') || 'content';
    const target = await this.writeFile(root, inflatedName === name ? `${name}.inflated` : inflatedName, inflatedStream(file, guard));
    if (target) await this.nested(target, depth);
  }

  private tar(source: Readable, root: string, depth: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const extract = tarStream.extract();
      let failed = false;
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        extract.destroy(error);
        source.destroy();
        reject(error);
      };
      extract.on('entry', (header, stream, next) => {
        const handle = async () => {
          this.budget.entry();
          if (depth === 0 && this.budget.topLevelNames.length < MAX_TOP_LEVEL_NAMES) this.budget.topLevelNames.push(header.name);
          const safe = safeEntryPath(header.name);
          const drain = async (reason: string) => {
            this.budget.refuse(header.name, reason);
            stream.resume();
          };
          if ('refused' in safe) return drain(safe.refused);
          if (header.type === 'directory') {
            await mkdir(inside(root, safe.path), { recursive: true, mode: 0o700 }).catch(() => this.budget.refuse(header.name, 'path conflicts with another entry'));
            stream.resume();
            return;
          }
          if (header.type === 'symlink' || header.type === 'link') return drain(`${header.type === 'link' ? 'hard link' : 'symlink'} not extracted (-> ${String(header.linkname ?? '').slice(0, 200)})`);
          if (header.type !== 'file' && header.type !== 'contiguous-file') return drain(`${String(header.type)} entry not extracted`);
          const target = await this.writeFile(root, safe.path, stream as unknown as Readable);
          if (target) await this.nested(target, depth);
        };
        handle().then(
          () => next(),
          (error: Error) => fail(error),
        );
      });
      extract.on('finish', () => {
        if (!failed) resolve();
      });
      extract.on('error', (error: Error) => fail(error));
      source.on('error', (error: Error) => fail(error));
      source.pipe(extract as unknown as NodeJS.WritableStream);
    });
  }

  private zip(file: string, root: string, depth: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // decodeStrings off: names are decoded and judged here, so one bad name refuses its entry, not the archive.
      yauzl.open(file, { lazyEntries: true, autoClose: true, decodeStrings: false, validateEntrySizes: true, strictFileNames: false }, (openError, zipfile) => {
        if (openError || !zipfile) {
          reject(openError ?? new Error('cannot open zip'));
          return;
        }
        let settled = false;
        const fail = (error: Error) => {
          if (settled) return;
          settled = true;
          zipfile.close();
          reject(error);
        };
        zipfile.on('error', fail);
        zipfile.on('end', () => {
          if (settled) return;
          settled = true;
          resolve();
        });
        zipfile.on('entry', (entry: yauzl.Entry) => {
          const handle = async () => {
            this.budget.entry();
            const rawName = entry.fileName as unknown as Buffer;
            const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, rawName, entry.extraFields, false);
            if (depth === 0 && this.budget.topLevelNames.length < MAX_TOP_LEVEL_NAMES) this.budget.topLevelNames.push(name);
            const safe = safeEntryPath(name);
            if ('refused' in safe) return this.budget.refuse(name, safe.refused);
            if (name.endsWith('/')) {
              await mkdir(inside(root, safe.path), { recursive: true, mode: 0o700 }).catch(() => this.budget.refuse(name, 'path conflicts with another entry'));
              return;
            }
            const unixType = (entry.externalFileAttributes >>> 16) & 0o170000;
            if (unixType === 0o120000) return this.budget.refuse(name, 'symlink not extracted');
            if (unixType !== 0 && unixType !== 0o100000) return this.budget.refuse(name, 'special file not extracted');
            if (entry.isEncrypted()) return this.budget.refuse(name, 'encrypted entry');
            if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) return this.budget.refuse(name, `compression method ${entry.compressionMethod} not supported`);
            if (entry.uncompressedSize > RATIO_FLOOR_BYTES && entry.uncompressedSize / Math.max(1, entry.compressedSize) > this.budget.limits.maxRatio) {
              throw new LimitReached('ARCHIVE_RATIO', `entry ${name.slice(0, 200)} expands ${entry.compressedSize} bytes to ${entry.uncompressedSize} (ratio above ${this.budget.limits.maxRatio})`);
            }
            if (this.budget.bytes + entry.uncompressedSize > this.budget.limits.maxTotalBytes) {
              throw new LimitReached('ARCHIVE_TOO_LARGE', `entry ${name.slice(0, 200)} would take the extraction past ${this.budget.limits.maxTotalBytes} bytes`);
            }
            const stream = await new Promise<Readable>((ok, ko) => zipfile.openReadStream(entry, (error, s) => (error || !s ? ko(error ?? new Error('no stream')) : ok(s))));
            const target = await this.writeFile(root, safe.path, stream);
            if (target) await this.nested(target, depth);
          };
          handle().then(
            () => {
              if (!settled) zipfile.readEntry();
            },
            (error: Error) => fail(error),
          );
        });
        zipfile.readEntry();
      });
    });
  }
}

/**
 * Lays out the object at `file` (of sniffed type `mime`, `storedBytes` long) as a tree under `root` for the scanner:
 * an archive is extracted (and archives inside it, to `limits.maxDepth`); any other file is copied in as `fileName`.
 */
export async function extractArtifact(
  file: string,
  options: { mime: Mime; root: string; fileName: string; storedBytes: number; limits?: ExtractLimits },
): Promise<ExtractionReport> {
  const limits = options.limits ?? DEFAULT_EXTRACT_LIMITS;
  const budget = new Budget(limits, options.storedBytes);
  const root = path.resolve(options.root);
  await mkdir(root, { recursive: true, mode: 0o700 });
  let mime = options.mime;
  let limit: ExtractionReport['limit'];
  const isArchive = mime === MIME.zip || mime === MIME.gzip || mime === MIME.tar;
  try {
    if (isArchive) {
      const safe = safeEntryPath(options.fileName);
      await new Extractor(budget).archive(file, mime, root, 0, 'path' in safe ? path.basename(safe.path) : 'object');
    } else {
      const safe = safeEntryPath(options.fileName);
      const name = 'path' in safe ? path.basename(safe.path) : 'object';
      budget.entry();
      budget.take(options.storedBytes);
      await copyFile(file, inside(root, name));
      budget.files += 1;
    }
  } catch (error) {
    if (error instanceof LimitReached) limit = { code: error.code, reason: error.message };
    // An archive that cannot be read at all (truncated, corrupt) is still scanned as what was written of it.
    else limit = { code: 'ARCHIVE_UNREADABLE', reason: (error as Error).message.slice(0, 500) };
  }
  if (isArchive) mime = refineArchiveMime(mime, budget.topLevelNames);
  return {
    mime,
    files: budget.files,
    bytes: budget.bytes,
    entries: budget.entries,
    nestedArchives: budget.nested,
    depth: budget.depth,
    refused: budget.refused,
    refusedCount: budget.refusedCount,
    ...(limit ? { limit } : {}),
  };
}
