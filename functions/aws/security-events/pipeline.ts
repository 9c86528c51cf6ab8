import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Observation } from '../../../shared/findings/lifecycle';
import type { FindingRecorder, RecordedTransition } from '../../../shared/findings/recorder';
import type { AllowLists } from '../../../shared/rules/allow-lists';
import {
  CloudTrailInputError,
  eventContext,
  evaluateCloudTrail,
  parseCloudTrailMessage,
  toObservation,
  type DetectorError,
  type DetectorRegistry,
  type EvaluationSkip,
  type ParsedCloudTrailEvent,
} from '../../../shared/rules/aws';
import { count, SECURITY_METRICS } from './metrics';
import { unprocessableRecord, type UnprocessableReason, type UnprocessableSink } from './unprocessable';

/**
 * The security-events function's core, per queue message: parse (EventBridge envelope, raw record, trail
 * file), route each event to its detectors, turn detections into observations, record them (conditional
 * writes, notification outbox), and give the real-time posture path its turn. One event may yield several
 * findings; one message may hold several events. The outcome says what happened; what throws is what a
 * retry can fix (the store, a channel, the secret, S3), and the handler reports that record as failed.
 */

export interface PostureHookContext {
  /** The recorder of this invocation (same store, channels and policy as the activity findings). */
  recorder: FindingRecorder;
  messageId: string;
  logger: Logger;
}

/**
 * Where the real-time posture path plugs in: called for every event a detector handled (describe the
 * resource, upsert the inventory, evaluate its posture rules, record through `ctx.recorder`). It returns the
 * transitions it recorded, which are counted and reported like the detectors'. It throws what a retry can
 * fix. The default does nothing.
 */
export type PostureHook = (event: ParsedCloudTrailEvent, ctx: PostureHookContext) => Promise<RecordedTransition[]>;

export const noPostureHook: PostureHook = async () => [];

export interface EventReport {
  path: string;
  eventSource: string;
  eventName: string;
  eventId?: string;
  account: string;
  region: string;
  /** Detections the detectors returned (before the lifecycle decides what changes). */
  detections: number;
  skipped?: EvaluationSkip;
}

export type SecurityEventOutcome =
  | {
      kind: 'processed';
      events: EventReport[];
      transitions: RecordedTransition[];
      detectorErrors: DetectorError[];
      /** Parts of the message that could not be used, recorded at `location`. */
      unprocessable?: { reasons: UnprocessableReason[]; problems: string[]; location: string };
    }
  | { kind: 'unprocessable'; reasons: UnprocessableReason[]; problems: string[]; events: EventReport[]; location: string };

export interface MessageMeta {
  messageId: string;
  receiveCount: number;
}

export interface SecurityEventPipelineDeps {
  registry: DetectorRegistry;
  allowLists: AllowLists;
  /**
   * The recorder, built once its channels' secrets are read (first call only). FindingsOpened / Resolved are
   * counted by its onTransition (countTransitions), so a transition whose notice failed is counted too.
   */
  recorder: () => Promise<FindingRecorder>;
  unprocessable: UnprocessableSink;
  logger: Logger;
  metrics: Metrics;
  postureHook?: PostureHook;
  now?: () => Date;
}

/** Detector messages can quote what a detector threw on: bounded, one line. */
function bounded(message: string, max = 300): string {
  const line = message.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function reportOf(event: ParsedCloudTrailEvent, detections: number, skipped?: EvaluationSkip): EventReport {
  const report: EventReport = { path: event.path, eventSource: event.record.eventSource, eventName: event.record.eventName, account: event.account, region: event.region, detections };
  if (event.record.eventID) report.eventId = event.record.eventID;
  if (skipped) report.skipped = skipped;
  return report;
}

export class SecurityEventPipeline {
  private readonly now: () => Date;

  constructor(private readonly deps: SecurityEventPipelineDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async process(body: string, meta: MessageMeta): Promise<SecurityEventOutcome> {
    const { logger, metrics } = this.deps;
    const input = parseCloudTrailMessage(body);
    const problems: CloudTrailInputError[] = [...input.errors];
    if (input.events.length === 0 && problems.length === 0) problems.push(new CloudTrailInputError('', 'at least one CloudTrail event', 'none (an empty list or trail file)'));

    const reports: EventReport[] = [];
    const unknown: ParsedCloudTrailEvent[] = [];
    const handled: ParsedCloudTrailEvent[] = [];
    const observations: Observation[] = [];
    const detectorErrors: DetectorError[] = [];
    for (const event of input.events) {
      const ctx = eventContext(event, this.deps.allowLists);
      const result = evaluateCloudTrail(event.record, ctx, { registry: this.deps.registry });
      reports.push(reportOf(event, result.detections.length, result.skipped));
      if (result.skipped === 'no-detector') {
        unknown.push(event);
        continue;
      }
      if (result.skipped === 'failed-call') {
        // The rule leaves failed calls out (errorCode absent); one arriving anyway (a replay) changed nothing.
        logger.debug('failed call: nothing to detect', { eventName: event.record.eventName, eventId: event.record.eventID });
        continue;
      }
      handled.push(event);
      for (const error of result.errors) {
        detectorErrors.push(error);
        logger.error('detector failed; the other detectors of the event are recorded', { detectorId: error.detectorId, eventName: error.eventName, eventId: error.eventId, reason: bounded(error.message) });
      }
      for (const { detector, detection } of result.detections) observations.push(toObservation(detector, detection, event.record, ctx));
    }
    count(metrics, SECURITY_METRICS.eventsEvaluated, handled.length);
    count(metrics, SECURITY_METRICS.detectorErrors, detectorErrors.length);

    const transitions: RecordedTransition[] = [];
    const hook = this.deps.postureHook;
    if (observations.length > 0 || (hook && handled.length > 0)) {
      const recorder = await this.deps.recorder();
      if (observations.length > 0) transitions.push(...(await recorder.record(observations)));
      if (hook) for (const event of handled) transitions.push(...(await hook(event, { recorder, messageId: meta.messageId, logger })));
    }

    let unprocessable: { reasons: UnprocessableReason[]; problems: string[]; location: string } | undefined;
    if (problems.length > 0 || unknown.length > 0) {
      count(metrics, SECURITY_METRICS.malformedEvents, problems.length);
      count(metrics, SECURITY_METRICS.unknownEvents, unknown.length);
      const record = unprocessableRecord({ messageId: meta.messageId, receivedAt: this.now(), receiveCount: meta.receiveCount, body, problems, unknown });
      const location = await this.deps.unprocessable.put(record);
      const texts = [...problems.map((p) => p.message), ...unknown.map((e) => `${e.path || 'event'}: no detector handles ${e.record.eventSource} ${e.record.eventName}`)].map((m) => bounded(m));
      unprocessable = { reasons: record.reasons, problems: texts, location };
      // Recorded, not retried: another delivery of the same message cannot read it any better.
      logger.warn('unprocessable security event recorded; the message is not retried', { reasons: record.reasons, problems: texts.slice(0, 5), location, receiveCount: meta.receiveCount });
    }

    logger.info('security event processed', {
      events: reports.map((r) => ({ eventSource: r.eventSource, eventName: r.eventName, eventId: r.eventId, account: r.account, region: r.region, detections: r.detections, skipped: r.skipped })),
      transitions: transitions.map((t) => ({ kind: t.kind, ruleId: t.finding.ruleId, severity: t.finding.severity, findingId: t.finding.id, notified: t.notified })),
    });
    if (handled.length === 0 && unprocessable) return { kind: 'unprocessable', reasons: unprocessable.reasons, problems: unprocessable.problems, events: reports, location: unprocessable.location };
    return { kind: 'processed', events: reports, transitions, detectorErrors, ...(unprocessable ? { unprocessable } : {}) };
  }
}
