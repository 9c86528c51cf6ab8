import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { TRAIL } from '../kinds';
import type { TrailShape } from '../shapes';
import { failing, failure } from './common';

export const cloudTrailTrailNotLogging: AwsPostureRule<TrailShape> = {
  id: 'aws.cloudtrail.trail-not-logging',
  title: 'CloudTrail trail not logging',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'posture',
  service: 'cloudtrail',
  risk: 'A stopped trail records nothing: activity from the moment it stopped is not in its logs (StopLogging is a classic first step of an intruder).',
  remediation: {
    text: 'Start logging again (aws cloudtrail start-logging --name <trail>) and find out who stopped it (the StopLogging event names the caller).',
    url: 'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-turning-off-logging.html',
  },
  resourceType: TRAIL.type,
  triggers: TRAIL.triggers,
  evaluate(config) {
    if (config.Status.IsLogging === true) return passes();
    return failing([failure('logging', { isLogging: config.Status.IsLogging ?? null, latestDeliveryError: config.Status.LatestDeliveryError ?? null }, { title: `CloudTrail trail ${config.Name} is not logging` })]);
  },
};
