/**
 * Progress of a run, on stderr: step lines always (stdout stays for the summary), and on a terminal a
 * live meter of settled events (done/total, rate) that redraws in place. Not a terminal (a pipe, a
 * file, CI) or `--json`: no meter, nothing but the step lines.
 */
export interface ProgressStream {
  write(text: string): boolean;
  isTTY?: boolean;
}

export interface ProgressReporter {
  /** A step line, prefixed with the elapsed time. */
  log(line: string): void;
  /** Starts the meter for `total` events; returns what replayers call with the number settled so far. */
  meter(total: number): (settled: number) => void;
  /** Clears the meter line. */
  end(): void;
}

export function liveProgressWanted(stream: ProgressStream, json: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !json && !env.CI;
}

export function progressReporter(stream: ProgressStream, live: boolean, now: () => number = Date.now): ProgressReporter {
  const started = now();
  const elapsed = () => `${((now() - started) / 1000).toFixed(1).padStart(5)}s`;
  let meterLine = '';
  let meterStart = 0;
  let lastDraw = 0;
  const clear = () => {
    if (meterLine) stream.write('\r\x1b[K');
  };
  return {
    log(line) {
      clear();
      stream.write(`[${elapsed()}] ${line}\n`);
      if (meterLine) stream.write(meterLine);
    },
    meter(total) {
      meterStart = now();
      return (settled) => {
        if (!live || total === 0) return;
        const t = now();
        // Redraw at most 10 times a second, and always for the last event.
        if (settled < total && t - lastDraw < 100) return;
        lastDraw = t;
        const seconds = Math.max((t - meterStart) / 1000, 0.001);
        clear();
        meterLine = `[${elapsed()}] ${settled}/${total} events, ${(settled / seconds).toFixed(1)}/s`;
        stream.write(meterLine);
      };
    },
    end() {
      clear();
      meterLine = '';
    },
  };
}
