import type { Clock } from '../../shared/qualys/clock';
import { QualysClient, type QualysClientOptions } from '../../shared/qualys/cs-client';
import { RateLimiter } from '../../shared/qualys/rate-limiter';
import type { QualysSimulator } from '../../local/qualys-sim';

/** A clock on the simulator's time whose sleeps advance it instantly and are recorded. */
export function instantClock(sim: QualysSimulator): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => sim.clock.now(),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      sim.clock.advance(ms);
    },
  };
}

/** A client on the simulator with its own limiter and an instant clock (no real waiting). */
export function simClient(sim: QualysSimulator, extra: Partial<QualysClientOptions> = {}): { client: QualysClient; clock: Clock & { sleeps: number[] } } {
  const clock = instantClock(sim);
  const client = new QualysClient({
    gateway: sim.url,
    credentials: { kind: 'password', username: sim.credentials.username, password: sim.credentials.password },
    clock,
    rateLimiter: new RateLimiter({ clock }),
    random: () => 0.5,
    requestTimeoutMs: 5000,
    ...extra,
  });
  return { client, clock };
}

export function apiCalls(sim: QualysSimulator, since = 0): typeof sim.callLog {
  return sim.callLog.slice(since).filter((c) => c.path !== '/auth');
}
