import { hasLimitingCondition, isAllow, isPublicPrincipal, parsePolicyDocument, statementsOf, values } from '../../policy';
import { isObject } from '../../record';
import { grantsWrite } from '../../s3-public-policy';
import type { AwsPostureRule } from '../types';
import { notApplicable, passes } from '../types';
import { BUCKET } from '../kinds';
import type { S3BucketShape } from '../shapes';
import { failing, failure } from './common';

/**
 * The stored bucket policy read with the same judgement as the PutBucketPolicy detector (policy.ts): an
 * Allow to everyone without a condition that narrows it. RestrictPublicBuckets on the bucket limits such a
 * policy to the account's own principals and AWS services, so the finding is kept (the policy is still
 * wrong) at a lower severity.
 */
export const s3BucketPolicyPublic: AwsPostureRule<S3BucketShape> = {
  id: 'aws.s3.bucket-policy-public',
  title: 'S3 bucket policy allows public access',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'posture',
  service: 's3',
  risk: 'A statement that allows Principal "*" without a limiting condition lets anyone on the internet perform its actions on the bucket, unless Block Public Access stops it.',
  remediation: {
    text: 'Name the principals that need access, or add a condition that limits the statement (aws:SourceVpce, aws:PrincipalOrgID, aws:SourceArn / aws:SourceAccount for services); keep Block Public Access on.',
    url: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html',
  },
  resourceType: BUCKET.type,
  triggers: BUCKET.triggers,
  evaluate(config) {
    if (config.Policy === null) return passes();
    const document = parsePolicyDocument(config.Policy);
    if (!document) return notApplicable('the stored bucket policy is not a JSON policy document');
    const open = statementsOf(document).filter((s) => isAllow(s) && isPublicPrincipal(s) && !hasLimitingCondition(s));
    if (open.length === 0) return passes();
    const write = open.some((s) => grantsWrite(values(s.Action), s.NotAction !== undefined));
    const restricted = config.PublicAccessBlock?.RestrictPublicBuckets === true;
    return failing([
      failure(
        'bucket-policy',
        {
          publicStatements: open.map((s) => ({
            ...(typeof s.Sid === 'string' ? { Sid: s.Sid } : {}),
            Action: s.Action ?? { NotAction: s.NotAction },
            Resource: s.Resource,
            ...(isObject(s.Condition) ? { conditionKeys: Object.values(s.Condition).flatMap((c) => (isObject(c) ? Object.keys(c) : [])) } : {}),
          })),
          ...(restricted ? { restrictedByBlockPublicAccess: true } : {}),
        },
        {
          title: `S3 bucket ${config.Name} policy allows ${write ? 'anyone to change it or its objects' : 'public access'}${restricted ? ' (held back by RestrictPublicBuckets)' : ''}`,
          severity: restricted ? 'MEDIUM' : write ? 'CRITICAL' : 'HIGH',
        },
      ),
    ]);
  },
};
