import { expect } from 'chai';
import {
  BLOB_NAME_MAX_CHARS,
  BLOB_NAME_MAX_SEGMENTS,
  StorageKeyError,
  TABLE_KEY_MAX_CHARS,
  decodeKeySegments,
  decodeTableKey,
  encodeKeySegment,
  safeBlobPath,
  safeS3Key,
  safeTableKey,
} from '../../shared/storage-keys';

describe('safe storage keys', () => {
  it('leave ordinary names readable', () => {
    expect(safeBlobPath('scan-results', 'docker.io', 'library', 'nginx', 'sha256-abc', 'scan_1.json')).to.equal(
      'scan-results/docker.io/library/nginx/sha256-abc/scan_1.json',
    );
    expect(safeS3Key('results', '123456789012', 'eu-west-1', 'my-function')).to.equal('results/123456789012/eu-west-1/my-function');
    expect(safeTableKey('docker.io/library/nginx')).to.equal('docker.io!2Flibrary!2Fnginx');
  });

  it('escape a "/" inside a segment, so segment lists never meet', () => {
    expect(safeBlobPath('a/b')).to.equal('a!2Fb');
    expect(safeBlobPath('a', 'b')).to.equal('a/b');
    expect(safeS3Key('nginx:1.25@sha256:ab')).to.equal('nginx!3A1.25!40sha256!3Aab');
  });

  it('never produce "." or ".." segments, nor a trailing dot', () => {
    expect(safeBlobPath('.', '..', 'x.')).to.equal('!2E/.!2E/x!2E');
    expect(safeS3Key('..', '..', 'etc', 'passwd')).to.equal('.!2E/.!2E/etc/passwd');
    expect(safeBlobPath('.hidden')).to.equal('.hidden');
  });

  it('keep the escape character, empty segments and non-ASCII apart', () => {
    expect(encodeKeySegment('!')).to.equal('!21');
    expect(encodeKeySegment('')).to.equal('!');
    expect(encodeKeySegment('!2F')).to.equal('!212F');
    expect(encodeKeySegment('é')).to.equal('!E9');
    expect(encodeKeySegment('中')).to.equal('!u4E2D');
    expect(encodeKeySegment('\uD800')).to.not.equal(encodeKeySegment('\uFFFD'));
    expect(safeBlobPath('a', '')).to.not.equal(safeBlobPath('a'));
  });

  it('escape every character Azure Tables forbid', () => {
    expect(safeTableKey('a/b\\c#d?e\u0000f\u007Fg\u0085h')).to.equal('a!2Fb!5Cc!23d!3Fe!00f!7Fg!85h');
  });

  it('shorten long keys with a hash, never splitting an escape', () => {
    const long = 'x'.repeat(BLOB_NAME_MAX_CHARS);
    const key = safeBlobPath('results', long);
    expect(key).to.have.length(BLOB_NAME_MAX_CHARS);
    expect(key).to.match(/^results\/x+!h[0-9a-f]{20}$/);
    expect(safeBlobPath('results', `${long}y`)).to.not.equal(key);
    const escapes = safeTableKey('/'.repeat(400));
    expect(escapes.length).to.be.at.most(TABLE_KEY_MAX_CHARS);
    expect(escapes).to.match(/^(!2F)+!h[0-9a-f]{20}$/);
  });

  it('decode what they encode, and refuse shortened or foreign keys', () => {
    expect(decodeKeySegments(safeBlobPath('a/b', '', '.', 'é!'))).to.deep.equal(['a/b', '', '.', 'é!']);
    expect(decodeTableKey(safeTableKey('docker.io/library/nginx'))).to.equal('docker.io/library/nginx');
    expect(() => decodeTableKey(safeTableKey('y'.repeat(600)))).to.throw(StorageKeyError, /shortened/);
    expect(() => decodeKeySegments('a/!2e')).to.throw(StorageKeyError, /malformed escape/);
    expect(() => decodeKeySegments('a/!41')).to.throw(StorageKeyError, /not a key produced/);
    expect(() => decodeKeySegments('a/../b')).to.throw(StorageKeyError, /not a key produced/);
    expect(() => decodeTableKey('a/b')).to.throw(StorageKeyError);
  });

  it('reject unusable input with StorageKeyError', () => {
    expect(() => safeBlobPath()).to.throw(StorageKeyError, /at least one segment/);
    expect(() => safeS3Key()).to.throw(StorageKeyError, /at least one segment/);
    expect(() => safeBlobPath(...Array.from({ length: BLOB_NAME_MAX_SEGMENTS + 1 }, () => 'a'))).to.throw(StorageKeyError, /254 segments/);
    expect(() => safeTableKey(42 as unknown as string)).to.throw(StorageKeyError, /must be a string/);
  });
});
