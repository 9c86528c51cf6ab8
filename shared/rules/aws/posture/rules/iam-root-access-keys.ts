import type { AwsPostureRule } from '../types';
import { notApplicable, passes } from '../types';
import { ROOT } from '../kinds';
import type { IamRootShape } from '../shapes';
import { failing, failure } from './common';

export const iamRootAccessKeys: AwsPostureRule<IamRootShape> = {
  id: 'aws.iam.root-access-keys-present',
  title: 'Root user has access keys',
  severity: 'CRITICAL',
  cloud: 'aws',
  category: 'posture',
  service: 'iam',
  risk: 'A root access key is an unrestricted, unconditional credential for the whole account that no policy can limit.',
  remediation: {
    text: 'Sign in as root, delete the access keys (Security credentials page), and use IAM roles for programmatic access.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-best-practices.html',
  },
  resourceType: ROOT.type,
  triggers: ROOT.triggers,
  evaluate(config) {
    const present = config.SummaryMap.AccountAccessKeysPresent;
    if (present === undefined) return notApplicable('GetAccountSummary returned no AccountAccessKeysPresent');
    if (present === 0) return passes();
    return failing([failure('root-access-keys', { AccountAccessKeysPresent: present }, { title: 'The root user has access keys' })]);
  },
};
