/**
 * Time as the Qualys client and the poll loop see it. Injected so tests and benchmarks can run hours
 * of simulated time in seconds; production uses the system clock.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /**
   * Awaits work another task of this process is doing (a shared lookup, an answer to someone else's
   * call). A simulated clock counts the wait as idle, so its time can move on while the task it waits
   * for sleeps; real clocks need nothing of the kind and leave it out.
   */
  waitFor?<T>(work: Promise<T>): Promise<T>;
}

/** Awaits `work` through the clock's waitFor when it has one. */
export function waitThrough<T>(clock: Clock, work: Promise<T>): Promise<T> {
  return clock.waitFor ? clock.waitFor(work) : work;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
