/** Exit codes of `npm start` / `npx shipscan` (documented in the README; each is tested with the CLI as a child process). */
export const EXIT = {
  /** Every event was processed or dropped by a rule, with the reason. */
  ok: 0,
  /** At least one event failed (the reasons are in the output). */
  eventFailed: 1,
  /** Bad options or event files that cannot be read as events. */
  usage: 2,
  /** The embedded stack could not start, or the run broke: a bug or the machine, not the events. */
  internal: 3,
} as const;
