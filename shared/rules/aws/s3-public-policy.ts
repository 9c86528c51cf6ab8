import type { ActivityDetector } from '../types';
import { fail, isObject, pass, request } from './record';
import { hasLimitingCondition, isAllow, isPublicPrincipal, parsePolicyDocument, statementsOf, values } from './policy';
import { bucketOf } from './s3-bucket';

/**
 * A bucket policy that allows everyone (`Principal: "*"` or `{"AWS": "*"}`) with no condition narrowing it
 * to a VPC endpoint, an organisation, an account, a source ARN or a narrow IP range. CloudTrail records
 * `requestParameters.bucketPolicy` as an object; a JSON string is accepted too.
 */

/** Actions that let the world change the bucket or its contents, not only read them. */
function grantsWrite(actions: string[], statementHasNotAction: boolean): boolean {
  if (statementHasNotAction) return true;
  return actions.some((action) => {
    const a = action.toLowerCase();
    return a === '*' || a === 's3:*' || /^s3:(put|delete|restore|replicate|abort|bypass)/.test(a);
  });
}

export const s3PublicPolicy: ActivityDetector = {
  id: 'aws.s3.bucket-public-policy',
  title: 'S3 bucket policy allows public access',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 's3',
  risk: 'A policy statement that allows Principal "*" without a limiting condition lets anyone on the internet perform its actions on the bucket, unless Block Public Access stops it.',
  remediation: {
    text: 'Name the principals that need access, or add a condition that limits the statement (aws:SourceVpce, aws:PrincipalOrgID, aws:SourceArn / aws:SourceAccount for services); keep S3 Block Public Access on.',
    url: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html',
  },
  eventSource: 's3.amazonaws.com',
  eventNames: ['PutBucketPolicy', 'DeleteBucketPolicy'],
  match(record, ctx) {
    const bucket = bucketOf(record, ctx);
    if (!bucket) return [];
    if (record.eventName === 'DeleteBucketPolicy') return [pass(bucket, 'bucket-policy', 'bucket policy deleted')];
    const document = parsePolicyDocument(request(record).bucketPolicy);
    if (!document) return [];
    const open = statementsOf(document).filter((s) => isAllow(s) && isPublicPrincipal(s) && !hasLimitingCondition(s));
    // The policy replaces the previous one as a whole: without public statements it resolves the finding.
    if (open.length === 0) return [pass(bucket, 'bucket-policy', 'policy no longer public')];
    const write = open.some((s) => grantsWrite(values(s.Action), s.NotAction !== undefined));
    return [
      fail(
        bucket,
        'bucket-policy',
        {
          publicStatements: open.map((s) => ({
            ...(typeof s.Sid === 'string' ? { Sid: s.Sid } : {}),
            Action: s.Action ?? { NotAction: s.NotAction },
            Resource: s.Resource,
            ...(isObject(s.Condition) ? { conditionKeys: Object.values(s.Condition).flatMap((c) => (isObject(c) ? Object.keys(c) : [])) } : {}),
          })),
        },
        {
          title: `S3 bucket ${bucket.name} policy allows ${write ? 'anyone to change it or its objects' : 'public access'}`,
          severity: write ? 'CRITICAL' : 'HIGH',
        },
      ),
    ];
  },
};

/** Shared with the posture rule that reads GetBucketPolicy (posture/rules/s3-bucket-policy-public.ts). */
export { grantsWrite };
