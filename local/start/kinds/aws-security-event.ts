/**
 * AWS security events: CloudTrail calls a security-event detector handles (AuthorizeSecurityGroupIngress,
 * PutBucketPolicy, StopLogging, ConsoleLogin...), as EventBridge envelopes or raw records (one, an array, a
 * trail file). Routed through the rules the stack renders from the detector registry (so a failed call is
 * dropped by the rule, as in the cloud), then handed to the real security-events handler as SQS batches of
 * up to 10. Every finding the replay opened, resolved or saw again is reported with its state afterwards,
 * and every email as `.eml` / `.html` in the run folder.
 */
import type { SecurityEventOutcome } from '../../../functions/aws/security-events/pipeline';
import type { StoredFinding } from '../../../shared/findings/store';
import { evaluatePattern, validatePattern, type EventPattern } from '../../../shared/event-pattern/match';
import { DEFAULT_REGISTRY, securityEventPatterns } from '../../../shared/rules/aws';
import { SEVERITIES } from '../../../shared/severity';
import type { ItemOfKind } from '../../replay/detect';
import type { LocalAwsStack } from '../../stack/aws-stack';
import { mailBaseName } from '../../stack/mail-outbox';
import type { RunRecorder } from '../recorder';
import type { EventRef, FindingRow } from '../summary';
import { cloudTrailEnvelope } from './aws-routing';
import type { Delivery, Replayer, Route } from './kind';

const BATCH_SIZE = 10;
export const LOCAL_SECURITY_RULE_NAME = 'shipscan-local-security';
const HANDLER = 'security-events';

type Json = Record<string, unknown>;

let patterns: EventPattern[] | undefined;

/** The rules' patterns as a stack with the default findings config deploys them (every detector enabled). */
export function localSecurityPatterns(): EventPattern[] {
  patterns ??= securityEventPatterns(DEFAULT_REGISTRY).map((rendered) => {
    // Checked as EventBridge would check the rule, which also types it for the evaluator.
    const pattern: unknown = rendered;
    validatePattern(pattern);
    return pattern;
  });
  return patterns;
}

function recordOf(item: ItemOfKind<'aws-security-event'>): Json {
  return (item.shape === 'eventbridge' ? item.event.detail : item.event) as Json;
}

/**
 * Delivered when one of the rules matches the envelope. Otherwise the reason is the one of the rule that
 * watches the call's service (the registry splits its calls over several rules by service), so it names
 * the field that stopped the event (`detail.errorCode`...), not a service the event never was.
 */
export function routeAwsSecurityEvent(item: ItemOfKind<'aws-security-event'>, rules: readonly EventPattern[] = localSecurityPatterns()): Route {
  const envelope = item.shape === 'cloudtrail' ? cloudTrailEnvelope(item.event) : item.event;
  let reason: string | undefined;
  for (const [index, pattern] of rules.entries()) {
    const verdict = evaluatePattern(pattern, envelope);
    if (verdict.matched) return { deliver: true, body: envelope };
    const sources = pattern.source;
    const watchesSource = Array.isArray(sources) && sources.includes(envelope.source as string);
    if (reason === undefined || watchesSource) reason = `${rules.length > 1 ? `part ${index + 1}: ` : ''}${verdict.reason}`;
    if (watchesSource) break;
  }
  return { deliver: false, by: `EventBridge rule ${LOCAL_SECURITY_RULE_NAME}`, reason: reason ?? 'no rule' };
}

/** `AuthorizeSecurityGroupIngress by christophe (032092706103, us-east-1)`. */
export function awsSecurityEventLabel(item: ItemOfKind<'aws-security-event'>): string {
  const record = recordOf(item);
  const identity = (record.userIdentity ?? {}) as Json;
  const actor = typeof identity.userName === 'string' ? identity.userName : typeof identity.arn === 'string' ? identity.arn.split(/[/:]/).pop() : typeof identity.type === 'string' ? identity.type : undefined;
  const account = record.recipientAccountId ?? item.event.account;
  const region = record.awsRegion ?? item.event.region;
  const where = [account, region].filter((part) => typeof part === 'string').join(', ');
  return [String(record.eventName ?? '?'), actor ? `by ${actor}` : undefined, where ? `(${where})` : undefined].filter(Boolean).join(' ');
}

/** One record's outcome as the run's verdict on its event. */
function settle(recorder: RunRecorder, ref: EventRef, outcome: SecurityEventOutcome): void {
  if (outcome.kind === 'unprocessable') {
    recorder.failed(ref, `unprocessable (${outcome.reasons.join(', ')}): ${outcome.problems.slice(0, 3).join('; ')}; recorded at ${outcome.location}, not retried`);
    return;
  }
  if (outcome.detectorErrors.length > 0) {
    // The cloud lets such an event go (DetectorErrors alarms); a replay says which detector broke.
    recorder.failed(ref, `${outcome.detectorErrors.map((e) => e.message).join('; ')} (counted in DetectorErrors; the other detectors were recorded)`);
    return;
  }
  if (outcome.events.length > 0 && outcome.events.every((e) => e.skipped === 'failed-call')) {
    recorder.ignored(ref, HANDLER, 'a failed call (errorCode): it changed nothing');
    return;
  }
  recorder.processed(ref);
}

const RANK = new Map<string, number>(SEVERITIES.map((severity, index) => [severity, index]));

function findingRow(stored: StoredFinding): FindingRow {
  const f = stored.finding;
  return { cloud: 'aws', ruleId: f.ruleId, category: f.category, severity: f.severity, state: f.state, resourceId: f.resource.id, ...(f.source.actor ? { actor: f.source.actor } : {}) };
}

/**
 * Reports the findings the replay wrote (new, changed or seen again, with their state now) and the emails
 * sent meanwhile, each to be written to the run folder as `mail/<name>.eml` and `.html`.
 */
function reportChanges(aws: LocalAwsStack, recorder: RunRecorder, before: ReadonlyMap<string, string>, after: readonly StoredFinding[], mailsBefore: number): void {
  const changed = after.filter((s) => before.get(s.finding.id) !== JSON.stringify(s.finding));
  changed.sort((a, b) => (RANK.get(a.finding.severity) ?? 99) - (RANK.get(b.finding.severity) ?? 99) || a.finding.ruleId.localeCompare(b.finding.ruleId) || a.finding.resource.id.localeCompare(b.finding.resource.id));
  for (const stored of changed) recorder.finding(findingRow(stored));
  for (const { mail, channel } of aws.mail.mails.slice(mailsBefore)) {
    const base = mailBaseName(mail);
    recorder.email(
      { cloud: 'aws', channel, to: [...mail.envelope.to], subject: mail.subject, findingId: mail.findingId, transition: mail.transition, eml: `${base}.eml`, html: `${base}.html` },
      { eml: mail.raw.toString('utf8'), html: mail.html },
    );
  }
}

function snapshot(findings: readonly StoredFinding[]): Map<string, string> {
  return new Map(findings.map((s) => [s.finding.id, JSON.stringify(s.finding)]));
}

export const awsSecurityEvents: Replayer<'aws-security-event'> = {
  kind: 'aws-security-event',
  cloud: 'aws',
  label: awsSecurityEventLabel,
  route: (item) => routeAwsSecurityEvent(item),
  async replay(deliveries: Delivery<'aws-security-event'>[], { stack, recorder }) {
    const aws = stack.aws;
    if (!aws) throw new Error('the AWS half of the embedded stack is not running');
    const before = snapshot(await aws.findings());
    const mailsBefore = aws.mail.mails.length;
    for (let start = 0; start < deliveries.length; start += BATCH_SIZE) {
      const batch = deliveries.slice(start, start + BATCH_SIZE);
      const { records, outcomes, response } = await aws.invokeSecurityEvents(batch.map((d) => d.body));
      const byMessage = new Map(records.map((record, index) => [record.messageId, batch[index]!]));
      for (const { record, outcome } of outcomes) settle(recorder, byMessage.get(record.messageId)!.ref, outcome);
      for (const failure of response.batchItemFailures) {
        const input = byMessage.get(failure.itemIdentifier);
        if (input && !recorder.isSettled(input.ref)) recorder.failed(input.ref, 'the security-events handler threw before reaching an outcome (SQS would retry it, then the DLQ keeps it)');
      }
    }
    reportChanges(aws, recorder, before, await aws.findings(), mailsBefore);
  },
};
