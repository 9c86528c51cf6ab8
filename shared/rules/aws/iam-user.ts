import type { ActivityDetector } from '../types';
import { fail, iamUser, isRoot, isTrustedCaller, pass, request, str } from './record';

/**
 * New IAM users and console passwords (seed 002's iam_handler). Users and passwords are the long-lived
 * identities an account should rarely grow; automation listed in trustedPrincipals is expected to make them.
 * Deleting the user (or the password) resolves the finding.
 */

export const iamUserCreated: ActivityDetector = {
  id: 'aws.iam.user-created',
  title: 'IAM user created',
  severity: 'LOW',
  cloud: 'aws',
  category: 'activity',
  service: 'iam',
  risk: 'Every IAM user is a long-lived identity with its own credentials to rotate and protect; an unexpected one is a common persistence step.',
  remediation: {
    text: 'Confirm the user was expected; prefer IAM Identity Center or roles for people and workloads, and delete users that are not needed.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html',
  },
  eventSource: 'iam.amazonaws.com',
  eventNames: ['CreateUser', 'DeleteUser'],
  match(record, ctx) {
    const name = str(request(record).userName);
    if (!name) return [];
    const user = iamUser(ctx, name);
    if (record.eventName === 'DeleteUser') return [pass(user, '', 'user deleted')];
    if (isTrustedCaller(record, ctx) && !isRoot(record)) return [];
    return [fail(user, '', { user: name, path: str(request(record).path) ?? '/' }, { title: `IAM user ${name} created` })];
  },
};

export const iamLoginProfileCreated: ActivityDetector = {
  id: 'aws.iam.login-profile-created',
  title: 'Console password created for an IAM user',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'activity',
  service: 'iam',
  risk: 'A console password lets the user sign in to the AWS console; set by someone else, it is a way to take over the user.',
  remediation: {
    text: 'Confirm the password was expected and that the user has MFA; otherwise delete the login profile and review the user.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_admin-change-user.html',
  },
  eventSource: 'iam.amazonaws.com',
  eventNames: ['CreateLoginProfile', 'DeleteLoginProfile'],
  match(record, ctx) {
    const self = record.userIdentity?.type === 'IAMUser' ? str(record.userIdentity.userName) : undefined;
    const name = str(request(record).userName) ?? self;
    if (!name) return [];
    const user = iamUser(ctx, name);
    if (record.eventName === 'DeleteLoginProfile') return [pass(user, 'console-password', 'console password removed')];
    if (isTrustedCaller(record, ctx) && !isRoot(record)) return [];
    const byAnother = name !== self;
    // The password itself is never logged; passwordResetRequired says whether the user must choose their own.
    const reset = request(record).passwordResetRequired;
    return [
      fail(
        user,
        'console-password',
        { user: name, createdByAnotherPrincipal: byAnother, ...(typeof reset === 'boolean' ? { passwordResetRequired: reset } : {}) },
        { title: `Console password created for IAM user ${name}${byAnother ? ' by another principal' : ''}`, ...(byAnother ? { severity: 'HIGH' as const } : {}) },
      ),
    ];
  },
};
