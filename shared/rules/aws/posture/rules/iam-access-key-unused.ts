import type { AwsPostureRule } from '../types';
import { USER } from '../kinds';
import type { IamUserShape } from '../shapes';
import { daysSince, failing, failure, type Failure } from './common';

export const iamAccessKeyUnused: AwsPostureRule<IamUserShape> = {
  id: 'aws.iam.access-key-unused',
  title: 'IAM access key unused',
  severity: 'LOW',
  cloud: 'aws',
  category: 'posture',
  service: 'iam',
  risk: 'An active key nobody uses is all risk and no benefit: it still works for whoever holds a copy.',
  remediation: {
    text: 'Deactivate the key (aws iam update-access-key --status Inactive), and delete it once nothing breaks.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_finding-unused.html',
  },
  resourceType: USER.type,
  triggers: USER.triggers,
  evaluate(config, ctx) {
    const limit = ctx.settings.accessKeyUnusedDays;
    const failures: Failure[] = [];
    for (const key of config.AccessKeys) {
      if (key.Status !== 'Active') continue;
      const lastUsed = key.LastUsed?.LastUsedDate;
      // A key never used has been idle since it was created.
      const idle = daysSince(lastUsed ?? key.CreateDate, ctx.now);
      if (idle === undefined || idle <= limit) continue;
      failures.push(
        failure(
          `access-key/${key.AccessKeyId}`,
          { accessKeyId: key.AccessKeyId, lastUsedDate: lastUsed ?? null, createDate: key.CreateDate ?? null, idleDays: idle, unusedDays: limit },
          { title: `Access key ${key.AccessKeyId} of ${config.UserName} ${lastUsed ? `unused for ${idle} days` : `never used in ${idle} days`}` },
        ),
      );
    }
    return failing(failures);
  },
};
