/**
 * One ARM event can match two subscriptions of the system topic: a container group or app write goes to
 * the deployment scanner (`deployments`) and, because the security rules read container groups and apps
 * too, to `security-events`. Event Grid delivers it to both; so does the local run: the deployment
 * replayer is wrapped to pass the events the security filters let through to onSecurityEvent afterwards,
 * and each such event is settled once, from both verdicts (failed if either failed, processed if either
 * processed, ignored only when both ignored it).
 */
import { routeSecurityEvent } from './azure-routing';
import { replaySecurityEvents } from './azure-security-event';
import { DEFAULT_REPLAY_IMAGES, prepareWorkload } from './container-deployment';
import type { Replayer } from './kind';
import { RunRecorder } from '../recorder';
import type { EmailRow, EventRef, FindingRow, ScanRow } from '../summary';

type Verdict = { kind: 'processed' } | { kind: 'ignored'; by: string; reason: string } | { kind: 'failed'; reason: string };

function apply(target: RunRecorder, ref: EventRef, v: Verdict): void {
  if (v.kind === 'processed') target.processed(ref);
  else if (v.kind === 'ignored') target.ignored(ref, v.by, v.reason);
  else target.failed(ref, v.reason);
}

/** Holds the verdicts of events delivered to several pipelines until each pipeline gave one. */
export class VerdictJoin {
  private readonly pending = new Map<EventRef, Map<string, Verdict>>();

  constructor(
    readonly target: RunRecorder,
    private readonly shared: ReadonlySet<EventRef>,
    private readonly pipelines: readonly string[],
  ) {}

  /** The recorder one pipeline's replayer reports to. */
  recorder(pipeline: string): RunRecorder {
    return new PipelineRecorder(this, pipeline);
  }

  verdict(ref: EventRef, pipeline: string, verdict: Verdict): void {
    if (!this.shared.has(ref)) return apply(this.target, ref, verdict);
    const got = this.pending.get(ref) ?? new Map<string, Verdict>();
    if (got.has(pipeline)) return;
    got.set(pipeline, verdict);
    this.pending.set(ref, got);
    if (got.size === this.pipelines.length) this.decide(ref, got);
  }

  has(ref: EventRef, pipeline: string): boolean {
    return this.shared.has(ref) ? (this.pending.get(ref)?.has(pipeline) ?? false) || this.target.isSettled(ref) : this.target.isSettled(ref);
  }

  /** Settles what is still waiting: a pipeline that gave no verdict counts as failed. */
  flush(): void {
    for (const ref of this.shared) {
      if (this.target.isSettled(ref)) continue;
      const got = this.pending.get(ref) ?? new Map<string, Verdict>();
      for (const pipeline of this.pipelines) if (!got.has(pipeline)) got.set(pipeline, { kind: 'failed', reason: 'no outcome' });
      this.decide(ref, got);
    }
  }

  private decide(ref: EventRef, got: ReadonlyMap<string, Verdict>): void {
    const all = [...got];
    const failed = all.filter(([, v]) => v.kind === 'failed') as [string, Extract<Verdict, { kind: 'failed' }>][];
    if (failed.length > 0) return this.target.failed(ref, failed.map(([pipeline, v]) => `${pipeline}: ${v.reason}`).join('; '));
    if (all.some(([, v]) => v.kind === 'processed')) return this.target.processed(ref);
    const [, first] = all[0]!;
    apply(this.target, ref, first);
  }
}

/** A pipeline's view of the run: verdicts go to the join, rows straight to the run. */
class PipelineRecorder extends RunRecorder {
  constructor(
    private readonly join: VerdictJoin,
    private readonly pipeline: string,
  ) {
    super();
  }
  override processed(event: EventRef): void {
    this.join.verdict(event, this.pipeline, { kind: 'processed' });
  }
  override ignored(event: EventRef, by: string, reason: string): void {
    this.join.verdict(event, this.pipeline, { kind: 'ignored', by, reason });
  }
  override failed(event: EventRef, reason: string): void {
    this.join.verdict(event, this.pipeline, { kind: 'failed', reason });
  }
  override isSettled(event: EventRef): boolean {
    return this.join.has(event, this.pipeline);
  }
  override scan(row: ScanRow): void {
    this.join.target.scan(row);
  }
  override finding(row: FindingRow): void {
    this.join.target.finding(row);
  }
  override email(row: EmailRow, content: { eml: string; html: string }): void {
    this.join.target.email(row, content);
  }
}

/** The deployment replayer, also delivering to onSecurityEvent what the security-event subscriptions let through. */
export function withSecurityFanOut(inner: Replayer<'container-deployment'>): Replayer<'container-deployment'> {
  return {
    ...inner,
    async replay(deliveries, context) {
      const security = deliveries.filter((d) => routeSecurityEvent(d.item.event, d.item.shape).deliver);
      if (security.length === 0 || !context.stack.azure) return inner.replay(deliveries, context);
      // The security pipeline reads the workload too: define it before either pipeline runs.
      const images = context.images.length > 0 ? context.images : DEFAULT_REPLAY_IMAGES;
      for (const d of security) prepareWorkload(context.stack.azure, context.stack.knownWorkloads, d.body, images);
      const join = new VerdictJoin(context.recorder, new Set(security.map((d) => d.ref)), ['onDeployment', 'onSecurityEvent']);
      // One pipeline after the other. Event Grid promises no order between subscriptions, so this order is one
      // a real stack can see; both at once on one small machine's queue pump now and then let a deployment miss
      // the scan cache of the same image (a second scan, where the deployment replay alone makes one).
      await inner.replay(deliveries, { ...context, recorder: join.recorder('onDeployment') });
      await replaySecurityEvents(security, { stack: context.stack, recorder: join.recorder('onSecurityEvent') });
      join.flush();
    },
  };
}
