import type { CheckOutcome, ScanTicket, ScanWorkflow } from '../../shared/qualys/contracts';
import { classifyQualysError } from './qualys-errors';

/**
 * Coalesces the status checks of concurrent `pollScan` invocations into one `checkMany` call. The
 * host hands a worker a batch of queue messages at once (host.json `batchSize`), so the poll messages
 * that come due together are answered by one Qualys request instead of one each.
 */
export class CheckBatcher {
  private pending: { ticket: ScanTicket; resolve: (o: CheckOutcome) => void; reject: (e: unknown) => void }[] = [];
  private timer?: NodeJS.Timeout;
  /** Batches sent and tickets checked, for the benchmark and the logs. */
  readonly stats = { batches: 0, tickets: 0 };

  constructor(
    private readonly workflow: Pick<ScanWorkflow, 'checkMany'>,
    private readonly windowMs = 50,
    private readonly maxBatch = 50,
  ) {}

  check(ticket: ScanTicket): Promise<CheckOutcome> {
    return new Promise<CheckOutcome>((resolve, reject) => {
      this.pending.push({ ticket, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.stats.batches += 1;
    this.stats.tickets += batch.length;
    this.workflow.checkMany(batch.map((b) => b.ticket)).then(
      (outcomes) => {
        if (outcomes.length !== batch.length) {
          const error = new Error(`checkMany answered ${outcomes.length} outcomes for ${batch.length} tickets`);
          for (const b of batch) b.reject(error);
          return;
        }
        batch.forEach((b, i) => b.resolve(outcomes[i] as CheckOutcome));
      },
      (error: unknown) => {
        // One bad ticket (a 400 on the joined query) must not fail the others: check each on its own.
        if (batch.length > 1 && classifyQualysError(error).permanent) {
          for (const b of batch) {
            this.workflow.checkMany([b.ticket]).then((o) => (o.length === 1 ? b.resolve(o[0] as CheckOutcome) : b.reject(new Error(`checkMany answered ${o.length} outcomes for 1 ticket`))), b.reject);
          }
          return;
        }
        for (const b of batch) b.reject(error);
      },
    );
  }
}
