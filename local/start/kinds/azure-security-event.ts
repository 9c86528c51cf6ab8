/**
 * ARM events of an operation the security rules react to (NSG, storage account, Key Vault, role assignment
 * writes and deletes...), Event Grid or CloudEvents schema: routed through the security-event subscriptions'
 * filters (./azure-routing.ts), enqueued on `security-events` as Event Grid's Storage Queue delivery does,
 * and handled by the real onSecurityEvent, which reads each resource from the ARM stub (`--arm <file>` seeds
 * it; a resource it does not hold answers 404, which resolves its findings). Every finding is reported with
 * its state at the end of the replay, and every email as `.eml` / `.html` in the run folder.
 */
import type { SecurityEventOutcome } from '../../../functions/azure/security-events';
import { FUNCTION_NAMES, SECURITY_EVENT_OUTCOMES, SECURITY_FINDING_EVENT } from '../../../functions/azure/telemetry-names';
import type { ItemOfKind } from '../../replay/detect';
import type { LocalAzureStack } from '../../stack/azure-stack';
import { mailBaseName } from '../../stack/mail-outbox';
import type { RunRecorder } from '../recorder';
import type { EventRef, FindingRow } from '../summary';
import { routeSecurityEvent } from './azure-routing';
import type { Delivery, ReplayContext, Replayer } from './kind';

/** `ResourceWriteSuccess networkSecurityGroups/write web-nsg`: event type, operation, resource name. */
export function armEventLabel(item: { shape: 'eventgrid' | 'cloudevents'; event: Record<string, unknown> }): string {
  const type = String(item.shape === 'cloudevents' ? item.event.type : item.event.eventType).replace(/^Microsoft\.Resources\./, '');
  const data = (item.event.data ?? {}) as Record<string, unknown>;
  const operation = typeof data.operationName === 'string' ? data.operationName.replace(/^Microsoft\.[^/]+\//i, '') : undefined;
  const resource = typeof data.resourceUri === 'string' ? data.resourceUri.split('/').pop() : undefined;
  return [type, operation, resource].filter(Boolean).join(' ');
}

const DECIDED = new Set<string>([SECURITY_EVENT_OUTCOMES.evaluated, SECURITY_EVENT_OUTCOMES.resourceGone, SECURITY_EVENT_OUTCOMES.detected]);
const BROKEN = new Set<string>([SECURITY_EVENT_OUTCOMES.malformed, SECURITY_EVENT_OUTCOMES.detectorError]);

/** One message's outcomes (one event each here) as the run's verdict on the event. */
function settleOutcome(recorder: RunRecorder, ref: EventRef, result: SecurityEventOutcome): void {
  const broken = result.events.filter((e) => BROKEN.has(e.outcome));
  if (broken.length > 0) return recorder.failed(ref, broken.map((e) => `${e.outcome}${e.reason ? `: ${e.reason}` : ''}`).join('; '));
  if (result.events.some((e) => DECIDED.has(e.outcome))) return recorder.processed(ref);
  recorder.ignored(ref, FUNCTION_NAMES.onSecurityEvent, result.events.map((e) => e.reason ?? e.outcome).join('; ') || 'no rule reacts to it');
}

/** How far each stack's findings and emails were reported, so concurrent replays report each one once. */
const cursors = new WeakMap<LocalAzureStack, { events: number; mails: number }>();

/**
 * Reports the findings (one row per finding, its latest state) and the emails that appeared since the last
 * report. Emails are the outbox's copies: the run folder gets each as `mail/<name>.eml` and `.html`.
 */
export function reportFindingsAndMail(azure: LocalAzureStack, recorder: RunRecorder): void {
  const cursor = cursors.get(azure) ?? { events: 0, mails: 0 };
  cursors.set(azure, cursor);
  const events = azure.telemetry.events.slice(cursor.events);
  cursor.events += events.length;
  const latest = new Map<string, Record<string, string>>();
  for (const e of events) if (e.name === SECURITY_FINDING_EVENT && e.properties.FindingId) latest.set(e.properties.FindingId, e.properties);
  for (const p of latest.values()) {
    const row: FindingRow = {
      cloud: 'azure',
      ruleId: p.RuleId ?? '?',
      category: p.Category ?? '?',
      severity: p.Severity ?? '?',
      state: p.State ?? '?',
      resourceId: p.ResourceId ?? '?',
      ...(p.Actor ? { actor: p.Actor } : {}),
    };
    recorder.finding(row);
  }
  const mails = azure.mail.mails.slice(cursor.mails);
  cursor.mails += mails.length;
  for (const { mail, channel } of mails) {
    const base = mailBaseName(mail);
    recorder.email(
      { cloud: 'azure', channel, to: [...mail.envelope.to], subject: mail.subject, findingId: mail.findingId, transition: mail.transition, eml: `${base}.eml`, html: `${base}.html` },
      { eml: mail.raw.toString('utf8'), html: mail.html },
    );
  }
}

/** Enqueues each body on `security-events`, drains the queues, settles every event and reports what came of it. */
export async function replaySecurityEvents(deliveries: readonly { ref: EventRef; body: Record<string, unknown> }[], { stack, recorder }: Pick<ReplayContext, 'stack' | 'recorder'>): Promise<void> {
  const azure = stack.azure;
  if (!azure) throw new Error('the Azure half of the embedded stack is not running');
  const firstInvocation = azure.runtime.pump.invocations.length;
  const refs = new Map<string, EventRef>();
  for (const delivery of deliveries) refs.set(await azure.sendSecurityEvent(delivery.body), delivery.ref);
  await azure.settle();
  for (const invocation of azure.runtime.pump.invocations.slice(firstInvocation)) {
    if (invocation.function !== FUNCTION_NAMES.onSecurityEvent || !invocation.ok) continue;
    const ref = refs.get(invocation.messageId);
    if (ref && !recorder.isSettled(ref)) settleOutcome(recorder, ref, invocation.result as SecurityEventOutcome);
  }
  // Messages that never completed: poisoned after their last delivery, with the handler's error.
  for (const [messageId, ref] of refs) {
    if (recorder.isSettled(ref)) continue;
    const last = azure.runtime.pump.invocations.filter((i) => i.messageId === messageId && !i.ok).pop();
    recorder.failed(ref, last?.error ? `onSecurityEvent failed on every delivery (moved to the poison queue): ${last.error}` : 'no outcome from onSecurityEvent');
  }
  reportFindingsAndMail(azure, recorder);
}

export const azureSecurityEvents: Replayer<'azure-security-event'> = {
  kind: 'azure-security-event',
  cloud: 'azure',
  label: (item: ItemOfKind<'azure-security-event'>) => armEventLabel(item),
  route: (item) => {
    const route = routeSecurityEvent(item.event, item.shape);
    return route.deliver ? { deliver: true, body: item.event } : route;
  },
  replay: (deliveries: Delivery<'azure-security-event'>[], context) => replaySecurityEvents(deliveries, context),
};
