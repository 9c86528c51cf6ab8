/**
 * Time as the Qualys client and the poll loop see it. Injected so tests and benchmarks can run hours
 * of simulated time in seconds; production uses the system clock.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
