/** Command line of `npm start`: the demo by default, or replay / serve. */
import { parseArgs } from 'node:util';

export interface StartOptions {
  mode: 'demo' | 'replay' | 'serve';
  events: string[];
  json: boolean;
  /** Images for ACI/ACA workloads the ARM stub does not know (default: the demo's). */
  images: string[];
  port?: number;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: npm start [-- [--event <file> ...] [--json] [--image <ref> ...] | --serve [--port <n>]]
  (no option)       replay the demo: an ACI and an ACA deployment, a zip and an image Lambda, one duplicate
  --event <file>    replay the events in <file> (Event Grid or CloudEvents, EventBridge, CloudTrail, bulk targets)
  --json            print one JSON summary on stdout and nothing else (progress goes to stderr)
  --image <ref>     image of ACI/ACA workloads that the stubs do not know (repeatable)
  --serve           keep the stack up and accept events on loopback until Ctrl-C
  --port <n>        port of the --serve event receiver (default: any free port)`;

export function parseStartOptions(argv: readonly string[]): StartOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        event: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        image: { type: 'string', multiple: true },
        serve: { type: 'boolean', default: false },
        port: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) throw new UsageError(USAGE);
  const events = values.event ?? [];
  if (values.serve && events.length > 0) throw new UsageError(`--serve and --event do not go together\n${USAGE}`);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!values.serve) throw new UsageError(`--port goes with --serve\n${USAGE}`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${values.port}: expected a port number 0-65535`);
  }
  return {
    mode: values.serve ? 'serve' : events.length > 0 ? 'replay' : 'demo',
    events,
    json: values.json ?? false,
    images: values.image ?? [],
    port,
  };
}
