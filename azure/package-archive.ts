import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { deflateRawSync } from 'node:zlib';

/**
 * The Function App package as bytes: a fingerprint of the built files and a deterministic zip of
 * them. Node built-ins only, because the package upload's dynamic provider carries this code into
 * the process that runs it (Pulumi serialises the provider's closure).
 */

/**
 * SHA-256 over every file path and content (paths '/'-separated, relative to `directory`): the
 * package's identity. It depends on the files only, not on how a zip encoder compresses them, so
 * two machines building the same code agree on it.
 */
export function packageTreeSha256(directory: string, files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update('\0').update(readFileSync(path.join(directory, ...file.split('/')))).update('\0');
  return hash.digest('hex');
}

/**
 * CRC-32 (IEEE), as the zip format requires (zlib.crc32 only exists from Node 20.15). The table is
 * rebuilt per call rather than cached in module state, which the provider's serialised closure
 * would have to carry; it costs microseconds for the handful of files in a package.
 */
export function crc32(data: Uint8Array): number {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** 1980-01-01 00:00, the earliest MS-DOS timestamp: fixed, so the same files give the same zip. */
const DOS_TIME = 0;
const DOS_DATE = (1 << 5) | 1;
const UTF8_NAMES = 0x0800;
const ZIP_LIMIT = 0xffffffff;

/**
 * A zip of `files` (in the order given, paths '/'-separated relative to `directory`): deflated when
 * that is smaller, stored otherwise, with fixed timestamps and permissions, so the bytes depend on
 * the files alone. No Zip64: a Function App package is far below 4 GiB and 65,535 entries.
 */
export function packageZip(directory: string, files: readonly string[]): Buffer {
  if (files.length >= 0xffff) throw new Error(`the package holds ${files.length} files; this zip writer stops at 65,534`);
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    if (file.startsWith('/') || file.split('/').includes('..')) throw new Error(`package path ${JSON.stringify(file)} leaves the package directory`);
    const data = readFileSync(path.join(directory, ...file.split('/')));
    const deflated = deflateRawSync(data, { level: 9 });
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    if (data.length > ZIP_LIMIT || offset > ZIP_LIMIT) throw new Error(`the package is too large for a zip without Zip64 (${file})`);
    const name = Buffer.from(file, 'utf8');
    const crc = crc32(data);
    const method = stored ? 0 : 8;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, zip 2.0 (so the mode below is read)
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(UTF8_NAMES, 8);
    entry.writeUInt16LE(method, 10);
    entry.writeUInt16LE(DOS_TIME, 12);
    entry.writeUInt16LE(DOS_DATE, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(body.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a regular file, rw-r--r--
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);
    offset += local.length + name.length + body.length;
  }
  const directorySize = central.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directorySize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...central, end]);
}
