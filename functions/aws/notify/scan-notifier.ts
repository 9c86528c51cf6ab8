import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { SEVERITIES, type Severity, type SeverityCounts } from '../../../shared/severity';
import { SNS_SUBJECT_MAX } from '../../../shared/notify/sns';
import { asciiOneLine, truncate } from '../../../shared/notify/text';

/**
 * SNS message for scans at or over the severity threshold (the scan results of a workload; finding notices
 * go through SnsChannel). Message attributes carry the highest severity, account and function so
 * subscribers can filter (SNS filter policies).
 */

export interface FindingNotice {
  functionArn: string;
  functionName: string;
  account: string;
  region: string;
  status: string;
  scanId: string;
  counts: SeverityCounts;
  resultBucket: string;
  resultKey: string;
  policyVerdict?: string;
  cacheHit: boolean;
}

const KEYS: Record<Severity, keyof SeverityCounts> = {
  CRITICAL: 'critical',
  HIGH: 'high',
  MEDIUM: 'medium',
  LOW: 'low',
  INFORMATIONAL: 'informational',
};

export function highestSeverity(counts: SeverityCounts): Severity | undefined {
  return SEVERITIES.find((severity) => counts[KEYS[severity]] > 0);
}

export function findingMessage(notice: FindingNotice): { subject: string; message: string; attributes: Record<string, string> } {
  const highest = highestSeverity(notice.counts) ?? 'NONE';
  const c = notice.counts;
  // SNS subjects: no line breaks or control characters, fewer than 100 characters.
  const subject = truncate(asciiOneLine(`Shipscan: ${highest} in ${notice.functionName}`), SNS_SUBJECT_MAX);
  const message = JSON.stringify({
    type: 'ShipscanFindings',
    function: { arn: notice.functionArn, name: notice.functionName, account: notice.account, region: notice.region },
    scanId: notice.scanId,
    status: notice.status,
    policyVerdict: notice.policyVerdict,
    highestSeverity: highest,
    counts: c,
    result: `s3://${notice.resultBucket}/${notice.resultKey}`,
    cacheHit: notice.cacheHit,
    summary: `${c.critical} critical, ${c.high} high, ${c.medium} medium, ${c.low} low`,
  });
  return {
    subject,
    message,
    attributes: { severity: highest, account: notice.account, function: notice.functionName, region: notice.region, status: notice.status },
  };
}

export async function publishFindings(sns: SNSClient, topicArn: string, notice: FindingNotice): Promise<string | undefined> {
  const { subject, message, attributes } = findingMessage(notice);
  const response = await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: subject,
      Message: message,
      MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, { DataType: 'String', StringValue: value }])),
    }),
  );
  return response.MessageId;
}
