import type { ActivityDetector, CloudTrailRecord, Detection } from '../types';
import type { FindingResource } from '../../findings/finding';
import { bool, fail, field, obj, pass, request, resource } from './record';
import { bucketOf } from './s3-bucket';

/**
 * S3 Block Public Access removed or weakened, for one bucket or for the whole account. The account-level
 * S3 Control calls are logged as PutAccountPublicAccessBlock / DeleteAccountPublicAccessBlock with source
 * s3.amazonaws.com. A Put replaces the configuration and a flag it leaves out is false, so anything short of
 * all four flags true weakens it.
 */

const FLAGS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;
const SUBJECT = 'public-access-block';

/** The configuration's flags, or undefined when the record carries no configuration (casing unverified: both read). */
function flagsOf(record: CloudTrailRecord): Record<(typeof FLAGS)[number], boolean> | undefined {
  const config = obj(field(request(record), 'PublicAccessBlockConfiguration', 'publicAccessBlockConfiguration'));
  if (!config) return undefined;
  const on = (flag: (typeof FLAGS)[number]) => bool(field(config, flag, flag[0]!.toLowerCase() + flag.slice(1))) === true;
  return { BlockPublicAcls: on('BlockPublicAcls'), IgnorePublicAcls: on('IgnorePublicAcls'), BlockPublicPolicy: on('BlockPublicPolicy'), RestrictPublicBuckets: on('RestrictPublicBuckets') };
}

function judge(record: CloudTrailRecord, target: FindingResource, scope: 'bucket' | 'account'): Detection[] {
  const where = scope === 'bucket' ? `bucket ${target.name}` : `account ${target.name}`;
  if (record.eventName.startsWith('Delete')) {
    return [fail(target, SUBJECT, { deleted: true }, { title: `S3 Block Public Access removed from ${where}` })];
  }
  const flags = flagsOf(record);
  if (!flags) return [];
  const off = FLAGS.filter((flag) => !flags[flag]);
  if (off.length === 0) return [pass(target, SUBJECT, 'Block Public Access fully on')];
  return [fail(target, SUBJECT, { flags, turnedOff: off }, { title: `S3 Block Public Access weakened on ${where} (${off.join(', ')} off)` })];
}

const REMEDIATION = {
  text: 'Turn all four Block Public Access settings back on; grant the access a workload needs through a limited bucket policy or CloudFront instead.',
  url: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html',
};

export const s3BucketPublicAccessBlock: ActivityDetector = {
  id: 'aws.s3.bucket-public-access-block-off',
  title: 'S3 Block Public Access removed or weakened on a bucket',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'activity',
  service: 's3',
  risk: 'Without Block Public Access, the next public ACL or bucket policy on this bucket takes effect; it is the guard that keeps a mistake from becoming a data exposure.',
  remediation: REMEDIATION,
  eventSource: 's3.amazonaws.com',
  eventNames: ['PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock'],
  match(record, ctx) {
    const bucket = bucketOf(record, ctx);
    return bucket ? judge(record, bucket, 'bucket') : [];
  },
};

export const s3AccountPublicAccessBlock: ActivityDetector = {
  id: 'aws.s3.account-public-access-block-off',
  title: 'S3 Block Public Access removed or weakened for the account',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 's3',
  risk: 'The account-wide setting protects every bucket, including ones created later; without it, each bucket is only as safe as its own settings.',
  remediation: REMEDIATION,
  eventSource: 's3.amazonaws.com',
  eventNames: ['PutAccountPublicAccessBlock', 'DeleteAccountPublicAccessBlock'],
  match(record, ctx) {
    // The account is the resource: its id is what the setting belongs to.
    return judge(record, resource('AWS::::Account', ctx.account, ctx.account), 'account');
  },
};
