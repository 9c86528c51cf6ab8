import type { ActivityDetector, AwsEventContext, CloudTrailRecord } from '../types';
import { fail, iamUser, isRoot, isTrustedCaller, obj, pass, request, response, rootUser, str } from './record';

/**
 * A new access key: long-lived credentials, the usual persistence step after a compromise. Root above all:
 * any key the root user creates (for itself or anyone) is CRITICAL, since root keys cannot be scoped down.
 * A key created for another user is the backdoor pattern (HIGH); a user's own key is MEDIUM. The subject is
 * the key id, so DeleteAccessKey of that key resolves the finding. Secrets are never logged by CloudTrail.
 */

/** The user whose key it is: the request's userName, else the caller itself (root, or an IAM user's own key). */
export function keyOwner(record: CloudTrailRecord, ctx: AwsEventContext) {
  const named = str(request(record).userName) ?? str(obj(response(record).accessKey)?.userName);
  if (named) return { target: iamUser(ctx, named), own: record.userIdentity?.type === 'IAMUser' && record.userIdentity.userName === named };
  if (isRoot(record)) return { target: rootUser(ctx), own: true };
  const self = record.userIdentity?.type === 'IAMUser' ? str(record.userIdentity.userName) : undefined;
  return self ? { target: iamUser(ctx, self), own: true } : undefined;
}

export const iamAccessKeyCreated: ActivityDetector = {
  id: 'aws.iam.access-key-created',
  title: 'IAM access key created',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'activity',
  service: 'iam',
  risk: 'Access keys are long-lived credentials that work from anywhere; a key made for another user (or by root) is how attackers keep access after the first foothold.',
  remediation: {
    text: 'Confirm the key was expected; otherwise deactivate and delete it and review what it did. Prefer roles and short-lived credentials; root must have no access keys.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html',
  },
  eventSource: 'iam.amazonaws.com',
  eventNames: ['CreateAccessKey', 'DeleteAccessKey'],
  match(record, ctx) {
    const owner = keyOwner(record, ctx);
    if (!owner) return [];
    if (record.eventName === 'DeleteAccessKey') {
      const keyId = str(request(record).accessKeyId);
      return keyId ? [pass(owner.target, keyId, 'access key deleted')] : [];
    }
    if (isTrustedCaller(record, ctx) && !isRoot(record)) return [];
    const key = obj(response(record).accessKey);
    const keyId = str(key?.accessKeyId) ?? '';
    const evidence = { user: owner.target.name, accessKeyId: keyId, status: str(key?.status) ?? 'unknown', createdForAnotherUser: !owner.own };
    if (isRoot(record)) {
      const forRoot = owner.target.type === 'AWS::IAM::Root';
      return [fail(owner.target, keyId, evidence, { title: forRoot ? 'Access key created for the root user' : `Root user created an access key for ${owner.target.name}`, severity: 'CRITICAL' })];
    }
    if (!owner.own) {
      return [fail(owner.target, keyId, evidence, { title: `Access key created for IAM user ${owner.target.name} by another principal`, severity: 'HIGH' })];
    }
    return [fail(owner.target, keyId, evidence, { title: `IAM user ${owner.target.name} created an access key` })];
  },
};
