import type { InvocationContext } from '@azure/functions';
import { decodeEvents, MessageFormatError } from '../../../shared/event-grid';
import type { FindingSource } from '../../../shared/findings/finding';
import type { FindingRecorder, RecordedTransition } from '../../../shared/findings/recorder';
import type { AllowLists } from '../../../shared/rules/allow-lists';
import {
  evaluateArmResource,
  findingResourceOf,
  resourceKeyOf,
  routeArmEvent,
  scopeOf,
  type ArmEventOutcome,
  type AzureRuleRegistry,
} from '../../../shared/rules/azure';
import type { ArmActivity } from '../../../shared/rules/types';
import { sha256 } from '../keys';
import { createLogger, type Logger } from '../log';
import { ReasonTally } from '../reason-tally';
import { rejectedBody, rejectedEvent } from '../rejected-input';
import type { ScanStore } from '../scan-store';
import type { Telemetry } from '../telemetry';
import { COMPONENTS, FUNCTION_NAMES, SECURITY_EVENT, SECURITY_EVENT_OUTCOMES, type SecurityEventDimension } from '../telemetry-names';
import type { ArmResourceReader } from './arm-resource';

/**
 * onSecurityEvent: the ARM events of the security-event subscriptions (the registry's operation names),
 * turned into findings. Per event the rule registry says what to do (shared/rules/azure routeArmEvent):
 * - evaluate: GET the resource from ARM with the rule's api-version and reconcile the findings of the rules
 *   that looked: what fails is opened (or stays open), what no longer fails is resolved (`fixed`). A 404 on
 *   that GET means the resource is gone since the write: its findings are resolved (`resource deleted`);
 * - resolve: a delete: the resource's findings are resolved (`resource deleted`);
 * - detection: the call is the signal itself (a diagnostic setting deleted): recorded as it is.
 * Malformed and ignored events are recorded once per message (a record and one telemetry event for all of
 * them) and the message succeeds: no retry can fix them. A rule that throws is a bug: counted, logged, not
 * retried. A failure of ARM (other than 404), of storage or of a notification channel throws, so the queue
 * delivers the message again (and moves it to the poison queue after maxDequeueCount deliveries); the
 * recorder's conditional writes make every redelivery change nothing twice and notify nothing twice.
 */

export interface SecurityEventDeps {
  arm: ArmResourceReader;
  recorder: FindingRecorder;
  /** Where malformed messages and given-up events are recorded (`<results>/errors/...`). */
  errors: Pick<ScanStore, 'saveErrorRecord'>;
  /** Creates what the handler writes to, once per instance (the infrastructure creates it in Azure). */
  ensure: () => Promise<void>;
  telemetry: Telemetry;
  allowLists: AllowLists;
  /** `findings.disabledRules`: never evaluated, never recorded. */
  disabledRules: readonly string[];
  maxDequeueCount: number;
  /** Named in the records of malformed messages, beside the deployment queue's. */
  queueName?: string;
  registry?: AzureRuleRegistry;
  now?: () => Date;
}

/** What became of one routed outcome of an event (returned for tests and the local run). */
export interface SecurityEventResult {
  eventId?: string;
  outcome: (typeof SECURITY_EVENT_OUTCOMES)[keyof typeof SECURITY_EVENT_OUTCOMES];
  operationName?: string;
  resourceId?: string;
  ruleIds?: string[];
  reason?: string;
  /** Transitions written (open, resolve...; touches not counted). */
  transitions: number;
}

export interface SecurityEventOutcome {
  events: SecurityEventResult[];
}

function dequeueCountOf(context: InvocationContext): number {
  const raw = (context.triggerMetadata as Record<string, unknown> | undefined)?.dequeueCount;
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

function messageIdOf(context: InvocationContext): string {
  const raw = (context.triggerMetadata as Record<string, unknown> | undefined)?.id;
  return typeof raw === 'string' && raw ? raw : context.invocationId;
}

/** An id as part of a blob name: as it is when it is a plain name, else its hash. */
function recordName(id: string): string {
  return /^[A-Za-z0-9._-]{1,128}$/.test(id) ? id : sha256(id).slice(0, 32);
}

function sourceOf(event: ArmActivity): FindingSource {
  return { trigger: 'event', eventId: event.id, eventName: event.operationName, ...(event.actor ? { actor: event.actor } : {}), ...(event.sourceIp ? { sourceIp: event.sourceIp } : {}) };
}

/** Transitions that change what a person sees; a touch (seen again) is not one. */
function changes(transitions: readonly RecordedTransition[]): number {
  return transitions.filter((t) => t.kind !== 'touch').length;
}

/** Malformed events of one message whose text a record keeps, and how many characters of each. */
const SAMPLE_EVENTS = 10;
const SAMPLE_EVENT_CHARS = 2048;
const SAMPLE_TEXT_CHARS = 300;
const clip = (text: string) => (text.length > SAMPLE_TEXT_CHARS ? `${text.slice(0, SAMPLE_TEXT_CHARS)}...` : text);

/** The outcomes of one message that lead nowhere, tallied so they are recorded once for the message. */
class Rejections {
  readonly ignored = new ReasonTally();
  readonly malformed = new ReasonTally();
  readonly detectorErrors = new ReasonTally();
  readonly sample: { index: number; id?: string; reason: string; event: string }[] = [];

  malformedEvent(index: number, raw: unknown, reason: string, id?: string): void {
    this.malformed.add(reason);
    if (this.sample.length < SAMPLE_EVENTS) this.sample.push({ index, ...(id !== undefined ? { id: clip(id) } : {}), reason: clip(reason), event: rejectedEvent(raw, SAMPLE_EVENT_CHARS) });
  }
}

export function createOnSecurityEvent(deps: SecurityEventDeps) {
  const now = deps.now ?? (() => new Date());
  const disabled = new Set(deps.disabledRules);
  const queue = deps.queueName ?? 'security-events';
  const event = (dimensions: Partial<Record<SecurityEventDimension, string | number>>) => deps.telemetry.event(SECURITY_EVENT, dimensions);

  return async function onSecurityEvent(message: unknown, context: InvocationContext): Promise<SecurityEventOutcome> {
    const dequeueCount = dequeueCountOf(context);
    const messageId = messageIdOf(context);
    const log = createLogger(context, { fn: FUNCTION_NAMES.onSecurityEvent, invocationId: context.invocationId, messageId, dequeueCount });
    const lastAttempt = dequeueCount >= deps.maxDequeueCount;
    const outcome: SecurityEventOutcome = { events: [] };
    await deps.ensure();

    let raws: unknown[];
    try {
      raws = decodeEvents(message);
    } catch (error) {
      if (!(error instanceof MessageFormatError)) throw error;
      const path = await deps.errors.saveErrorRecord('messages', messageId, { reason: error.message, messageId, queue, body: rejectedBody(message), at: now().toISOString() });
      log.warn('malformed security-event message recorded', { reason: error.message, blobPath: path });
      event({ Outcome: SECURITY_EVENT_OUTCOMES.malformed, Count: 1, Reason: error.message, MessageId: messageId });
      outcome.events.push({ outcome: SECURITY_EVENT_OUTCOMES.malformed, reason: error.message, transitions: 0 });
      return outcome;
    }

    const rejections = new Rejections();
    const failures: unknown[] = [];
    for (const [index, raw] of raws.entries()) {
      for (const routed of routeArmEvent(raw, { allowLists: deps.allowLists, ...(deps.registry ? { registry: deps.registry } : {}) })) {
        if (routed.kind === 'malformed') {
          rejections.malformedEvent(index, raw, routed.reason, routed.eventId);
          outcome.events.push({ ...(routed.eventId ? { eventId: routed.eventId } : {}), outcome: SECURITY_EVENT_OUTCOMES.malformed, reason: routed.reason, transitions: 0 });
          continue;
        }
        if (routed.kind === 'ignored') {
          rejections.ignored.add(routed.reason);
          outcome.events.push({ ...(routed.eventId ? { eventId: routed.eventId } : {}), outcome: SECURITY_EVENT_OUTCOMES.ignored, reason: routed.reason, transitions: 0 });
          continue;
        }
        if (routed.kind === 'detector-error') {
          rejections.detectorErrors.add(`${routed.ruleId}: ${routed.message}`);
          log.error('detector threw; counted, not retried', { ruleId: routed.ruleId, eventId: routed.event.id, error: routed.message });
          outcome.events.push({ eventId: routed.event.id, outcome: SECURITY_EVENT_OUTCOMES.detectorError, ruleIds: [routed.ruleId], reason: routed.message, transitions: 0 });
          continue;
        }
        const elog = log.child({ eventId: routed.event.id, operationName: routed.event.operationName });
        try {
          outcome.events.push(await handle(routed, index, raw, elog, rejections, messageId));
        } catch (error) {
          elog.error('security event failed', { error, willRetry: !lastAttempt });
          deps.telemetry.exception(error, COMPONENTS.onSecurityEvent, { EventId: routed.event.id, DequeueCount: dequeueCount, ...resourceOf(routed) });
          if (lastAttempt) {
            // The message goes to the poison queue next; leave a record a person can find first.
            await deps.errors.saveErrorRecord('events', `security-${sha256(`${messageId}|${routed.event.id}|${routed.kind}`).slice(0, 16)}-${recordName(routed.event.id)}`, {
              reason: `gave up after ${dequeueCount} deliveries: ${(error as Error).message ?? String(error)}`,
              eventId: routed.event.id,
              operationName: routed.event.operationName,
              ...resourceOf(routed),
              messageId,
              at: now().toISOString(),
            });
          }
          failures.push(error);
        }
      }
    }
    await recordRejections(rejections, raws.length, messageId, log);
    // Throwing hands the message back to the queue (or, on the last delivery, to the poison queue).
    if (failures.length > 0) throw failures[0];
    return outcome;
  };

  function resourceOf(routed: Extract<ArmEventOutcome, { kind: 'evaluate' | 'resolve' | 'detection' }>): { ResourceId: string } {
    return { ResourceId: routed.kind === 'evaluate' ? routed.resourceId : routed.kind === 'resolve' ? routed.resource.id : routed.observation.resource.id };
  }

  async function handle(
    routed: Extract<ArmEventOutcome, { kind: 'evaluate' | 'resolve' | 'detection' }>,
    index: number,
    raw: unknown,
    log: Logger,
    rejections: Rejections,
    messageId: string,
  ): Promise<SecurityEventResult> {
    const { event: activity } = routed;
    const base = { eventId: activity.id, operationName: activity.operationName };
    if (routed.kind === 'detection') {
      if (disabled.has(routed.ruleId)) {
        rejections.ignored.add(`rule ${routed.ruleId} disabled`);
        return { ...base, outcome: SECURITY_EVENT_OUTCOMES.ignored, ruleIds: [routed.ruleId], reason: `rule ${routed.ruleId} disabled`, transitions: 0 };
      }
      const transitions = await deps.recorder.record([routed.observation]);
      const resourceId = routed.observation.resource.id;
      log.info('activity detected', { ruleId: routed.ruleId, resourceId, transitions: changes(transitions) });
      event({ Outcome: SECURITY_EVENT_OUTCOMES.detected, OperationName: activity.operationName, ResourceId: resourceId, RuleIds: routed.ruleId, Count: 1, MessageId: messageId });
      return { ...base, outcome: SECURITY_EVENT_OUTCOMES.detected, resourceId, ruleIds: [routed.ruleId], transitions: changes(transitions) };
    }
    if (routed.kind === 'resolve') {
      const transitions = await deps.recorder.resolveResource({ cloud: 'azure', scope: routed.scope, resourceId: routed.resource.id }, routed.observedAt, routed.reason);
      log.info('resource deleted; its findings resolved', { resourceId: routed.resource.id, transitions: changes(transitions) });
      event({ Outcome: SECURITY_EVENT_OUTCOMES.resourceGone, OperationName: activity.operationName, ResourceId: routed.resource.id, Reason: routed.reason, Count: 1, MessageId: messageId });
      return { ...base, outcome: SECURITY_EVENT_OUTCOMES.resourceGone, resourceId: routed.resource.id, reason: routed.reason, transitions: changes(transitions) };
    }

    const ruleIds = routed.ruleIds.filter((id) => !disabled.has(id));
    if (ruleIds.length === 0) {
      const reason = `rules ${routed.ruleIds.join(', ')} disabled`;
      rejections.ignored.add(reason);
      return { ...base, outcome: SECURITY_EVENT_OUTCOMES.ignored, resourceId: routed.resourceId, ruleIds: routed.ruleIds, reason, transitions: 0 };
    }
    const read = await deps.arm.get(routed.resourceId, routed.apiVersion);
    if (read.kind === 'gone') {
      // Deleted since the write (or never readable by this identity's scope): nothing of it can fail any more.
      const reason = 'resource deleted';
      const resource = findingResourceOf({ id: routed.resourceId });
      const transitions = await deps.recorder.resolveResource({ cloud: 'azure', scope: scopeOf(routed.resourceId, { trigger: 'event', event: activity }), resourceId: resource.id }, activity.eventTime, reason);
      log.info('resource gone when read after the write; its findings resolved', { resourceId: routed.resourceId, status: read.status, transitions: changes(transitions) });
      event({ Outcome: SECURITY_EVENT_OUTCOMES.resourceGone, OperationName: activity.operationName, ResourceId: routed.resourceId, Reason: `ARM answered ${read.status} to the GET after the write`, Count: 1, MessageId: messageId });
      return { ...base, outcome: SECURITY_EVENT_OUTCOMES.resourceGone, resourceId: routed.resourceId, ruleIds, reason: `${reason} (ARM answered ${read.status})`, transitions: changes(transitions) };
    }
    const evaluated = evaluateArmResource(read.body, { allowLists: deps.allowLists, origin: { trigger: 'event', event: activity }, ruleIds, ...(deps.registry ? { registry: deps.registry } : {}) });
    if (evaluated.kind !== 'evaluated' || evaluated.resource.id !== resourceKeyOf(routed.resourceId)) {
      // ARM answered with something the rules cannot read, or about another resource: no retry changes that.
      const reason =
        evaluated.kind !== 'evaluated'
          ? `ARM GET ${routed.resourceId}: ${evaluated.reason}`
          : `ARM GET ${routed.resourceId} answered with resource ${evaluated.resource.id}`;
      rejections.malformedEvent(index, raw, reason, activity.id);
      log.warn('ARM answered with a body the rules cannot evaluate; recorded', { resourceId: routed.resourceId, reason });
      return { ...base, outcome: SECURITY_EVENT_OUTCOMES.malformed, resourceId: routed.resourceId, ruleIds, reason, transitions: 0 };
    }
    for (const result of evaluated.results) if (result.status === 'error') rejections.detectorErrors.add(`${result.ruleId}: ${result.reason ?? 'threw'}`);
    const covered = new Set(evaluated.evaluatedRuleIds);
    const transitions = await deps.recorder.reconcile({
      resource: { cloud: 'azure', scope: evaluated.scope, resourceId: evaluated.resource.id },
      covers: (finding) => covered.has(finding.ruleId),
      failures: evaluated.observations,
      observedAt: activity.eventTime,
      resolvedReason: 'fixed',
      source: sourceOf(activity),
    });
    log.info('resource evaluated', { resourceId: evaluated.resource.id, rules: evaluated.evaluatedRuleIds, failures: evaluated.observations.length, transitions: changes(transitions) });
    event({ Outcome: SECURITY_EVENT_OUTCOMES.evaluated, OperationName: activity.operationName, ResourceId: evaluated.resource.id, RuleIds: evaluated.evaluatedRuleIds.join(','), Count: 1, MessageId: messageId });
    return { ...base, outcome: SECURITY_EVENT_OUTCOMES.evaluated, resourceId: evaluated.resource.id, ruleIds: evaluated.evaluatedRuleIds, transitions: changes(transitions) };
  }

  /** Once per message, however many events it holds: the ignored, the malformed, the detector errors. */
  async function recordRejections(r: Rejections, events: number, messageId: string, log: Logger): Promise<void> {
    if (r.ignored.count > 0) {
      const reasons = r.ignored.summary();
      // Ignoring is normal (other event types, temporary deployment ids), so it is counted, not recorded.
      log.info('security events ignored', { count: r.ignored.count, reasons });
      event({ Outcome: SECURITY_EVENT_OUTCOMES.ignored, Count: r.ignored.count, Reason: reasons, MessageId: messageId });
    }
    if (r.detectorErrors.count > 0) {
      const reasons = r.detectorErrors.summary();
      event({ Outcome: SECURITY_EVENT_OUTCOMES.detectorError, Count: r.detectorErrors.count, Reason: reasons, MessageId: messageId });
    }
    if (r.malformed.count > 0) {
      const reason = `${r.malformed.count} of ${events} events malformed: ${r.malformed.summary()}`;
      const path = await deps.errors.saveErrorRecord('messages', messageId, {
        reason,
        messageId,
        queue,
        events,
        malformed: r.malformed.count,
        reasons: r.malformed.reasons(),
        ...(r.malformed.otherReasons > 0 ? { otherReasons: r.malformed.otherReasons } : {}),
        sample: r.sample,
        at: now().toISOString(),
      });
      log.warn('malformed security events recorded', { count: r.malformed.count, reason, blobPath: path });
      event({ Outcome: SECURITY_EVENT_OUTCOMES.malformed, Count: r.malformed.count, Reason: reason, MessageId: messageId });
    }
  }
}
