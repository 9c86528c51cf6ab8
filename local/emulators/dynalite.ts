import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/**
 * dynalite (DynamoDB emulator) in process, on loopback with a free port, in-memory. It has no
 * UpdateTimeToLive and never expires items: code under test must check expiry itself.
 */

export interface RunningEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export async function startDynalite(): Promise<RunningEmulator> {
  // dynalite ships no type declarations; its factory returns a plain http.Server.
  const dynalite = require('dynalite') as DynaliteFactory;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
