import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { PASSWORD_POLICY } from '../kinds';
import type { PasswordPolicyShape } from '../shapes';
import { failing, failure } from './common';

export const iamPasswordPolicyWeak: AwsPostureRule<PasswordPolicyShape> = {
  id: 'aws.iam.password-policy-weak',
  title: 'IAM password policy weak or absent',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 'iam',
  risk: 'Without a strong account password policy, IAM users may choose short, common or reused passwords that are guessed or stuffed from other breaches.',
  remediation: {
    text: 'Set an account password policy with at least the configured minimum length, all four character classes and reuse prevention (aws iam update-account-password-policy).',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html',
  },
  resourceType: PASSWORD_POLICY.type,
  triggers: PASSWORD_POLICY.triggers,
  evaluate(config, ctx) {
    const policy = config.PasswordPolicy;
    const { passwordMinLength, passwordReusePrevention } = ctx.settings;
    if (policy === null) return failing([failure('password-policy', { absent: true }, { title: 'The account has no IAM password policy' })]);
    const weaknesses: string[] = [];
    if ((policy.MinimumPasswordLength ?? 0) < passwordMinLength) weaknesses.push(`minimum length ${policy.MinimumPasswordLength ?? 'unset'} < ${passwordMinLength}`);
    if (policy.RequireSymbols !== true) weaknesses.push('symbols not required');
    if (policy.RequireNumbers !== true) weaknesses.push('numbers not required');
    if (policy.RequireUppercaseCharacters !== true) weaknesses.push('upper-case letters not required');
    if (policy.RequireLowercaseCharacters !== true) weaknesses.push('lower-case letters not required');
    if ((policy.PasswordReusePrevention ?? 0) < passwordReusePrevention) weaknesses.push(`reuse prevention ${policy.PasswordReusePrevention ?? 'unset'} < ${passwordReusePrevention}`);
    if (weaknesses.length === 0) return passes();
    return failing([failure('password-policy', { weaknesses, policy }, { title: `The IAM password policy is weak (${weaknesses.length} of 6 checks fail)` })]);
  },
};
