import type { AppOverrides } from '../../functions/azure/app';
import { policyPollDelay } from '../../functions/azure/poll-timing';
import { loadSettings, type AppSettings } from '../../functions/azure/settings';
import { MemoryTelemetry } from '../../functions/azure/telemetry';
import { ANY_REGISTRY } from '../../functions/azure/registry-digest';
import { RateLimiter } from '../../shared/qualys/rate-limiter';
import type { RunningAzurite } from '../emulators/azurite';
import type { ArmStub } from '../arm-stub/server';
import { SimClock, type QualysSimulator } from '../qualys-sim';

/**
 * The real Function App against the loopback parts in simulated time, as the embedded stack and the
 * Azure integration tests both run it. Simulated time runs `speed` times faster than real time for
 * the simulator, the Qualys client and the handlers alike, so scans that take minutes at Qualys land
 * in seconds; queue visibility delays are scaled down by the same factor.
 *
 * Hermetic: every registry is answered by the ARM stub's registry side (REGISTRY_ENDPOINTS `*`), which
 * knows the digest of every tag the simulator holds, so tags resolve to digests exactly as they would
 * against the real registries; and the app refuses any registry URL off loopback in a local run.
 */

export interface SimulatedTime {
  clock: SimClock;
  /** Simulated seconds per real second. */
  speed: number;
  stop(): Promise<void>;
}

export function startSimulatedTime(speed: number, tickMs = 20): SimulatedTime {
  const clock = new SimClock();
  const ticker = setInterval(() => clock.advance(speed * tickMs), tickMs);
  return { clock, speed, stop: async () => clearInterval(ticker) };
}

export interface SimulatedAppWiring {
  /** App settings pointing at Azurite, the simulator and the ARM stub. */
  env: Record<string, string>;
  settings: AppSettings;
  telemetry: MemoryTelemetry;
  /** Handler overrides that make the app keep simulated time. */
  overrides: AppOverrides;
}

export function simulatedAppWiring(parts: {
  azurite: RunningAzurite;
  arm: ArmStub;
  sim: QualysSimulator;
  time: SimulatedTime;
  /** Settings added to (or replacing) the defaults. */
  env?: Record<string, string>;
}): SimulatedAppWiring {
  const { azurite, arm, sim, time } = parts;
  // The registry stub answers for the simulator's images (later ones: ArmStub.setManifest).
  for (const image of sim.catalogue.images) for (const tag of image.tags) arm.setManifest(image.repository, tag, image.digest);
  const env: Record<string, string> = {
    AzureWebJobsStorage: azurite.connectionString,
    QUALYS_GATEWAY: sim.url,
    QUALYS_USERNAME: sim.credentials.username,
    QUALYS_PASSWORD: sim.credentials.password,
    ARM_ENDPOINT: arm.endpoint,
    POLL_MIN_SEC: '10',
    MAX_SCAN_MINUTES: '30',
    CACHE_HOURS: '24',
    REGISTRY_ENDPOINTS: JSON.stringify({ [ANY_REGISTRY]: arm.endpoint }),
    // Registry pushes are part of every local stack (azure.artifacts.registries in the cloud).
    IMAGE_PUSHES_QUEUE: 'image-pushes',
    ...parts.env,
  };
  const settings = loadSettings(env);
  const telemetry = new MemoryTelemetry();
  const rateLimiter = new RateLimiter({ clock: time.clock });
  const simDelay = policyPollDelay({ pollMinSec: settings.pollMinSec, headroom: () => rateLimiter.headroom() });
  return {
    env,
    settings,
    telemetry,
    overrides: {
      telemetry,
      now: () => new Date(time.clock.now()),
      // The policy thinks in simulated seconds; the queue waits real ones.
      pollDelay: (input) => simDelay(input) / time.speed,
      // Every other wait (Qualys' retry-after, our own backoff) is in simulated seconds too.
      queueDelaySec: (sec) => sec / time.speed,
      qualysClient: { clock: time.clock, rateLimiter, retry: { baseDelayMs: 200, maxRetryMs: 60_000 } },
    },
  };
}
