/**
 * Child-process side of the offline plan: runs one Pulumi program under the mocks runtime and sends
 * back every registered resource. Pulumi's runtime state is process-global, so each plan gets its
 * own process (see runPlan in ../plan.ts). Started with `node --import tsx`; talks over the IPC channel.
 */
import * as pulumi from '@pulumi/pulumi';
import * as settings from '@pulumi/pulumi/runtime/settings';
import { planMocks } from './mocks';
import { toPlanValue, SECRET_MASK, type PlanValue } from './serialize';
import type { PlannedResource, WorkerReply, WorkerRequest } from './protocol';

/** The protobuf request/response objects the resource monitor receives (only what is read here). */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): { toJavaScript(): unknown } | undefined;
}
interface RegisterResponse {
  getUrn(): string;
  getId(): string;
}
type Callback = (err: unknown, response: RegisterResponse | undefined) => void;
interface RecordableMonitor {
  registerResource(req: RegisterRequest, callback: Callback): Promise<void>;
  readResource(req: RegisterRequest & { getProperties(): { toJavaScript(): unknown } | undefined; getId(): string }, callback: Callback): Promise<void>;
}

function send(reply: WorkerReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) throw new Error('the plan worker must be started with an IPC channel (child_process.fork)');
    process.send(reply, () => resolve());
  });
}

/**
 * A RunError is how the program reports a configuration the user must fix (index.ts): its message is
 * the whole story, as `pulumi preview` prints it. Anything else is a bug, reported with its stack.
 */
function isUserError(error: unknown): boolean {
  return pulumi.RunError.isInstance(error) || (error instanceof Error && error.name === 'ConfigError');
}

function describeError(error: unknown): string {
  if (error instanceof Error) return isUserError(error) ? error.message : (error.stack ?? `${error.name}: ${error.message}`);
  return String(error);
}

let failed = false;
const unmockedCalls = new Set<string>();
async function fail(error: unknown): Promise<void> {
  if (failed) return;
  failed = true;
  const calls = [...unmockedCalls];
  const hint = calls.length > 0 ? `no plan mock for provider call(s) ${calls.join(', ')}: add them to local/plan/mocks.ts\n` : '';
  await send({
    kind: 'error',
    message: `${hint}${describeError(error)}`,
    userError: isUserError(error),
    ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
  });
  process.exit(1);
}

function recordingMonitor(resources: PlannedResource[]): void {
  // The mock monitor does not pass parents to the mocks; wrap it to see the raw requests.
  const monitor = settings.getMonitor() as unknown as RecordableMonitor | undefined;
  if (!monitor) throw new Error('the Pulumi mock monitor is not installed');
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    register(req, (err, response) => {
      if (!err && response) {
        const parent = req.getParent();
        const id = response.getId();
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: response.getUrn(),
          ...(parent ? { parent } : {}),
          custom: req.getCustom(),
          inputs: toPlanValue(req.getObject()?.toJavaScript() ?? {}) as Record<string, PlanValue>,
          ...(id ? { id } : {}),
        });
      }
      callback(err, response);
    });
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req, callback) =>
    read(req, (err, response) => {
      if (!err && response) {
        const parent = req.getParent();
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: response.getUrn(),
          ...(parent ? { parent } : {}),
          custom: true,
          read: true,
          inputs: toPlanValue(req.getProperties()?.toJavaScript() ?? {}) as Record<string, PlanValue>,
          id: req.getId(),
        });
      }
      callback(err, response);
    });
}

/** Resolves a stack export to plain JSON, masking every secret Output. */
async function resolveExport(value: unknown): Promise<PlanValue> {
  if (pulumi.Output.isInstance(value)) {
    if (await pulumi.isSecret(value)) return SECRET_MASK;
    const inner = await new Promise<unknown>((resolve) => value.apply((v) => (resolve(v), v)));
    return resolveExport(inner);
  }
  if (pulumi.Resource.isInstance(value)) return resolveExport(value.urn);
  if (value instanceof Promise) return resolveExport(await value);
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return Promise.all(value.map(resolveExport));
  if (typeof value === 'object') {
    const out: Record<string, PlanValue> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = await resolveExport(item);
    }
    return out;
  }
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  return String(value);
}

/** Waits until every outstanding registration has been answered (internal SDK helper). */
async function drain(): Promise<void> {
  const internal = settings as unknown as { waitForRPCs?: () => Promise<void> };
  if (typeof internal.waitForRPCs !== 'function') throw new Error('@pulumi/pulumi no longer exposes waitForRPCs; update local/plan/worker.ts');
  await internal.waitForRPCs();
  // Applies may register more resources after the queue first drains.
  await new Promise((resolve) => setImmediate(resolve));
  await internal.waitForRPCs();
}

/** azure.artifacts.existingSystemTopics of the plan's config, so the mocked lookup answers for those topics as the config says. */
function artifactTopicsOf(config: Record<string, string>): Record<string, string> {
  try {
    const azure = JSON.parse(config['shipscan:azure'] ?? '{}') as { artifacts?: { existingSystemTopics?: unknown } };
    const topics = azure.artifacts?.existingSystemTopics;
    if (!topics || typeof topics !== 'object') return {};
    return Object.fromEntries(Object.entries(topics).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    // The program reports a config it cannot read; the mocks just know no reused topic.
    return {};
  }
}

async function run(request: WorkerRequest): Promise<void> {
  const resources: PlannedResource[] = [];
  await pulumi.runtime.setMocks(
    planMocks({
      awsRegion: request.awsRegion,
      azureLocation: request.azureLocation,
      artifactTopics: artifactTopicsOf(request.config),
      onUnmockedCall: (token) => unmockedCalls.add(token),
    }),
    request.project,
    request.stack,
    false,
  );
  recordingMonitor(resources);
  pulumi.runtime.setAllConfig(request.config, request.secretKeys);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after mocks and config are set
  const program = require(request.program) as Record<string, unknown>;
  await drain();
  const outputs: Record<string, PlanValue> = {};
  for (const key of Object.keys(program).sort()) {
    if (key === '__esModule' || program[key] === undefined) continue;
    outputs[key] = await resolveExport(program[key]);
  }
  await drain();
  await send({ kind: 'result', resources, outputs });
  process.exit(0);
}

process.on('unhandledRejection', (reason) => void fail(reason));
// The event loop ran dry before the program finished: something awaits a value nothing will produce.
process.on('beforeExit', () =>
  void fail(new Error('the program stopped with Outputs still pending (a provider output the mocks never return, or a promise that never settles)')),
);
process.on('uncaughtException', (error) => void fail(error));
process.once('message', (message: WorkerRequest) => {
  run(message).catch((error: unknown) => fail(error));
});
