/**
 * What an artifact is, from its first bytes (magic numbers), never from its name or a Content-Type header: both
 * are chosen by whoever uploaded it. The first pass (sniffMime) needs only the head of the stream, so an excluded
 * type can stop a download early; archive kinds that need a look inside (jar / war among zips, a docker image
 * archive among tars) are told apart by refineArchiveMime once the entry names are known.
 */

export const MIME = {
  zip: 'application/zip',
  jar: 'application/java-archive',
  war: 'application/x-webarchive',
  gzip: 'application/gzip',
  tar: 'application/x-tar',
  dockerArchive: 'application/x-docker-image-archive',
  elf: 'application/x-elf',
  pe: 'application/vnd.microsoft.portable-executable',
  pdf: 'application/pdf',
  json: 'application/json',
  text: 'text/plain',
  binary: 'application/octet-stream',
} as const;

export type Mime = (typeof MIME)[keyof typeof MIME];

/** Enough for every signature below (tar's `ustar` sits at 257) and for a fair look at text. */
export const SNIFF_BYTES = 4096;

const startsWith = (head: Uint8Array, bytes: readonly number[], at = 0) => head.length >= at + bytes.length && bytes.every((b, i) => head[at + i] === b);

/** `ustar` at offset 257: POSIX (`ustar\0`) and GNU (`ustar `) tar headers alike. */
export function isTarHeader(head: Uint8Array): boolean {
  return startsWith(head, [0x75, 0x73, 0x74, 0x61, 0x72], 257);
}

export function isZip(head: Uint8Array): boolean {
  // Local file header; an empty archive is only an end-of-central-directory record; spanned archives start with 07 08.
  return startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06]) || startsWith(head, [0x50, 0x4b, 0x07, 0x08]);
}

export function isGzip(head: Uint8Array): boolean {
  return startsWith(head, [0x1f, 0x8b]);
}

function isPortableExecutable(head: Uint8Array): boolean {
  if (!startsWith(head, [0x4d, 0x5a])) return false;
  if (head.length < 0x40) return true;
  // e_lfanew points at the `PE\0\0` signature; when it lies inside the head it must be there.
  const peOffset = Buffer.from(head.buffer, head.byteOffset, head.byteLength).readUInt32LE(0x3c);
  if (peOffset + 4 > head.length) return true;
  return startsWith(head, [0x50, 0x45, 0x00, 0x00], peOffset);
}

/**
 * Text: valid UTF-8 (a sequence cut at the end of the head is fine) with no NUL and almost no control characters.
 * A BOM is allowed.
 */
function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return true;
  let control = 0;
  for (const byte of head) {
    if (byte === 0) return false;
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b) control += 1;
  }
  if (control > head.length / 100) return false;
  // Drop a multi-byte sequence the head cut in two (at most 3 bytes), then ask for strict UTF-8.
  let end = head.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const byte = head[end - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    if (need > back) end -= back;
    break;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

/** The type of an artifact from its first bytes (pass at least SNIFF_BYTES, or the whole object when shorter). */
export function sniffMime(head: Uint8Array): Mime {
  if (isZip(head)) return MIME.zip;
  if (isGzip(head)) return MIME.gzip;
  if (isTarHeader(head)) return MIME.tar;
  if (startsWith(head, [0x7f, 0x45, 0x4c, 0x46])) return MIME.elf;
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return MIME.pdf;
  if (isPortableExecutable(head)) return MIME.pe;
  if (looksLikeText(head)) {
    const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return text.startsWith('{') || text.startsWith('[') ? MIME.json : MIME.text;
  }
  return MIME.binary;
}

/**
 * Narrows an archive's type from the names of its top-level entries: a zip holding WEB-INF/ is a war, one holding
 * META-INF/ a jar; a tar holding manifest.json and layer tarballs (`<id>/layer.tar`, or OCI `blobs/sha256/...`) is
 * a `docker save` image archive.
 */
export function refineArchiveMime(mime: Mime, entryNames: readonly string[]): Mime {
  const names = entryNames.map((name) => name.replace(/^\.\//, ''));
  if (mime === MIME.zip) {
    if (names.some((n) => n === 'WEB-INF/' || n.startsWith('WEB-INF/'))) return MIME.war;
    if (names.some((n) => n === 'META-INF/' || n.startsWith('META-INF/'))) return MIME.jar;
    return mime;
  }
  if (mime === MIME.tar) {
    const manifest = names.includes('manifest.json');
    const layers = names.some((n) => /(^|\/)layer\.tar$/.test(n) || /^blobs\/sha256\/[a-f0-9]{64}$/.test(n));
    return manifest && layers ? MIME.dockerArchive : mime;
  }
  return mime;
}

/** Types the extractor opens (everything else is scanned as the single file it is). */
export function isArchiveMime(mime: string): boolean {
  return mime === MIME.zip || mime === MIME.jar || mime === MIME.war || mime === MIME.gzip || mime === MIME.tar || mime === MIME.dockerArchive;
}
