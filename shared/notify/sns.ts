import type { FindingNotice } from '../findings/notifier';
import { describeNotice, noticeSubject, type ViewOptions } from './notice-view';
import { asciiOneLine, truncate } from './text';

/**
 * A finding notice as an SNS message: the JSON body carries the whole Finding v1 for programs, the subject
 * is what email subscribers read, and the message attributes let subscriptions filter (filter policies on
 * severity, category, ruleId, account or subscription) without parsing the body.
 */

/** SNS subjects: no line breaks or control characters, fewer than 100 characters (ASCII here). */
export const SNS_SUBJECT_MAX = 99;

export const FINDING_NOTICE_TYPE = 'ShipscanFindingNotice' as const;

export interface SnsMessage {
  subject: string;
  message: string;
  /** String attributes; none is empty (SNS rejects empty values). */
  attributes: Record<string, string>;
}

/** SNS attribute values may be up to the message size, but filter policies want short, exact strings. */
function attribute(value: string): string {
  return truncate(asciiOneLine(value), 256);
}

export function renderSnsMessage(notice: FindingNotice, options: ViewOptions = {}): SnsMessage {
  const view = describeNotice(notice, options);
  const f = notice.finding;
  const subject = noticeSubject(view, SNS_SUBJECT_MAX);
  const message = JSON.stringify({
    type: FINDING_NOTICE_TYPE,
    version: 1,
    transition: notice.transition,
    summary: `${f.severity} ${view.verb}: ${view.title} (${view.resourceName})`,
    status: view.status,
    finding: f,
  });
  const attributes: Record<string, string> = {
    severity: f.severity,
    category: f.category,
    ruleId: attribute(f.ruleId),
    cloud: f.cloud,
    transition: notice.transition,
    ...(f.scope.account !== undefined ? { account: f.scope.account } : {}),
    ...(f.scope.subscription !== undefined ? { subscription: attribute(f.scope.subscription) } : {}),
    ...(f.scope.region ? { region: attribute(f.scope.region) } : {}),
  };
  return { subject, message, attributes };
}
