import type { AwsPostureRule } from '../types';
import { notApplicable, passes } from '../types';
import { KEY } from '../kinds';
import type { KmsKeyShape } from '../shapes';
import { failing, failure } from './common';

/** Automatic rotation exists for customer managed symmetric keys with AWS-generated key material. */
export function rotationApplies(key: KmsKeyShape): string | undefined {
  if (key.KeyManager !== 'CUSTOMER') return 'AWS rotates AWS managed keys itself';
  if ((key.KeySpec ?? 'SYMMETRIC_DEFAULT') !== 'SYMMETRIC_DEFAULT') return `${key.KeySpec} keys cannot rotate automatically`;
  if ((key.Origin ?? 'AWS_KMS') !== 'AWS_KMS') return `keys with ${key.Origin} key material cannot rotate automatically`;
  if (key.KeyState === 'PendingDeletion' || key.KeyState === 'PendingReplicaDeletion') return `the key is ${key.KeyState}`;
  return undefined;
}

export const kmsKeyRotationOff: AwsPostureRule<KmsKeyShape> = {
  id: 'aws.kms.key-rotation-off',
  title: 'KMS key rotation off',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 'kms',
  risk: 'Without rotation one key material protects all data for the key\'s whole life, so a leaked or broken key material exposes everything ever encrypted with it.',
  remediation: {
    text: 'Enable automatic rotation (aws kms enable-key-rotation --key-id <id>), yearly or at the period your policy sets.',
    url: 'https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html',
  },
  resourceType: KEY.type,
  triggers: KEY.triggers,
  evaluate(config) {
    const skip = rotationApplies(config);
    if (skip) return notApplicable(skip);
    if (config.KeyRotationEnabled === null) return notApplicable('the rotation status was not read');
    if (config.KeyRotationEnabled) return passes();
    return failing([failure('rotation', { keyRotationEnabled: false, keyState: config.KeyState ?? null }, { title: `KMS key ${config.KeyId} has automatic rotation off` })]);
  },
};
