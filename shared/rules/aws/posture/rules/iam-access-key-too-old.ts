import type { AwsPostureRule } from '../types';
import { USER } from '../kinds';
import type { IamUserShape } from '../shapes';
import { daysSince, failing, failure, type Failure } from './common';

export const iamAccessKeyTooOld: AwsPostureRule<IamUserShape> = {
  id: 'aws.iam.access-key-too-old',
  title: 'IAM access key not rotated',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 'iam',
  risk: 'A long-lived access key has had more time to leak (laptops, CI logs, repositories) and keeps working until someone rotates it.',
  remediation: {
    text: 'Create a new key, move its users to it, deactivate and then delete the old one; better, replace the user key with a role (IAM Identity Center, OIDC federation for CI).',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console',
  },
  resourceType: USER.type,
  triggers: USER.triggers,
  evaluate(config, ctx) {
    const limit = ctx.settings.accessKeyMaxAgeDays;
    const failures: Failure[] = [];
    for (const key of config.AccessKeys) {
      if (key.Status !== 'Active') continue;
      const age = daysSince(key.CreateDate, ctx.now);
      if (age === undefined || age <= limit) continue;
      failures.push(failure(`access-key/${key.AccessKeyId}`, { accessKeyId: key.AccessKeyId, createDate: key.CreateDate ?? null, ageDays: age, maxAgeDays: limit }, { title: `Access key ${key.AccessKeyId} of ${config.UserName} is ${age} days old` }));
    }
    return failing(failures);
  },
};
