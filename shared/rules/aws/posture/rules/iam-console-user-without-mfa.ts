import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { USER } from '../kinds';
import type { IamUserShape } from '../shapes';
import { failing, failure } from './common';

export const iamConsoleUserWithoutMfa: AwsPostureRule<IamUserShape> = {
  id: 'aws.iam.console-user-without-mfa',
  title: 'Console user without MFA',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'posture',
  service: 'iam',
  risk: 'A user with a console password and no MFA device is one phished or reused password away from a console session.',
  remediation: {
    text: 'Assign an MFA device to the user (a FIDO2 key or an authenticator app), or remove the console password if the user does not sign in.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable.html',
  },
  resourceType: USER.type,
  triggers: USER.triggers,
  evaluate(config) {
    if (config.LoginProfile === null || config.MFADevices.length > 0) return passes();
    return failing([
      failure('console-mfa', { loginProfileCreated: config.LoginProfile.CreateDate ?? null, passwordLastUsed: config.PasswordLastUsed ?? null, mfaDevices: 0 }, { title: `IAM user ${config.UserName} signs in to the console without MFA` }),
    ]);
  },
};
