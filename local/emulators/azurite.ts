import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/**
 * Azurite (Blob, Queue, Table) as a child process from node_modules, on loopback, with ports chosen
 * by the OS, in memory. `require('azurite')` does not work, and current SDKs send API versions newer
 * than Azurite knows, hence `--skipApiVersionCheck`.
 */

export const AZURITE_ACCOUNT = 'devstoreaccount1';
/** Azurite's published well-known development key (not a secret). */
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  blobEndpoint: string;
  queueEndpoint: string;
  tableEndpoint: string;
  /** A connection string for all three services (what `AzureWebJobsStorage` holds locally). */
  connectionString: string;
  stop(): Promise<void>;
}

const READY = /Azurite (Blob|Queue|Table) service is successfully listening at (http:\/\/[^\s]+)/;

export async function startAzurite(options: { timeoutMs?: number } = {}): Promise<RunningAzurite> {
  const entry = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      entry,
      '--blobHost', '127.0.0.1', '--blobPort', '0',
      '--queueHost', '127.0.0.1', '--queuePort', '0',
      '--tableHost', '127.0.0.1', '--tablePort', '0',
      '--skipApiVersionCheck', '--disableTelemetry', '--inMemoryPersistence', '--loose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const endpoints: Record<string, string> = {};
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`Azurite did not start within ${options.timeoutMs ?? 20_000} ms:\n${output.slice(-2000)}`));
    }, options.timeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        const m = READY.exec(line);
        if (m) endpoints[m[1]!] = m[2]!;
      }
      if (endpoints.Blob && endpoints.Queue && endpoints.Table) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with code ${code}:\n${output.slice(-2000)}`));
    });
  });
  // Keep draining so a chatty Azurite never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  const blobEndpoint = `${endpoints.Blob}/${AZURITE_ACCOUNT}`;
  const queueEndpoint = `${endpoints.Queue}/${AZURITE_ACCOUNT}`;
  const tableEndpoint = `${endpoints.Table}/${AZURITE_ACCOUNT}`;
  return {
    blobEndpoint,
    queueEndpoint,
    tableEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
