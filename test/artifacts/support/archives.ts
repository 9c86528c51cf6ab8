/**
 * Real archive bytes for the artifact tests: zips written by yazl, tars by tar-stream, and the hostile ones (a
 * zip-slip entry, symlinks, a zip bomb) patched or streamed into shape. Nothing here is checked in as a binary.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import * as yazl from 'yazl';

export interface ArchiveEntry {
  name: string;
  data?: string | Buffer;
  /** Unix mode with type bits (0o120777 for a symlink). */
  mode?: number;
  /** Streamed instead of held (for large, compressible entries): this many zero bytes. */
  zeros?: number;
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function zeros(total: number): Readable {
  let left = total;
  const block = Buffer.alloc(1024 * 1024);
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, block.length);
      left -= n;
      this.push(block.subarray(0, n));
    },
  });
}

export async function zipOf(entries: readonly ArchiveEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) {
    const options = { mtime: new Date('2026-01-01T00:00:00Z'), ...(entry.mode !== undefined ? { mode: entry.mode } : {}) };
    if (entry.name.endsWith('/')) zip.addEmptyDirectory(entry.name, options);
    else if (entry.zeros !== undefined) zip.addReadStream(zeros(entry.zeros), entry.name, options);
    else zip.addBuffer(Buffer.from(entry.data ?? ''), entry.name, options);
  }
  zip.end();
  return collect(zip.outputStream);
}

/** yazl refuses `..` names, as a careful writer should: a same-length placeholder is patched into the bytes. */
export async function zipWithRawName(placeholder: string, raw: string, others: readonly ArchiveEntry[] = []): Promise<Buffer> {
  if (Buffer.byteLength(placeholder) !== Buffer.byteLength(raw)) throw new Error('placeholder and raw name must have the same length');
  const bytes = await zipOf([...others, { name: placeholder, data: 'pwned\n' }]);
  const from = Buffer.from(placeholder);
  const to = Buffer.from(raw);
  let at = bytes.indexOf(from);
  let patched = 0;
  while (at !== -1) {
    to.copy(bytes, at);
    patched += 1;
    at = bytes.indexOf(from, at + to.length);
  }
  if (patched !== 2) throw new Error(`expected the name in the local header and the central directory, patched ${patched}`);
  return bytes;
}

export interface TarEntry {
  name: string;
  data?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
}

export async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const done = collect(pack as unknown as NodeJS.ReadableStream);
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const header = { name: entry.name, type, mtime: new Date('2026-01-01T00:00:00Z'), ...(entry.linkname ? { linkname: entry.linkname } : {}) };
    if (type === 'file') pack.entry(header, Buffer.from(entry.data ?? ''));
    else pack.entry(header);
  }
  pack.finalize();
  return done;
}

export function gzipOf(bytes: Buffer): Buffer {
  return gzipSync(bytes);
}

/** Manifests the fake qscanner reads (see local/fake-qscanner): one known-vulnerable package each. */
export const VULNERABLE_PACKAGE_LOCK = JSON.stringify({
  name: 'shop-web',
  lockfileVersion: 3,
  packages: { '': { name: 'shop-web', dependencies: { lodash: '4.17.15' } }, 'node_modules/lodash': { version: '4.17.15' } },
});
export const VULNERABLE_REQUIREMENTS = 'requests==2.19.1\nflask==2.3.2\n';
export const VULNERABLE_POM_PROPERTIES = 'groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n';

/**
 * A planted AWS key id (the documented example value, split so this file never holds it whole) and a private
 * key block; the tests check these values never appear in a result, a finding or a log.
 */
export const PLANTED_AWS_KEY = ['AKIA', 'IOSFODNN7', 'EXAMPLE'].join('');
export const PLANTED_PRIVATE_KEY = ['-----BEGIN ', 'RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA ', 'PRIVATE KEY-----\n'].join('');

/** The demo's archive: a Node app with a vulnerable lodash, a jar with log4j-core 2.14.1 inside, a planted key. */
export async function vulnerableAppZip(): Promise<Buffer> {
  const jar = await zipOf([
    { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' },
    { name: 'META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties', data: VULNERABLE_POM_PROPERTIES },
  ]);
  return zipOf([
    { name: 'app/package-lock.json', data: VULNERABLE_PACKAGE_LOCK },
    { name: 'app/config/settings.env', data: `REGION=us-east-1\nAWS_ACCESS_KEY_ID=${PLANTED_AWS_KEY}\n` },
    { name: 'lib/log4j-core-2.14.1.jar', data: jar },
  ]);
}
