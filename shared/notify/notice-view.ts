import type { Severity } from '../severity';
import type { FindingNotice } from '../findings/notifier';
import type { TransitionKind } from '../findings/lifecycle';
import { asciiOneLine, oneLine, safeHttpUrl, stripControls, truncate } from './text';

/**
 * What every channel says about a notice, worked out once: email, Slack, Teams and SNS render this view, so
 * they tell the same facts in the same order. Values here are plain text (control characters removed,
 * bounded); each renderer escapes them for its own format.
 */

export interface Fact {
  label: string;
  value: string;
}

export interface NoticeView {
  brand: string;
  severity: Severity;
  transition: TransitionKind;
  /** `opened`, `reopened`, `resolved`... as used in subjects. */
  verb: string;
  /** The badge beside the severity: `OPENED`, `RESOLVED`... */
  badge: string;
  title: string;
  /** One sentence on the state change: when, how often, why resolved. */
  status: string;
  resourceName: string;
  facts: Fact[];
  /** Pretty-printed evidence JSON, bounded; undefined when there is none. */
  evidence?: string;
  remediation: { text: string; url?: string };
  findingId: string;
  ruleId: string;
  category: string;
}

export interface ViewOptions {
  /** Name in subjects and footers (default `shipscan`). */
  brand?: string;
  /** Longest evidence shown, in characters (default 6000; the stored evidence is at most 4 KiB compact). */
  maxEvidenceChars?: number;
}

const VERBS: Record<TransitionKind, string> = {
  open: 'opened',
  reopen: 'reopened',
  resolve: 'resolved',
  suppress: 'suppressed',
  unsuppress: 'active again',
  touch: 'seen again',
};

/** Longest single fact value: ARNs and ARM ids fit, a hostile 100 KB name does not. */
const MAX_FACT_CHARS = 1024;

function fact(label: string, value: string | undefined): Fact[] {
  return value === undefined || value === '' ? [] : [{ label, value: truncate(oneLine(value), MAX_FACT_CHARS) }];
}

function times(n: number): string {
  return n === 1 ? 'once' : `${n} times`;
}

/** When the transition happened, by the finding's own clock. */
export function transitionTime(notice: FindingNotice): string {
  const f = notice.finding;
  if (notice.transition === 'resolve') return f.resolvedAt ?? f.lastSeenAt;
  if (notice.transition === 'open') return f.firstSeenAt;
  return f.lastSeenAt;
}

function statusLine(notice: FindingNotice): string {
  const f = notice.finding;
  const when = transitionTime(notice);
  switch (notice.transition) {
    case 'open':
      return `Opened at ${when}.`;
    case 'reopen':
      return `Reopened at ${when} (reopened ${times(f.reopenCount)}; first seen ${f.firstSeenAt}).`;
    case 'resolve':
      return `Resolved at ${when}: ${f.resolvedReason ?? 'fixed'}.`;
    case 'suppress':
      return `Suppressed at ${when}: ${f.suppressedBy?.reason ?? 'accepted risk'}${f.suppressedBy?.expiresAt ? ` (until ${f.suppressedBy.expiresAt})` : ''}.`;
    case 'unsuppress':
      return `Active again at ${when}: the suppression no longer applies.`;
    case 'touch':
      return `Seen again at ${when}.`;
  }
}

function prettyEvidence(evidence: Record<string, unknown>, max: number): string | undefined {
  if (Object.keys(evidence).length === 0) return undefined;
  // Evidence was bounded and redacted when recorded (shared/findings/evidence.ts); this only lays it out.
  return truncate(stripControls(JSON.stringify(evidence, null, 2)), max);
}

export function describeNotice(notice: FindingNotice, options: ViewOptions = {}): NoticeView {
  const f = notice.finding;
  const brand = asciiOneLine(options.brand ?? 'shipscan') || 'shipscan';
  const src = f.source;
  const event = src.eventName ? `${src.eventName}${src.eventId ? ` (event ${src.eventId})` : ''}` : undefined;
  const trigger = src.eventName ? undefined : [src.trigger, src.scanId ? `scan ${src.scanId}` : src.runId ? `run ${src.runId}` : undefined].filter(Boolean).join(', ');
  const vuln = f.vulnerability;
  const facts: Fact[] = [
    ...fact('Resource', `${f.resource.name} (${f.resource.type})`),
    ...fact('Resource id', f.resource.id),
    ...(f.scope.account !== undefined ? fact('Account', f.scope.account) : fact('Subscription', f.scope.subscription)),
    ...fact('Region', f.scope.region),
    ...fact('Actor', src.actor),
    ...fact('Source IP', src.sourceIp),
    ...fact('Event', event),
    ...fact('Trigger', trigger),
    ...fact('When', transitionTime(notice)),
    ...fact('Subject', f.subject),
    ...(vuln
      ? [
          ...fact('CVEs', vuln.cves.join(', ')),
          ...fact('QID', vuln.qid),
          ...fact('Package', vuln.package ? `${vuln.package}${vuln.installedVersion ? ` ${vuln.installedVersion}` : ''}${vuln.fixedVersion ? ` (fixed in ${vuln.fixedVersion})` : ''}` : undefined),
          ...fact('CVSS v3', vuln.cvss3 === undefined ? undefined : String(vuln.cvss3)),
        ]
      : []),
  ];
  const url = safeHttpUrl(f.remediation.url);
  const evidence = prettyEvidence(f.evidence, options.maxEvidenceChars ?? 6000);
  return {
    brand,
    severity: f.severity,
    transition: notice.transition,
    verb: VERBS[notice.transition],
    badge: VERBS[notice.transition].toUpperCase(),
    title: truncate(oneLine(f.title), 300),
    status: oneLine(statusLine(notice)),
    resourceName: truncate(oneLine(f.resource.name), 200),
    facts,
    ...(evidence !== undefined ? { evidence } : {}),
    remediation: { text: truncate(stripControls(f.remediation.text), 4000), ...(url ? { url } : {}) },
    findingId: f.id,
    ruleId: oneLine(f.ruleId),
    category: f.category,
  };
}

/**
 * `[shipscan] CRITICAL opened: <title> (<resource name>)`: printable ASCII, one line, at most `max`
 * characters. The title gives way first, so severity, verb and resource stay readable.
 */
export function noticeSubject(view: NoticeView, max: number): string {
  const prefix = `[${view.brand}] ${view.severity} ${view.verb}: `;
  const suffix = ` (${truncate(asciiOneLine(view.resourceName), 40)})`;
  const room = max - prefix.length - suffix.length;
  const title = asciiOneLine(view.title);
  const line = room >= 12 ? `${prefix}${truncate(title, room)}${suffix}` : `${prefix}${title}`;
  return truncate(line, max);
}
