import type { Server } from 'node:http';
import { listenOnLoopback } from './loopback';

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
  return listenOnLoopback(server);
}
