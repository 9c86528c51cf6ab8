import type { ActivityDetector, AwsEventContext, CloudTrailRecord } from '../types';
import { arn, fail, lastPart, listedArn, pass, request, resource, response, str } from './record';

/**
 * Customer managed KMS keys scheduled for deletion or disabled: data encrypted under a deleted key is lost for
 * good, and a disabled key stops every service that depends on it (ransom and sabotage both look like this).
 * CancelKeyDeletion and EnableKey resolve them.
 */

/** The key's ARN: the record's `resources` list, the response's keyId (an ARN), else built from the request's key id. */
function keyOf(record: CloudTrailRecord, ctx: AwsEventContext) {
  const id = listedArn(record, 'AWS::KMS::Key') ?? str(response(record).keyId) ?? str(request(record).keyId);
  if (!id) return undefined;
  // An alias names a key only indirectly: without the key's ARN the record is not enough to name the resource.
  if (id.startsWith('alias/') || id.includes(':alias/')) return undefined;
  const keyArn = id.startsWith('arn:') ? id : arn(ctx, 'kms', `key/${id}`);
  return resource('AWS::KMS::Key', keyArn, lastPart(keyArn));
}

export const kmsKeyDeletionScheduled: ActivityDetector = {
  id: 'aws.kms.key-deletion-scheduled',
  title: 'KMS key scheduled for deletion',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'kms',
  risk: 'When the waiting period ends the key is deleted for good, and everything encrypted under it (volumes, snapshots, objects, secrets) can no longer be decrypted.',
  remediation: {
    text: 'Cancel the deletion (CancelKeyDeletion) unless the key is certainly unused; disable it first and watch for failures during the waiting period.',
    url: 'https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html',
  },
  eventSource: 'kms.amazonaws.com',
  eventNames: ['ScheduleKeyDeletion', 'CancelKeyDeletion'],
  match(record, ctx) {
    const key = keyOf(record, ctx);
    if (!key) return [];
    if (record.eventName === 'CancelKeyDeletion') return [pass(key, '', 'key deletion cancelled')];
    const resp = response(record);
    const window = request(record).pendingWindowInDays;
    return [
      fail(
        key,
        '',
        { pendingWindowInDays: typeof window === 'number' ? window : 'default (30)', deletionDate: str(resp.deletionDate) ?? 'unknown' },
        { title: `KMS key ${key.name} scheduled for deletion` },
      ),
    ];
  },
};

export const kmsKeyDisabled: ActivityDetector = {
  id: 'aws.kms.key-disabled',
  title: 'KMS key disabled',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'activity',
  service: 'kms',
  risk: 'Nothing can encrypt or decrypt with a disabled key: services and data that depend on it stop working until it is enabled again.',
  remediation: { text: 'Enable the key again (EnableKey) unless it is being retired on purpose, and find who disabled it.', url: 'https://docs.aws.amazon.com/kms/latest/developerguide/enabling-keys.html' },
  eventSource: 'kms.amazonaws.com',
  eventNames: ['DisableKey', 'EnableKey'],
  match(record, ctx) {
    const key = keyOf(record, ctx);
    if (!key) return [];
    if (record.eventName === 'EnableKey') return [pass(key, '', 'key enabled again')];
    return [fail(key, '', { keyId: key.id }, { title: `KMS key ${key.name} disabled` })];
  },
};
