import type { AwsPostureRule } from '../types';
import { notApplicable, passes } from '../types';
import { ROOT } from '../kinds';
import type { IamRootShape } from '../shapes';
import { failing, failure } from './common';

export const iamRootWithoutMfa: AwsPostureRule<IamRootShape> = {
  id: 'aws.iam.root-without-mfa',
  title: 'Root user without MFA',
  severity: 'CRITICAL',
  cloud: 'aws',
  category: 'posture',
  service: 'iam',
  risk: 'The root user can do anything in the account, including closing it; protected by a password alone it is the most valuable credential to phish.',
  remediation: {
    text: 'Sign in as root and register an MFA device (preferably a FIDO2 security key), or centralise root access with AWS Organizations and remove the root credentials of member accounts.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-mfa-for-root.html',
  },
  resourceType: ROOT.type,
  triggers: ROOT.triggers,
  evaluate(config) {
    const enabled = config.SummaryMap.AccountMFAEnabled;
    if (enabled === undefined) return notApplicable('GetAccountSummary returned no AccountMFAEnabled');
    if (enabled === 1) return passes();
    return failing([failure('root-mfa', { AccountMFAEnabled: enabled }, { title: 'The root user has no MFA device' })]);
  },
};
