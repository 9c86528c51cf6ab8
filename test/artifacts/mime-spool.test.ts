import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { MIME, refineArchiveMime, sniffMime } from '../../shared/artifacts/mime';
import { spool, SpoolAbort } from '../../shared/artifacts/spool';
import { gzipOf, tarOf, zipOf } from './support/archives';

describe('MIME from magic bytes (shared/artifacts/mime.ts)', () => {
  it('tells the documented kinds apart by their first bytes, whatever the name', async () => {
    const pe = Buffer.alloc(256);
    pe.write('MZ', 0, 'latin1');
    pe.writeUInt32LE(0x80, 0x3c);
    pe.write('PE\0\0', 0x80, 'latin1');
    const notPe = Buffer.from(pe);
    notPe.write('XX\0\0', 0x80, 'latin1');
    const cases: [Buffer, string][] = [
      [await zipOf([{ name: 'a', data: 'b' }]), MIME.zip],
      [gzipOf(Buffer.from('x')), MIME.gzip],
      [await tarOf([{ name: 'a.txt', data: 'a' }]), MIME.tar],
      [Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), MIME.elf],
      [pe, MIME.pe],
      [Buffer.from('%PDF-1.7\n%âãÏÓ\n'), MIME.pdf],
      [Buffer.from('\uFEFF  {"a": 1}'), MIME.json],
      [Buffer.from('[1,2]'), MIME.json],
      [Buffer.from('hello, wörld\n'), MIME.text],
      [Buffer.from([0, 1, 2, 3, 255, 254]), MIME.binary],
      [Buffer.from([0xc3, 0x28, 0x41]), MIME.binary],
    ];
    for (const [bytes, mime] of cases) expect(sniffMime(bytes), mime).to.equal(mime);
    // MZ whose e_lfanew points at something else is not a PE (it is binary junk starting with MZ).
    expect(sniffMime(notPe)).to.equal(MIME.binary);
    // A multi-byte character cut by the end of the head is still text.
    const cut = Buffer.from('é'.repeat(3000)).subarray(0, 4095);
    expect(sniffMime(cut)).to.equal(MIME.text);
  });

  it('refines zips into jars and wars and tars into docker image archives by their entry names', () => {
    expect(refineArchiveMime(MIME.zip, ['META-INF/MANIFEST.MF'])).to.equal(MIME.jar);
    expect(refineArchiveMime(MIME.zip, ['WEB-INF/', 'META-INF/MANIFEST.MF'])).to.equal(MIME.war);
    expect(refineArchiveMime(MIME.zip, ['readme.txt'])).to.equal(MIME.zip);
    expect(refineArchiveMime(MIME.tar, ['manifest.json', 'abc/layer.tar'])).to.equal(MIME.dockerArchive);
    expect(refineArchiveMime(MIME.tar, ['manifest.json', `blobs/sha256/${'a'.repeat(64)}`])).to.equal(MIME.dockerArchive);
    expect(refineArchiveMime(MIME.tar, ['manifest.json'])).to.equal(MIME.tar);
  });
});

describe('spool: hash, sniff and write in one pass (shared/artifacts/spool.ts)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-spool-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  function chunked(bytes: Buffer, size: number): Readable {
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
    return Readable.from(parts);
  }

  it('writes exactly the bytes, hashes them and keeps the head, whatever the chunking', async () => {
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) % 251));
    for (const size of [1, 7, 4096, 65536, 1_000_000]) {
      const file = path.join(dir, `o-${size}`);
      let seen: Buffer | undefined;
      const out = await spool(chunked(bytes, size), { file, maxBytes: 1 << 20, onHead: (head) => void (seen = head) });
      expect(out.sha256).to.equal(createHash('sha256').update(bytes).digest('hex'));
      expect(out.size).to.equal(bytes.length);
      expect(readFileSync(file).equals(bytes)).to.equal(true);
      expect(seen?.equals(bytes.subarray(0, 4096)), `head with chunks of ${size}`).to.equal(true);
    }
  });

  it('sees the whole of a short object as its head, and an empty one too', async () => {
    let seen: Buffer | undefined;
    const out = await spool(Readable.from([Buffer.from('abc')]), { file: path.join(dir, 'short'), maxBytes: 10, onHead: (h) => void (seen = h) });
    expect(seen?.toString()).to.equal('abc');
    expect(out.size).to.equal(3);
    const empty = await spool(Readable.from([]), { file: path.join(dir, 'empty'), maxBytes: 10, onHead: (h) => void (seen = h) });
    expect(empty.sha256).to.equal(createHash('sha256').digest('hex'));
    expect(seen?.length).to.equal(0);
  });

  it('aborts past the size limit and on an excluded type, stopping the source and removing the partial file', async () => {
    const file = path.join(dir, 'big');
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 1;
        this.push(Buffer.alloc(65536, 1));
      },
    });
    const error = await spool(endless, { file, maxBytes: 1_000_000 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SpoolAbort);
    expect((error as SpoolAbort).code).to.equal('OBJECT_TOO_LARGE');
    expect(endless.destroyed).to.equal(true);
    expect(pulled).to.be.below(40);
    expect(existsSync(file)).to.equal(false);

    const pdf = Readable.from([Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(10_000)])]);
    const excluded = await spool(pdf, { file, maxBytes: 1 << 20, onHead: (head) => (sniffMime(head) === MIME.pdf ? 'application/pdf is excluded' : undefined) }).catch((e: unknown) => e);
    expect((excluded as SpoolAbort).code).to.equal('EXCLUDED_TYPE');
    expect((excluded as SpoolAbort).message).to.equal('application/pdf is excluded');
    expect(existsSync(file)).to.equal(false);
  });
});
