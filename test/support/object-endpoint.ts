/**
 * A minimal S3 endpoint on loopback for what s3rver does not do: object versions (GetObject ?versionId=), an
 * AccessDenied answer, and objects generated on the fly (a 2 GiB object streamed without ever existing on disk or
 * in memory). Path-style requests only (`/<bucket>/<key>`); GetObject, HeadObject and PutObject (kept in memory,
 * for small result documents). Errors are S3's XML bodies with S3's status codes, so the SDK raises the same
 * named exceptions (NoSuchKey, NoSuchVersion, AccessDenied) it raises against S3.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GeneratedObject {
  size: number;
  /** Fills `buffer` with the bytes at `offset` (deterministic, so a test knows the hash). */
  fill(buffer: Buffer, offset: number): void;
}

export interface ObjectEndpoint {
  endpoint: string;
  /** Every request: method, path (decoded), query. */
  requests: { method: string; path: string; query: Record<string, string> }[];
  /** Stored object versions: the last one put is the current one. */
  putVersion(bucket: string, key: string, versionId: string, body: Buffer): void;
  generate(bucket: string, key: string, object: GeneratedObject): void;
  deny(bucket: string, key: string): void;
  /** What PutObject stored (results). */
  stored: Map<string, Buffer>;
  /** Bytes sent for GetObject bodies in all. */
  bytesServed(): number;
  stop(): Promise<void>;
}

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>local</RequestId></Error>`);
}

export async function startObjectEndpoint(): Promise<ObjectEndpoint> {
  const versions = new Map<string, { versionId: string; body: Buffer }[]>();
  const generated = new Map<string, GeneratedObject>();
  const denied = new Set<string>();
  const stored = new Map<string, Buffer>();
  const requests: ObjectEndpoint['requests'] = [];
  let served = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://local');
    const pathName = decodeURIComponent(url.pathname);
    const query = Object.fromEntries(url.searchParams);
    requests.push({ method: req.method ?? 'GET', path: pathName, query });
    const slash = pathName.indexOf('/', 1);
    const id = slash === -1 ? pathName.slice(1) : `${pathName.slice(1, slash)}/${pathName.slice(slash + 1)}`;
    if (req.method === 'PUT') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        stored.set(id, Buffer.concat(chunks));
        res.writeHead(200, { etag: '"local"' });
        res.end();
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return xmlError(res, 405, 'MethodNotAllowed', 'not supported here');
    if (denied.has(id)) return xmlError(res, 403, 'AccessDenied', 'Access Denied');
    const generator = generated.get(id);
    if (generator) {
      res.writeHead(200, { 'content-length': String(generator.size), 'content-type': 'application/octet-stream', etag: '"generated"' });
      if (req.method === 'HEAD') return void res.end();
      let offset = 0;
      const block = Buffer.alloc(1024 * 1024);
      // Written as the socket drains: the object is produced at the reader's pace, never buffered whole.
      const pump = (): void => {
        while (offset < generator.size) {
          const n = Math.min(block.length, generator.size - offset);
          const chunk = Buffer.allocUnsafe(n);
          generator.fill(chunk, offset);
          offset += n;
          served += n;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    // What was PUT reads back as is (a cache hit reads the result it reuses).
    const put = stored.get(id);
    if (put && !versions.has(id)) {
      res.writeHead(200, { 'content-length': String(put.length), etag: '"local"' });
      if (req.method === 'HEAD') return void res.end();
      served += put.length;
      return void res.end(put);
    }
    const list = versions.get(id);
    if (!list || list.length === 0) return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    const wanted = query.versionId;
    const version = wanted ? list.find((v) => v.versionId === wanted) : list[list.length - 1];
    if (!version) return xmlError(res, 404, 'NoSuchVersion', 'The specified version does not exist.');
    res.writeHead(200, { 'content-length': String(version.body.length), 'x-amz-version-id': version.versionId, etag: `"${createHash('md5').update(version.body).digest('hex')}"` });
    if (req.method === 'HEAD') return void res.end();
    served += version.body.length;
    res.end(version.body);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stored,
    putVersion(bucket, key, versionId, body) {
      const id = `${bucket}/${key}`;
      versions.set(id, [...(versions.get(id) ?? []), { versionId, body }]);
    },
    generate(bucket, key, object) {
      generated.set(`${bucket}/${key}`, object);
    },
    deny(bucket, key) {
      denied.add(`${bucket}/${key}`);
    },
    bytesServed: () => served,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const BLOCK = 1024 * 1024;
let baseBlock: Buffer | undefined;

/**
 * A deterministic object of any size, cheap to produce: every 1 MiB block is the same pseudo-random block with
 * its own offset written into its first 8 bytes (so no two blocks are equal, and a hash sees every position).
 * The endpoint fills whole, aligned blocks (the last one may be short).
 */
export const patternObject = (size: number): GeneratedObject => ({
  size,
  fill(buffer, offset) {
    if (offset % BLOCK !== 0 || buffer.length > BLOCK) throw new Error('patternObject fills whole aligned 1 MiB blocks');
    if (!baseBlock) {
      baseBlock = Buffer.alloc(BLOCK);
      let x = 0x9e3779b9;
      for (let i = 0; i < BLOCK; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        baseBlock[i] = x & 0xff;
      }
    }
    baseBlock.copy(buffer, 0, 0, buffer.length);
    if (buffer.length >= 8) buffer.writeBigUInt64LE(BigInt(offset), 0);
  },
});

/** The SHA-256 of a patternObject, computed the same way (for the test's expectation). */
export function patternSha256(size: number): string {
  const object = patternObject(size);
  const hash = createHash('sha256');
  const block = Buffer.alloc(BLOCK);
  for (let offset = 0; offset < size; offset += BLOCK) {
    const chunk = block.subarray(0, Math.min(BLOCK, size - offset));
    object.fill(chunk, offset);
    hash.update(chunk);
  }
  return hash.digest('hex');
}
