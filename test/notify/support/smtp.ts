import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

/**
 * A real SMTP server on loopback (smtp-server), reading what arrives with mailparser. STARTTLS is disabled
 * here, so clients under test talk plain text to it (`plaintextLoopback`), which only tests may do.
 */

export interface Received {
  mailFrom: string;
  rcptTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

export interface TestSmtpServer {
  host: string;
  port: number;
  received: Received[];
  /** Every AUTH the server saw, accepted or not. */
  auths: { method: string; username: string; password: string }[];
  /** Resolves once `count` messages arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSmtpServer(options: { credentials?: { username: string; password: string }; reject?: (rcpt: string) => string | undefined } = {}): Promise<TestSmtpServer> {
  const received: Received[] = [];
  const auths: TestSmtpServer['auths'] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const notify = () => {
    for (const w of [...waiters]) if (received.length >= w.count) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  };
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    authOptional: !options.credentials,
    // AUTH over a plain connection, which a real relay refuses; here the client is on the same machine.
    allowInsecureAuth: true,
    size: 1024 * 1024,
    onAuth(auth, _session, callback) {
      auths.push({ method: auth.method, username: auth.username ?? '', password: auth.password ?? '' });
      const expected = options.credentials;
      if (expected && auth.username === expected.username && auth.password === expected.password) return callback(null, { user: auth.username });
      // Echoes the user name back, as some relays do: the client must not pass it on.
      return callback(new Error(`Invalid username or password for ${auth.username ?? ''}`));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const refusal = options.reject?.(address.address);
      if (refusal) return callback(Object.assign(new Error(refusal), { responseCode: 550 }));
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            const from = session.envelope.mailFrom;
            received.push({ mailFrom: from ? from.address : '', rcptTo: session.envelope.rcptTo.map((r) => r.address), raw, parsed });
            notify();
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    received,
    auths,
    waitFor: (count, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        if (received.length >= count) return resolve();
        const timer = setTimeout(() => reject(new Error(`expected ${count} message(s), got ${received.length}`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs `fn` with everything written to stdout, stderr and process warnings captured. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result?: T; error?: unknown; output: string }> {
  let output = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const onWarning = (w: Error) => (output += `${w.name}: ${w.message}\n`);
  process.stdout.write = ((chunk: string | Uint8Array) => ((output += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((output += String(chunk)), true)) as typeof process.stderr.write;
  process.on('warning', onWarning);
  let result: T | undefined;
  let error: unknown;
  try {
    result = await fn();
  } catch (e) {
    error = e;
  }
  // Warnings are emitted on a later tick.
  await new Promise((resolve) => setImmediate(resolve));
  process.stdout.write = out;
  process.stderr.write = err;
  process.off('warning', onWarning);
  return { ...(result !== undefined ? { result } : {}), ...(error !== undefined ? { error } : {}), output };
}
