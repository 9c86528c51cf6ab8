import type { ActivityDetector, CloudTrailRecord } from '../types';
import { fail, iamUser, obj, resource, rootUser, str } from './record';

/**
 * Console sign-ins that are findings in themselves: the root user signing in at all, and IAM users signing
 * in without MFA. Only successful sign-ins count: a failed ConsoleLogin carries no errorCode (only
 * errorMessage and `responseElements.ConsoleLogin: "Failure"`), so success is checked here. Each sign-in is
 * its own finding (subject: the event id); nothing resolves it but a person.
 *
 * EventBridge delivers them with detail-type "AWS Console Sign In via CloudTrail" (public rules) or
 * "AWS Console Signin via CloudTrail" (current docs): both are subscribed.
 */

export const CONSOLE_SIGN_IN_DETAIL_TYPES = ['AWS Console Sign In via CloudTrail', 'AWS Console Signin via CloudTrail'] as const;

function succeeded(record: CloudTrailRecord): boolean {
  return str(obj(record.responseElements)?.ConsoleLogin) === 'Success' && record.errorMessage === undefined;
}

function mfaUsed(record: CloudTrailRecord): string {
  return str(record.additionalEventData?.MFAUsed) ?? 'unknown';
}

/** The sign-in itself: the event id, else its time (a record without an id is still one sign-in). */
function signInSubject(record: CloudTrailRecord): string {
  return str(record.eventID) ?? `at ${record.eventTime}`;
}

function signInEvidence(record: CloudTrailRecord) {
  const extra = record.additionalEventData ?? {};
  return {
    mfaUsed: mfaUsed(record),
    ...(str(extra.LoginTo) ? { loginTo: str(extra.LoginTo) } : {}),
    ...(str(extra.MobileVersion) ? { mobileVersion: str(extra.MobileVersion) } : {}),
    ...(record.userAgent ? { userAgent: record.userAgent } : {}),
  };
}

export const rootConsoleSignIn: ActivityDetector = {
  id: 'aws.signin.root-console-login',
  title: 'Root user signed in to the console',
  severity: 'CRITICAL',
  cloud: 'aws',
  category: 'activity',
  service: 'signin',
  risk: 'The root user can do anything, including closing the account and changing its contact details, and no policy limits it; its use should be rare, planned and announced.',
  remediation: {
    text: 'Confirm the sign-in with the person holding the root credentials; if unexpected, reset the root password, check its MFA device and review the session. Use IAM Identity Center or roles for everyday work.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html',
  },
  eventSource: 'signin.amazonaws.com',
  eventNames: ['ConsoleLogin'],
  detailTypes: CONSOLE_SIGN_IN_DETAIL_TYPES,
  match(record, ctx) {
    if (record.userIdentity?.type !== 'Root' || !succeeded(record)) return [];
    const withoutMfa = mfaUsed(record) !== 'Yes';
    return [fail(rootUser(ctx), signInSubject(record), signInEvidence(record), { title: `Root user signed in to the console${withoutMfa ? ' without MFA' : ''}` })];
  },
};

export const consoleSignInWithoutMfa: ActivityDetector = {
  id: 'aws.signin.console-login-without-mfa',
  title: 'IAM user signed in to the console without MFA',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'signin',
  risk: 'A password alone protects this console session: phished, guessed or reused passwords are enough to get in.',
  remediation: {
    text: 'Require MFA for the user (assign a device, and deny actions without aws:MultiFactorAuthPresent); confirm the sign-in was theirs.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa.html',
  },
  eventSource: 'signin.amazonaws.com',
  eventNames: ['ConsoleLogin'],
  detailTypes: CONSOLE_SIGN_IN_DETAIL_TYPES,
  match(record, ctx) {
    // Federated and role sign-ins report MFAUsed "No" because the identity provider did the MFA: IAM users only.
    if (record.userIdentity?.type !== 'IAMUser' || !succeeded(record) || mfaUsed(record) !== 'No') return [];
    const userArn = str(record.userIdentity.arn);
    const name = str(record.userIdentity.userName);
    // By name, as the IAM rules name users (a path in the ARN would split one user into two resources).
    const user = name ? iamUser(ctx, name) : userArn ? resource('AWS::IAM::User', userArn, userArn) : undefined;
    if (!user) return [];
    return [fail(user, signInSubject(record), signInEvidence(record), { title: `IAM user ${user.name} signed in to the console without MFA` })];
  },
};
