import type { ImageReference } from '../../shared/image-reference';
import type { ScanResult, ScanTarget } from '../../shared/scan-result';
import type { CheckOutcome, ScanTicket, ScanWorkflow } from '../../shared/qualys/contracts';
import type { QualysCredentialProvider, QualysCredentials } from './qualys-credentials';

/**
 * A ScanWorkflow whose credentials come from the provider on every call: when Key Vault rotates them
 * (the provider's TTL expires and the values differ) the next call runs on a workflow built with the
 * new ones. A rejected credential empties the provider's cache so the next call reloads.
 */
export class RotatingWorkflow implements ScanWorkflow {
  private current?: { key: string; workflow: ScanWorkflow };

  constructor(
    private readonly credentials: Pick<QualysCredentialProvider, 'get' | 'invalidate'>,
    private readonly build: (credentials: QualysCredentials) => ScanWorkflow,
  ) {}

  private async workflow(): Promise<ScanWorkflow> {
    const c = await this.credentials.get();
    const key = c.kind === 'token' ? `t:${c.accessToken}` : `p:${c.username}:${c.password}`;
    if (!this.current || this.current.key !== key) this.current = { key, workflow: this.build(c) };
    return this.current.workflow;
  }

  private async run<T>(call: (w: ScanWorkflow) => Promise<T>): Promise<T> {
    const w = await this.workflow();
    try {
      return await call(w);
    } catch (error) {
      if ((error as Error)?.name === 'QualysAuthError') this.credentials.invalidate();
      throw error;
    }
  }

  submit(image: ImageReference): Promise<ScanTicket> {
    return this.run((w) => w.submit(image));
  }
  check(ticket: ScanTicket): Promise<CheckOutcome> {
    return this.run((w) => w.check(ticket));
  }
  checkMany(tickets: readonly ScanTicket[]): Promise<CheckOutcome[]> {
    return this.run((w) => w.checkMany(tickets));
  }
  results(ticket: ScanTicket, target: ScanTarget): Promise<ScanResult> {
    return this.run((w) => w.results(ticket, target));
  }
}
