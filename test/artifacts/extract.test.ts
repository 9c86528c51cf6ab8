import { expect } from 'chai';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractArtifact, safeEntryPath, type ExtractLimits } from '../../shared/artifacts/extract';
import { MIME, sniffMime } from '../../shared/artifacts/mime';
import { gzipOf, tarOf, vulnerableAppZip, zipOf, zipWithRawName } from './support/archives';

function tree(root: string, prefix = ''): string[] {
  return readdirSync(path.join(root, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? tree(root, relative) : [relative];
  });
}

describe('safe extraction (shared/artifacts/extract.ts)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-extract-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function extract(bytes: Buffer, fileName = 'object', limits?: ExtractLimits) {
    const file = path.join(dir, 'object.bin');
    await writeFile(file, bytes);
    const root = path.join(dir, 'tree');
    const report = await extractArtifact(file, { mime: sniffMime(bytes.subarray(0, 4096)), root, fileName, storedBytes: bytes.length, ...(limits ? { limits } : {}) });
    return { report, root };
  }

  it('refuses absolute, drive-letter, traversing and NUL entry names, with either separator', () => {
    for (const [name, reason] of [
      ['/etc/passwd', 'absolute path'],
      ['C:\\Windows\\evil.dll', 'drive-letter path'],
      ['../../evil.txt', 'path traversal (..)'],
      ['a/../../evil.txt', 'path traversal (..)'],
      ['..\\..\\evil.txt', 'path traversal (..)'],
      ['a\0b', 'NUL in the entry name'],
      ['./', 'empty entry name'],
    ] as const) {
      expect(safeEntryPath(name), name).to.deep.equal({ refused: reason });
    }
    expect(safeEntryPath('./a//b/./c.txt')).to.deep.equal({ path: 'a/b/c.txt' });
    expect(safeEntryPath('dir\\file.txt')).to.deep.equal({ path: 'dir/file.txt' });
  });

  it('extracts a zip with a jar inside (nested, depth 1) and calls a zip holding META-INF a jar', async () => {
    const { report, root } = await extract(await vulnerableAppZip(), 'release.zip');
    expect(report.limit).to.equal(undefined);
    expect(report.mime).to.equal(MIME.zip);
    expect(tree(root).sort()).to.deep.equal([
      'app/config/settings.env',
      'app/package-lock.json',
      'lib/log4j-core-2.14.1.jar',
      'lib/log4j-core-2.14.1.jar.extracted/META-INF/MANIFEST.MF',
      'lib/log4j-core-2.14.1.jar.extracted/META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties',
    ]);
    expect(report.nestedArchives).to.equal(1);
    expect(report.depth).to.equal(1);
    const jar = await zipOf([{ name: 'META-INF/MANIFEST.MF', data: 'x' }]);
    expect((await extract(jar, 'lib.jar')).report.mime).to.equal(MIME.jar);
  });

  it('calls a zip holding WEB-INF a war', async () => {
    const war = await zipOf([{ name: 'WEB-INF/web.xml', data: '<web-app/>' }, { name: 'META-INF/MANIFEST.MF', data: 'x' }]);
    expect((await extract(war, 'app.war')).report.mime).to.equal(MIME.war);
  });

  it('refuses a zip-slip entry and extracts the rest, nothing outside the tree', async () => {
    const bytes = await zipWithRawName('xx/xx/evil.txt', '../../evil.txt', [{ name: 'good.txt', data: 'ok' }]);
    const { report, root } = await extract(bytes);
    expect(report.refused).to.deep.equal([{ path: '../../evil.txt', reason: 'path traversal (..)' }]);
    expect(tree(root)).to.deep.equal(['good.txt']);
    expect(existsSync(path.join(dir, 'evil.txt'))).to.equal(false);
    expect(existsSync(path.resolve(root, '../../evil.txt'))).to.equal(false);
  });

  it('refuses an absolute zip entry', async () => {
    const bytes = await zipWithRawName('xtmp/pwned.txt', '/tmp/pwned.txt');
    const { report } = await extract(bytes);
    expect(report.refused).to.deep.equal([{ path: '/tmp/pwned.txt', reason: 'absolute path' }]);
    expect(report.files).to.equal(0);
  });

  it('never creates or follows a symlink (zip and tar), nor a hard link', async () => {
    const zip = await zipOf([
      { name: 'link-to-passwd', data: '/etc/passwd', mode: 0o120777 },
      { name: 'plain.txt', data: 'hello' },
    ]);
    const zipped = await extract(zip);
    expect(zipped.report.refused).to.deep.equal([{ path: 'link-to-passwd', reason: 'symlink not extracted' }]);
    expect(tree(zipped.root)).to.deep.equal(['plain.txt']);

    await rm(path.join(dir, 'tree'), { recursive: true, force: true });
    await rm(path.join(dir, 'object.bin'));
    const tar = await tarOf([
      { name: 'etc', type: 'symlink', linkname: '/etc' },
      { name: 'etc/cron.d/evil', data: '* * * * * root id' },
      { name: 'hard', type: 'link', linkname: '/etc/shadow' },
      { name: 'app/ok.txt', data: 'ok' },
    ]);
    const tarred = await extract(tar);
    expect(tarred.report.refused.map((r) => r.reason)).to.deep.equal(['symlink not extracted (-> /etc)', 'hard link not extracted (-> /etc/shadow)']);
    // The file below the refused link lands as a plain directory entry inside the tree, never through /etc.
    expect(tree(tarred.root).sort()).to.deep.equal(['app/ok.txt', 'etc/cron.d/evil']);
    expect(lstatSync(path.join(tarred.root, 'etc')).isSymbolicLink()).to.equal(false);
  });

  it('stops a zip bomb by ratio before writing it', async () => {
    const bomb = await zipOf([{ name: 'zeros.bin', zeros: 64 * 1024 * 1024 }]);
    expect(bomb.length).to.be.below(1024 * 1024);
    const { report, root } = await extract(bomb);
    expect(report.limit?.code).to.equal('ARCHIVE_RATIO');
    expect(report.bytes).to.equal(0);
    expect(tree(root)).to.deep.equal([]);
  });

  it('stops a gzip bomb (a tar followed by zeros) while it inflates', async () => {
    const tar = await tarOf([{ name: 'a.txt', data: 'a' }]);
    const bomb = gzipOf(Buffer.concat([tar, Buffer.alloc(32 * 1024 * 1024)]));
    const { report } = await extract(bomb, 'bomb.tar.gz');
    expect(report.limit?.code).to.equal('ARCHIVE_RATIO');
  });

  it('bounds the entry count and the total size', async () => {
    const many = await zipOf(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' })));
    const counted = await extract(many, 'many.zip', { maxEntries: 10, maxTotalBytes: 1 << 30, maxRatio: 100, maxDepth: 2 });
    expect(counted.report.limit?.code).to.equal('ARCHIVE_TOO_MANY_ENTRIES');
    expect(counted.report.files).to.equal(10);
    await rm(path.join(dir, 'tree'), { recursive: true, force: true });
    await rm(path.join(dir, 'object.bin'));
    const big = await zipOf([{ name: 'a.bin', data: Buffer.alloc(600_000, 7) }, { name: 'b.bin', data: Buffer.alloc(600_000, 9) }]);
    const sized = await extract(big, 'big.zip', { maxEntries: 100, maxTotalBytes: 1_000_000, maxRatio: 100_000, maxDepth: 2 });
    expect(sized.report.limit?.code).to.equal('ARCHIVE_TOO_LARGE');
    expect(sized.report.files).to.equal(1);
  });

  it('opens nested archives only to the configured depth', async () => {
    let inner = await zipOf([{ name: 'deepest.txt', data: 'bottom' }]);
    for (let level = 0; level < 4; level++) inner = await zipOf([{ name: `level${level}.zip`, data: inner }]);
    const { report, root } = await extract(inner, 'nest.zip', { maxEntries: 100, maxTotalBytes: 1 << 30, maxRatio: 100, maxDepth: 2 });
    expect(report.depth).to.equal(2);
    expect(tree(root).some((f) => f.endsWith('deepest.txt'))).to.equal(false);
    expect(tree(root).filter((f) => f.endsWith('.extracted') || f.includes('.extracted/'))).to.have.length.greaterThan(0);
  });

  it('reads a .tar.gz as one archive and a docker save archive as such', async () => {
    const layer = await tarOf([{ name: 'usr/lib/node_modules/x/package.json', data: '{"name":"x","version":"1.0.0"}' }]);
    const image = await tarOf([
      { name: 'manifest.json', data: '[{"Config":"c.json","Layers":["abc/layer.tar"]}]' },
      { name: 'abc/layer.tar', data: layer },
    ]);
    const plain = await extract(image, 'image.tar');
    expect(plain.report.mime).to.equal(MIME.dockerArchive);
    expect(tree(plain.root)).to.include('abc/layer.tar.extracted/usr/lib/node_modules/x/package.json');
    await rm(path.join(dir, 'tree'), { recursive: true, force: true });
    await rm(path.join(dir, 'object.bin'));
    const gz = await extract(gzipOf(image), 'image.tar.gz');
    expect(gz.report.mime).to.equal(MIME.gzip);
    expect(gz.report.depth).to.equal(1);
    expect(tree(gz.root)).to.include('abc/layer.tar.extracted/usr/lib/node_modules/x/package.json');
  });

  it('lays a plain file into the tree under its name, and reports a corrupt archive instead of throwing', async () => {
    const text = await extract(Buffer.from('password=hunter2\n'), 'notes/ops notes.txt');
    expect(tree(text.root)).to.deep.equal(['ops notes.txt']);
    await rm(path.join(dir, 'tree'), { recursive: true, force: true });
    await rm(path.join(dir, 'object.bin'));
    const zip = await zipOf([{ name: 'a.txt', data: 'a'.repeat(1000) }]);
    const corrupt = await extract(zip.subarray(0, zip.length - 30), 'broken.zip');
    expect(corrupt.report.limit?.code).to.equal('ARCHIVE_UNREADABLE');
  });
});
