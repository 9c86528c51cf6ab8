import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AZURITE_ACCOUNT } from '../../../local/emulators/azurite';

/**
 * Azurite's Blob service with Entra ID (OAuth) on: it accepts bearer tokens only over HTTPS, so it
 * runs with a self-signed certificate for 127.0.0.1 made for the run. Its "basic" OAuth checks a
 * token's issuer, audience and lifetime, not its signature, so a test can mint tokens; what it
 * proves is that the code under test authenticates with a bearer token and that Azurite (like
 * Azure) refuses a bad one. Clients trust the certificate through NODE_EXTRA_CA_CERTS, which Node
 * reads at start-up only: the SDK calls run in child processes (support/package-upload-child.ts).
 */

export interface OAuthAzurite {
  /** `https://127.0.0.1:<port>/devstoreaccount1/`, shaped like an account's primaryEndpoints.blob. */
  blobEndpoint: string;
  /** The certificate to trust (NODE_EXTRA_CA_CERTS). */
  caFile: string;
  stop(): Promise<void>;
}

const READY = /Azurite Blob service successfully listens on (https:\/\/[^\s]+)/;

export async function startOAuthAzurite(timeoutMs = 20_000): Promise<OAuthAzurite> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shipscan-azurite-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  // Two days is plenty for one test run; the key never leaves the temporary directory.
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  const entry = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [entry, '--blobHost', '127.0.0.1', '--blobPort', '0', '--cert', cert, '--key', key, '--oauth', 'basic', '--inMemoryPersistence', '--skipApiVersionCheck', '--disableTelemetry', '--loose'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`Azurite (OAuth) did not start within ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = READY.exec(output);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite (OAuth) exited with code ${code}:\n${output.slice(-2000)}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    blobEndpoint: `${origin}/${AZURITE_ACCOUNT}/`,
    caFile: cert,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
        setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
