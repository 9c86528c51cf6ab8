import type { Clock } from '../../shared/qualys/clock';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * Simulated time shared by the simulator and (in benchmarks) the client under test. Time moves only
 * when told to: `advance(ms)` / `set(ms)`, or automatically in actor mode, where the clock jumps to
 * the next pending sleep as soon as every registered actor is asleep (discrete-event simulation over
 * real HTTP: while any actor waits on a socket, time stands still).
 */
export class SimClock implements Clock {
  private current: number;
  private readonly timers: Timer[] = [];
  private seq = 0;
  private actors = 0;
  private sleeping = 0;

  constructor(start = Date.UTC(2026, 0, 15, 9, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Moves time forward, waking every sleeper whose time has come. */
  advance(ms: number): void {
    this.set(this.current + Math.max(0, ms));
  }

  set(ms: number): void {
    this.current = Math.max(this.current, ms);
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    while (this.timers.length > 0 && this.timers[0]!.at <= this.current) this.wake(this.timers.shift()!);
  }

  private wake(timer: Timer): void {
    if (this.actors > 0) this.sleeping -= 1;
    timer.resolve();
  }

  sleep(ms: number): Promise<void> {
    const at = this.current + Math.max(0, ms);
    return new Promise<void>((resolve) => {
      this.timers.push({ at, seq: this.seq++, resolve });
      if (this.actors > 0) {
        this.sleeping += 1;
        this.maybeJump();
      } else if (at <= this.current) {
        this.set(this.current);
      }
    });
  }

  /**
   * Awaits `work` as idle time: an actor waiting on another actor's work (a shared lookup) counts as
   * asleep, so the clock can jump while that other actor sleeps. Outside actor mode it is a plain await.
   */
  async waitFor<T>(work: Promise<T>): Promise<T> {
    if (this.actors === 0) return work;
    this.sleeping += 1;
    this.maybeJump();
    try {
      return await work;
    } finally {
      this.sleeping -= 1;
    }
  }

  /**
   * Runs `fn` as an actor: while at least one actor runs, the clock jumps to the earliest sleeper
   * whenever all actors sleep. Only actors may sleep on this clock in that mode.
   */
  async actor<T>(fn: () => Promise<T>): Promise<T> {
    this.actors += 1;
    try {
      return await fn();
    } finally {
      this.actors -= 1;
      this.maybeJump();
    }
  }

  private maybeJump(): void {
    if (this.actors === 0 || this.sleeping < this.actors || this.timers.length === 0) return;
    // Defer so every actor that is about to sleep in this tick has registered its timer first.
    setImmediate(() => {
      if (this.actors === 0 || this.sleeping < this.actors || this.timers.length === 0) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      this.set(Math.max(this.current, this.timers[0]!.at));
    });
  }

  /** Sleepers not yet woken (for diagnostics). */
  get pendingSleeps(): number {
    return this.timers.length;
  }
}
