import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { TRAIL } from '../kinds';
import type { TrailShape } from '../shapes';
import { failing, failure } from './common';

export const cloudTrailLogFileValidationOff: AwsPostureRule<TrailShape> = {
  id: 'aws.cloudtrail.log-file-validation-off',
  title: 'CloudTrail log file validation off',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 'cloudtrail',
  risk: 'Without digest files nobody can prove the delivered log files were not changed or deleted after delivery, which an intruder covering tracks would do.',
  remediation: {
    text: 'Enable log file validation on the trail (aws cloudtrail update-trail --enable-log-file-validation).',
    url: 'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html',
  },
  resourceType: TRAIL.type,
  triggers: TRAIL.triggers,
  evaluate(config) {
    if (config.LogFileValidationEnabled === true) return passes();
    return failing([failure('log-file-validation', { logFileValidationEnabled: false }, { title: `CloudTrail trail ${config.Name} has log file validation off` })]);
  },
};
