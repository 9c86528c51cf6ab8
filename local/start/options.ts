/** Command line of `npm start` / `npx shipscan`: the demo by default, or replay / serve. */
import { parseArgs } from 'node:util';

export interface StartOptions {
  mode: 'demo' | 'replay' | 'serve' | 'inventory';
  events: string[];
  /** Files of ARM resource GET bodies the ARM stub serves by their `id` (one object or an array each). */
  arm: string[];
  json: boolean;
  /** Images for ACI/ACA workloads the ARM stub does not know (default: the demo's). */
  images: string[];
  /** Files whose bytes stand for the objects that object events name (`--object`; see local/start/kinds/s3-object.ts). */
  objects: string[];
  port?: number;
  /** Full values in the table instead of fitting 120 columns. */
  wide: boolean;
  /** Where run folders go (`<out>/runs/<time>-<id>/`); default `.shipscan` in the project. */
  out?: string;
  /** Stack traces with errors (also `DEBUG=shipscan`). */
  verbose: boolean;
  /** Run the scheduled inventory and posture evaluation on seeded fake accounts instead of replaying events. */
  inventory: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--help` asked for the usage: printed on stdout, exit 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
}

export const USAGE = `usage: npm start --silent -- [options]     (or: npx shipscan [options])
  (no option)       replay the demo: an ACI and an ACA deployment, an ACR push, a zip and an image Lambda,
                    one duplicate, an S3 upload of a release archive and its copy in another account
  --event <file>    replay the events in <file> (Event Grid or CloudEvents: ARM writes, ACR pushes;
                    EventBridge, CloudTrail, S3 data events raw or in envelopes, trail files, Object Created,
                    S3 notifications, bulk targets; repeatable); they pass the stack's EventBridge rules and
                    Event Grid filters first
  --arm <file>      ARM resource GET bodies (one object or an array) the ARM stub serves by their "id", so
                    an Azure security-event replay reads the resource as it was (repeatable; with --event or --serve)
  --image <ref>     image of ACI/ACA workloads that the stubs do not know (repeatable; default nginx)
  --object <file>   bytes of the objects that S3 object events name, uploaded before the events replay
                    (repeatable): the file named like the key's last segment, else the files in order;
                    one file stands for every object. Without it an object is missing (recorded as gone)
  --json            print one JSON summary on stdout and nothing else (progress goes to stderr)
  --wide            print full values (result keys, run-folder copies) instead of fitting 120 columns
  --out <dir>       write run folders under <dir>/runs/ (default .shipscan in the project)
  --inventory       inventory seeded fake accounts and subscriptions (AWS fake APIs, Azure Resource Graph
                    simulator), evaluate the posture rules, print the findings, then replay fixing events
                    and show their findings RESOLVED
  --serve           keep the stack up and accept events on loopback until Ctrl-C
  --port <n>        port of the --serve event receiver (default: any free port)
  --verbose         show stack traces with errors (also DEBUG=shipscan)
exit codes: 0 every event processed or ignored by a rule, 1 an event failed, 2 usage error, 3 the stack or the run broke`;

export function parseStartOptions(argv: readonly string[]): StartOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        event: { type: 'string', multiple: true },
        arm: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        image: { type: 'string', multiple: true },
        object: { type: 'string', multiple: true },
        serve: { type: 'boolean', default: false },
        inventory: { type: 'boolean', default: false },
        port: { type: 'string' },
        wide: { type: 'boolean', default: false },
        out: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) throw new HelpRequested(USAGE);
  const events = values.event ?? [];
  const arm = values.arm ?? [];
  if (arm.length > 0 && !values.serve && events.length === 0) throw new UsageError(`--arm goes with --event or --serve (the demo defines its own resources)\n${USAGE}`);
  if (values.serve && events.length > 0) throw new UsageError(`--serve and --event do not go together\n${USAGE}`);
  if (values.serve && values.json) throw new UsageError(`--serve prints a table per delivery; --json goes with a demo or --event replay\n${USAGE}`);
  if (values.inventory && (values.serve || events.length > 0)) throw new UsageError(`--inventory goes alone (with --json, --wide, --verbose)\n${USAGE}`);
  const objects = values.object ?? [];
  if (objects.length > 0 && events.length === 0) throw new UsageError(`--object goes with --event (the objects that the replayed events name)\n${USAGE}`);
  if (objects.some((file) => file.trim() === '')) throw new UsageError('--object needs a file');
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!values.serve) throw new UsageError(`--port goes with --serve\n${USAGE}`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${values.port}: expected a port number 0-65535`);
  }
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out needs a directory');
  return {
    mode: values.inventory ? 'inventory' : values.serve ? 'serve' : events.length > 0 ? 'replay' : 'demo',
    events,
    arm,
    json: values.json ?? false,
    images: values.image ?? [],
    objects,
    port,
    wide: values.wide ?? false,
    ...(values.out !== undefined ? { out: values.out } : {}),
    verbose: values.verbose ?? false,
    inventory: values.inventory ?? false,
  };
}
