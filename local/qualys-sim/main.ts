/**
 * Runs the simulator on its own: `npx tsx local/qualys-sim/main.ts [--port N] [--speed X]`.
 * Simulated time follows the wall clock, `--speed` times faster (default 1). Prints the URL, then
 * serves until interrupted.
 */
import { SimClock } from './clock';
import { startQualysSimulator } from './server';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const speed = Number(value('--speed') ?? 1);
  if (!(speed > 0)) throw new Error(`--speed must be a positive number, got ${value('--speed')}`);
  const clock = new SimClock(Date.now());
  const sim = await startQualysSimulator({ clock, ...(value('--port') ? { port: Number(value('--port')) } : {}) });
  let last = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    clock.advance((now - last) * speed);
    last = now;
  }, 100);
  // The simulator's fixed credentials are documented in index.ts; even fake passwords stay out of output.
  console.log(JSON.stringify({ url: sim.url, username: sim.credentials.username, speed }));
  const stop = async () => {
    clearInterval(ticker);
    await sim.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
