import { findingKey, identityOf, resourceKey, type Finding, type FindingKey } from './finding';
import { decide, resolveGone, type Decision, type Observation, type TransitionKind } from './lifecycle';
import { shouldNotify, type FindingNotice, type NotificationChannel, type NotifyPolicy } from './notifier';
import { FindingConflictError, type FindingStore, type ResourceRef, type StoredFinding, type WriteExpectation } from './store';
import { findSuppression, type CompiledSuppression } from './suppressions';

/**
 * Turns observations into stored transitions and notifications: read, decide (lifecycle.ts), write on the
 * condition that nothing changed since the read, and on a conflict read and decide again. A transition that
 * wants a notice writes it as PENDING on the same record; one delivery claims it, sends it and marks it SENT.
 */

export interface RecorderOptions {
  store: FindingStore;
  channels: readonly NotificationChannel[];
  policy: NotifyPolicy;
  suppressions: readonly CompiledSuppression[];
  /** Write lastSeenAt when a failure is seen again (events: yes; scheduled evaluations and scans: no). */
  persistTouches: boolean;
  now?: () => Date;
  /** How long a sender holds a notice before another delivery may send it (default 5 minutes). */
  claimMs?: number;
  /** Read-decide-write rounds per observation before giving up (default 8). */
  maxAttempts?: number;
  /**
   * Called once per written transition (touches included), right after the write and before its notice is
   * sent: a notice that fails throws out of record(), but the transition is stored and a redelivery finds
   * nothing to decide, so this is where a caller reports it (telemetry) exactly once.
   */
  onTransition?: (transition: WrittenTransition) => void;
}

/** A transition as written to the store, before anyone was told. */
export interface WrittenTransition {
  kind: TransitionKind;
  finding: Finding;
  previous?: Finding;
}

export interface RecordedTransition extends WrittenTransition {
  /** True when this call sent the notice to every channel (false when none was due or another delivery sent it). */
  notified: boolean;
}

export class NotificationError extends Error {
  override readonly name = 'NotificationError';
  constructor(readonly findingId: string, readonly failures: readonly { channel: string; message: string }[]) {
    super(`notification of finding ${findingId} failed on ${failures.map((f) => `${f.channel} (${f.message})`).join(', ')}; it is retried with the delivery`);
  }
}

export class FindingContentionError extends Error {
  override readonly name = 'FindingContentionError';
  constructor(readonly key: FindingKey, attempts: number) {
    super(`finding ${key.partition} ${key.sort} kept changing during ${attempts} attempts to record it; the delivery is retried`);
  }
}

export class FindingRecorder {
  private readonly now: () => Date;
  private readonly claimMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly options: RecorderOptions) {
    this.now = options.now ?? (() => new Date());
    this.claimMs = options.claimMs ?? 5 * 60_000;
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  /** Records each observation; returns the transitions that were written. */
  async record(observations: readonly Observation[]): Promise<RecordedTransition[]> {
    const out: RecordedTransition[] = [];
    // Sequential on purpose: observations of one event often touch one record, and order matters there.
    for (const observation of observations) {
      const recorded = await this.apply(findingKey({ ...observation, resourceId: observation.resource.id }), (existing) =>
        decide(existing, observation, this.suppressionFor(observation)),
      );
      if (recorded) out.push(recorded);
    }
    return out;
  }

  /**
   * A full evaluation of a resource: `failures` is everything that fails now. Stored findings the evaluation
   * `covers` (the rules it ran; for a scan, the image it scanned) that are no longer among the failures pass,
   * resolved with `resolvedReason`.
   */
  async reconcile(args: { resource: ResourceRef; covers: (finding: Finding) => boolean; failures: readonly Observation[]; observedAt: string; resolvedReason: string; source: Observation['source'] }): Promise<RecordedTransition[]> {
    const failing = new Set(args.failures.map((o) => findingKey({ ...o, resourceId: o.resource.id }).sort));
    const stored = await this.options.store.listByResource(resourceKey(args.resource.cloud, args.resource.scope, args.resource.resourceId));
    const passes: Observation[] = stored
      .map((s) => s.finding)
      .filter((f) => args.covers(f) && f.state !== 'RESOLVED' && !failing.has(findingKey(identityOf(f)).sort))
      .map((f) => ({ ...findingAsObservation(f), outcome: 'pass', observedAt: args.observedAt, resolvedReason: args.resolvedReason, source: args.source }));
    return this.record([...args.failures, ...passes]);
  }

  /** Resolves every open finding of a resource that no longer exists. */
  async resolveResource(resource: ResourceRef, at: string, reason = 'resource deleted'): Promise<RecordedTransition[]> {
    const stored = await this.options.store.listByResource(resourceKey(resource.cloud, resource.scope, resource.resourceId));
    const out: RecordedTransition[] = [];
    for (const record of stored) {
      if (record.finding.state === 'RESOLVED') continue;
      const recorded = await this.apply(findingKey(identityOf(record.finding)), (existing) => (existing ? resolveGone(existing, at, reason) : { kind: 'none', reason: 'pass-without-finding' }));
      if (recorded) out.push(recorded);
    }
    return out;
  }

  private suppressionFor(observation: Observation) {
    return findSuppression(this.options.suppressions, observation.ruleId, observation.cloud, observation.resource.id, new Date(observation.observedAt));
  }

  private async apply(key: FindingKey, decideOn: (existing: Finding | undefined) => Decision): Promise<RecordedTransition | undefined> {
    const { store } = this.options;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const current = await store.get(key);
      const decision = decideOn(current?.finding);
      if (decision.kind === 'none' || (decision.kind === 'touch' && !this.options.persistTouches)) {
        // A redelivery finds the notice of an earlier transition still unsent (its sender died or a channel failed).
        if (current?.notification?.state === 'PENDING') await this.deliver(key, current);
        return undefined;
      }
      const version = (current?.version ?? 0) + 1;
      const notify = decision.kind !== 'touch' && shouldNotify(decision.kind, decision.finding, this.options.policy);
      const record: StoredFinding = { finding: decision.finding, version };
      if (notify) record.notification = { version, state: 'PENDING', transition: decision.kind };
      else if (current?.notification?.state === 'PENDING' && decision.kind === 'touch') record.notification = current.notification;
      const expected: WriteExpectation = current ? { version: current.version } : { absent: true };
      try {
        await store.put(key, record, expected);
      } catch (error) {
        if (error instanceof FindingConflictError) continue;
        throw error;
      }
      this.options.onTransition?.({ kind: decision.kind, finding: decision.finding, ...(decision.previous ? { previous: decision.previous } : {}) });
      const notified = record.notification?.state === 'PENDING' ? await this.deliver(key, record) : false;
      return { kind: decision.kind, finding: decision.finding, ...(decision.previous ? { previous: decision.previous } : {}), notified: notified && notify };
    }
    throw new FindingContentionError(key, this.maxAttempts);
  }

  /** Sends a PENDING notice once: claim, send to the channels that have not taken it, settle. */
  private async deliver(key: FindingKey, record: StoredFinding): Promise<boolean> {
    const pending = record.notification;
    if (!pending || pending.state !== 'PENDING') return false;
    const now = this.now();
    if (!(await this.options.store.claimNotification(key, pending.version, now, new Date(now.getTime() + this.claimMs)))) return false;
    const already = new Set(pending.sentChannels ?? []);
    const notice: FindingNotice = { transition: pending.transition as TransitionKind, finding: record.finding };
    const results = await Promise.allSettled(
      this.options.channels.filter((c) => !already.has(c.name)).map(async (channel) => (await channel.send(notice), channel.name)),
    );
    const sent = [...already];
    const failures: { channel: string; message: string }[] = [];
    const pendingChannels = this.options.channels.filter((c) => !already.has(c.name));
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') sent.push(result.value);
      else failures.push({ channel: pendingChannels[index]!.name, message: result.reason instanceof Error ? result.reason.message : String(result.reason) });
    });
    await this.options.store.settleNotification(key, pending.version, { sentChannels: sent, done: failures.length === 0, at: this.now() });
    if (failures.length > 0) throw new NotificationError(record.finding.id, failures);
    return true;
  }
}

/** The observation a stored finding stands for (to pass or re-fail it). */
export function findingAsObservation(finding: Finding): Omit<Observation, 'outcome' | 'observedAt'> {
  return {
    ruleId: finding.ruleId,
    category: finding.category,
    severity: finding.severity,
    title: finding.title,
    cloud: finding.cloud,
    scope: finding.scope,
    resource: finding.resource,
    subject: finding.subject,
    evidence: finding.evidence,
    remediation: finding.remediation,
    source: finding.source,
    ...(finding.vulnerability ? { vulnerability: finding.vulnerability } : {}),
  };
}
