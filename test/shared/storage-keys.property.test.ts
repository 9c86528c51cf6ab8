import { expect } from 'chai';
import fc from 'fast-check';
import * as path from 'node:path';
import {
  BLOB_NAME_MAX_CHARS,
  S3_KEY_MAX_BYTES,
  TABLE_KEY_MAX_CHARS,
  decodeKeySegments,
  decodeTableKey,
  safeBlobPath,
  safeS3Key,
  safeTableKey,
} from '../../shared/storage-keys';

/** Arbitrary unicode: whole graphemes, full code points, and raw UTF-16 (lone surrogates included). */
const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength, size: 'max' }),
    fc.string({ unit: 'binary', maxLength, size: 'max' }),
    fc.string({ unit: 'binary-ascii', maxLength, size: 'max' }),
  );
/** Text dense in the characters the scheme treats specially, where collisions would hide. */
const trickyText = (maxLength: number) =>
  fc.string({
    unit: fc.constantFrom('!', '/', '.', '2', 'F', 'E', 'u', 'h', 'a', '', '\uD800', '\uFFFD', 'é', '\\'),
    maxLength,
    size: 'max',
  });
const segmentText = fc.oneof(anyText(40), trickyText(12));
const segments = fc.array(segmentText, { minLength: 1, maxLength: 8 });
/** Long segments push keys over the limits, so shortened keys are exercised too. */
const longSegments = fc.array(fc.oneof(anyText(600), trickyText(700)), { minLength: 1, maxLength: 4 });

function expectNoTraversal(key: string): void {
  expect(key.startsWith('/'), 'absolute').to.equal(false);
  expect(key.endsWith('/'), 'trailing slash').to.equal(false);
  expect(key.endsWith('.'), 'trailing dot').to.equal(false);
  for (const segment of key.split('/')) {
    expect(segment, 'segment').to.not.be.oneOf(['', '.', '..']);
  }
  expect(path.posix.normalize(key)).to.equal(key);
  expect(path.posix.join('/base', key).startsWith('/base/')).to.equal(true);
  expect(key.includes('\\'), 'backslash').to.equal(false);
}

const SAFE_CHARACTERS = /^[A-Za-z0-9_.!\/-]*$/;

describe('safe storage keys (properties)', () => {
  it('blob names are valid for Azure Blob and cannot traverse', () => {
    fc.assert(
      fc.property(fc.oneof(segments, longSegments), (parts) => {
        const key = safeBlobPath(...parts);
        expect(key.length).to.be.within(1, BLOB_NAME_MAX_CHARS);
        expect(key).to.match(SAFE_CHARACTERS);
        expectNoTraversal(key);
        expect(safeBlobPath(...parts)).to.equal(key);
      }),
      { numRuns: 600 },
    );
  });

  it('S3 keys are at most 1024 UTF-8 bytes, safe characters only, and cannot traverse', () => {
    fc.assert(
      fc.property(fc.oneof(segments, longSegments), (parts) => {
        const key = safeS3Key(...parts);
        expect(Buffer.byteLength(key, 'utf8')).to.be.within(1, S3_KEY_MAX_BYTES);
        expect(key).to.match(SAFE_CHARACTERS);
        expectNoTraversal(key);
      }),
      { numRuns: 600 },
    );
  });

  it('Table keys have no / \\ # ? or control characters and fit in 1 KiB', () => {
    fc.assert(
      fc.property(fc.oneof(anyText(100), anyText(1200), trickyText(400)), (value) => {
        const key = safeTableKey(value);
        expect(key.length).to.be.within(1, TABLE_KEY_MAX_CHARS);
        expect(Buffer.byteLength(key, 'utf16le')).to.be.at.most(1024);
        expect(key).to.not.match(/[/\\#?\u0000-\u001F\u007F-\u009F]/);
        expect(safeTableKey(value)).to.equal(key);
      }),
      { numRuns: 600 },
    );
  });

  it('distinct segment lists never share a blob name or S3 key', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.oneof(segments, longSegments), { minLength: 2, maxLength: 40, selector: (parts) => JSON.stringify(parts) }), (inputs) => {
        const blob = new Map<string, string[]>();
        const s3 = new Map<string, string[]>();
        for (const parts of inputs) {
          const blobKey = safeBlobPath(...parts);
          const s3Key = safeS3Key(...parts);
          expect(blob.get(blobKey), `blob collision for ${JSON.stringify(parts)}`).to.equal(undefined);
          expect(s3.get(s3Key), `S3 collision for ${JSON.stringify(parts)}`).to.equal(undefined);
          blob.set(blobKey, parts);
          s3.set(s3Key, parts);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the generators reach the limits, so shortened keys are exercised', () => {
    const keys = fc.sample(longSegments, { numRuns: 200, seed: 42 }).map((parts) => safeS3Key(...parts));
    expect(keys.filter((key) => key.includes('!h')).length).to.be.above(20);
  });

  it('distinct values never share a Table key', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.oneof(trickyText(10), anyText(30), anyText(900)), { minLength: 2, maxLength: 60 }), (values) => {
        const keys = new Set(values.map(safeTableKey));
        expect(keys.size).to.equal(values.length);
      }),
      { numRuns: 300 },
    );
  });

  it('near misses stay apart: joined or split segments, escapes spelled out, long shared prefixes', () => {
    fc.assert(
      fc.property(segments, fc.nat(), (parts, pick) => {
        const i = pick % parts.length;
        const variants: string[][] = [
          parts,
          [...parts.slice(0, i), `${parts[i]}/`, ...parts.slice(i + 1)],
          [...parts.slice(0, i), `${parts[i]}!2F`, ...parts.slice(i + 1)],
          [...parts.slice(0, i), `${parts[i]}.`, ...parts.slice(i + 1)],
          [...parts, ''],
          i + 1 < parts.length ? [...parts.slice(0, i), `${parts[i]}/${parts[i + 1]}`, ...parts.slice(i + 2)] : [...parts, '!'],
          [...parts.slice(0, i), `${'p'.repeat(1100)}${parts[i]}`, ...parts.slice(i + 1)],
          [...parts.slice(0, i), `${'p'.repeat(1100)}${parts[i]}x`, ...parts.slice(i + 1)],
        ];
        const distinct = new Map(variants.map((v) => [JSON.stringify(v), v]));
        const keys = new Set([...distinct.values()].map((v) => safeS3Key(...v)));
        expect(keys.size).to.equal(distinct.size);
      }),
      { numRuns: 500 },
    );
  });

  it('keys that were not shortened decode back to their input', () => {
    fc.assert(
      fc.property(segments, (parts) => {
        const key = safeBlobPath(...parts);
        fc.pre(!key.includes('!h'));
        expect(decodeKeySegments(key)).to.deep.equal(parts);
        expect(decodeKeySegments(safeS3Key(...parts))).to.deep.equal(parts);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.oneof(anyText(100), trickyText(40)), (value) => {
        const key = safeTableKey(value);
        fc.pre(!key.includes('!h'));
        expect(decodeTableKey(key)).to.equal(value);
      }),
      { numRuns: 500 },
    );
  });

  it('ordinary names pass through unchanged', () => {
    const ordinary = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,30}[a-z0-9]$/);
    fc.assert(
      fc.property(fc.array(ordinary, { minLength: 1, maxLength: 6 }), (parts) => {
        expect(safeBlobPath(...parts)).to.equal(parts.join('/'));
        expect(safeS3Key(...parts)).to.equal(parts.join('/'));
      }),
    );
  });
});
