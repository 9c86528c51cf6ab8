import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A webhook receiver on loopback: records each POST and answers as `respond` says. */
export interface Receiver {
  base: string;
  /** Every answered POST, with the status it got. */
  posts: { path: string; body: unknown; contentType: string | undefined; status: number }[];
  /** The posts answered 2xx: those the receiver took. */
  taken(): Receiver['posts'];
  /** Answer for the next requests; default 200 `ok`. Return undefined to never answer (a hung receiver). */
  respond: (req: IncomingMessage, n: number) => { status: number; body?: string; headers?: Record<string, string> } | undefined;
  hits: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const hung: ServerResponse[] = [];
  const receiver: Receiver = {
    base: '',
    posts: [],
    respond: () => ({ status: 200, body: 'ok' }),
    hits: 0,
    taken: () => receiver.posts.filter((p) => p.status >= 200 && p.status < 300),
    close: async () => {
      for (const res of hung) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      receiver.hits += 1;
      const answer = receiver.respond(req, receiver.hits);
      if (!answer) {
        hung.push(res);
        return;
      }
      receiver.posts.push({ path: req.url ?? '', body: text ? (JSON.parse(text) as unknown) : undefined, contentType: req.headers['content-type'], status: answer.status });
      res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
