import type { ActivityDetector, AwsEventContext, CloudTrailRecord, Detection } from '../types';
import { arn, bool, fail, field, lastPart, objects, pass, request, resource, response, str, strings, type Json } from './record';

/**
 * CloudTrail tampering (seed 002's cloudtrail_handler): logging stopped, a trail deleted, a trail narrowed
 * to one region or stripped of log file validation, management events dropped by event selectors. These are
 * what an intruder does first to act unseen; StartLogging and restoring updates resolve them.
 */

/** The trail a call names: `name` or `trailName` is a name or an ARN; the response's trailARN wins. */
function trailOf(record: CloudTrailRecord, ctx: AwsEventContext) {
  const given = str(response(record).trailARN) ?? str(field(request(record), 'name', 'trailName'));
  if (!given) return undefined;
  const id = given.startsWith('arn:') ? given : arn(ctx, 'cloudtrail', `trail/${given}`);
  return resource('AWS::CloudTrail::Trail', id, lastPart(id));
}

const LOGGING_DOC = 'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-turning-off-logging.html';

export const cloudTrailLoggingStopped: ActivityDetector = {
  id: 'aws.cloudtrail.logging-stopped',
  title: 'CloudTrail logging stopped',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'cloudtrail',
  risk: 'While a trail is stopped, API calls in the account go unrecorded: whatever happens next cannot be investigated, and no rule built on CloudTrail sees it.',
  remediation: { text: 'Start logging on the trail again (StartLogging), find who stopped it and why, and review what happened while it was off.', url: LOGGING_DOC },
  eventSource: 'cloudtrail.amazonaws.com',
  eventNames: ['StopLogging', 'StartLogging'],
  match(record, ctx) {
    const trail = trailOf(record, ctx);
    if (!trail) return [];
    if (record.eventName === 'StartLogging') return [pass(trail, '', 'logging started again')];
    return [fail(trail, '', { trail: trail.id }, { title: `CloudTrail logging stopped on trail ${trail.name}` })];
  },
};

export const cloudTrailDeleted: ActivityDetector = {
  id: 'aws.cloudtrail.trail-deleted',
  title: 'CloudTrail trail deleted',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'cloudtrail',
  risk: 'A deleted trail records nothing more; unless another trail covers the account and regions, API activity is no longer audited.',
  remediation: { text: 'Recreate the trail (multi-region, log file validation on), start logging, and restrict cloudtrail:DeleteTrail to a break-glass role.', url: LOGGING_DOC },
  eventSource: 'cloudtrail.amazonaws.com',
  eventNames: ['DeleteTrail'],
  match(record, ctx) {
    const trail = trailOf(record, ctx);
    return trail ? [fail(trail, '', { trail: trail.id }, { title: `CloudTrail trail ${trail.name} deleted` })] : [];
  },
};

/**
 * UpdateTrail settings that narrow what a trail records, by request field (absent = unchanged). The field
 * names follow CloudTrail's lower-camel request convention (UpdateTrail's other fields are unverified).
 */
const TRAIL_SETTINGS: { field: string; subject: string; off: string }[] = [
  { field: 'isMultiRegionTrail', subject: 'multi-region', off: 'records one region only' },
  { field: 'enableLogFileValidation', subject: 'log-file-validation', off: 'has log file validation turned off' },
  { field: 'includeGlobalServiceEvents', subject: 'global-service-events', off: 'no longer records global service events (IAM, STS, sign-in)' },
];

export const cloudTrailWeakened: ActivityDetector = {
  id: 'aws.cloudtrail.trail-weakened',
  title: 'CloudTrail trail weakened',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'activity',
  service: 'cloudtrail',
  risk: 'A single-region trail misses activity in every other region (where intruders like to work); without log file validation, edited or deleted log files go unnoticed.',
  remediation: { text: 'Turn multi-region logging, global service events and log file validation back on for the trail.', url: 'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html' },
  eventSource: 'cloudtrail.amazonaws.com',
  eventNames: ['UpdateTrail'],
  match(record, ctx) {
    const trail = trailOf(record, ctx);
    if (!trail) return [];
    const req = request(record);
    const out: Detection[] = [];
    for (const setting of TRAIL_SETTINGS) {
      const value = bool(req[setting.field]);
      if (value === true) out.push(pass(trail, setting.subject, `${setting.field} turned back on`));
      if (value === false) out.push(fail(trail, setting.subject, { [setting.field]: false }, { title: `CloudTrail trail ${trail.name} ${setting.off}` }));
    }
    return out;
  },
};

/**
 * Whether event selectors still record write management events. Basic selectors: one with
 * includeManagementEvents (not false) and readWriteType All or WriteOnly. Advanced selectors: one whose
 * field selectors pick eventCategory Management and do not restrict it to read-only calls.
 */
function recordsWriteManagementEvents(req: Json): boolean | undefined {
  const basic = objects(req.eventSelectors);
  const advanced = objects(req.advancedEventSelectors);
  if (basic.length === 0 && advanced.length === 0) return undefined;
  for (const selector of basic) {
    const include = bool(selector.includeManagementEvents) ?? true;
    const readWrite = str(selector.readWriteType) ?? 'All';
    if (include && readWrite !== 'ReadOnly') return true;
  }
  for (const selector of advanced) {
    let management = false;
    let readOnlyOnly = false;
    for (const fs of objects(field(selector, 'fieldSelectors', 'FieldSelectors'))) {
      const name = str(field(fs, 'field', 'Field'));
      const equals = strings(field(fs, 'equals', 'Equals'));
      if (name === 'eventCategory' && equals.includes('Management')) management = true;
      if (name === 'readOnly' && equals.length > 0 && equals.every((v) => v === 'true')) readOnlyOnly = true;
    }
    if (management && !readOnlyOnly) return true;
  }
  return false;
}

export const cloudTrailManagementEventsDropped: ActivityDetector = {
  id: 'aws.cloudtrail.management-events-dropped',
  title: 'CloudTrail no longer records management events',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'cloudtrail',
  risk: 'Management events are the control-plane calls (IAM, security groups, trails themselves); a trail that drops them keeps running while recording none of what matters.',
  remediation: { text: 'Put back an event selector that includes write (or all) management events on the trail.', url: 'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html' },
  eventSource: 'cloudtrail.amazonaws.com',
  eventNames: ['PutEventSelectors'],
  match(record, ctx) {
    const trail = trailOf(record, ctx);
    if (!trail) return [];
    const records = recordsWriteManagementEvents(request(record));
    if (records === undefined) return [];
    if (records) return [pass(trail, 'management-events', 'management events recorded again')];
    return [fail(trail, 'management-events', { eventSelectors: request(record).eventSelectors, advancedEventSelectors: request(record).advancedEventSelectors }, { title: `CloudTrail trail ${trail.name} no longer records write management events` })];
  },
};
