import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { ACCOUNT_TRAILS } from '../kinds';
import type { AccountTrailsShape } from '../shapes';
import { failing, failure } from './common';
import { recordsAllManagementEvents } from './trails';

export const cloudTrailNoMultiRegionTrail: AwsPostureRule<AccountTrailsShape> = {
  id: 'aws.cloudtrail.no-multi-region-trail',
  title: 'No logging multi-region CloudTrail trail',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'posture',
  service: 'cloudtrail',
  risk: 'Without a multi-region trail that is logging all management events, calls in some regions leave no durable record, and the security-event pipeline (EventBridge on CloudTrail) sees nothing there.',
  remediation: {
    text: 'Create a multi-region trail (or an organization trail) recording all management events, and start logging (aws cloudtrail create-trail --is-multi-region-trail; aws cloudtrail start-logging).',
    url: 'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/receive-cloudtrail-log-files-from-multiple-regions.html',
  },
  resourceType: ACCOUNT_TRAILS.type,
  triggers: ACCOUNT_TRAILS.triggers,
  evaluate(config) {
    const good = config.MultiRegionTrails.find((t) => t.IsMultiRegionTrail === true && t.Status.IsLogging === true && recordsAllManagementEvents(t));
    if (good) return passes();
    return failing([
      failure(
        'multi-region-trail',
        { multiRegionTrails: config.MultiRegionTrails.map((t) => ({ name: t.Name, homeRegion: t.HomeRegion ?? null, logging: t.Status.IsLogging ?? null, allManagementEvents: recordsAllManagementEvents(t) })) },
        { title: config.MultiRegionTrails.length === 0 ? 'The account has no multi-region CloudTrail trail' : 'No multi-region CloudTrail trail is logging all management events' },
      ),
    ]);
  },
};
