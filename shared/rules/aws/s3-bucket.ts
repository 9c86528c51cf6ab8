import type { AwsEventContext, CloudTrailRecord } from '../types';
import { resource, str, request, type Json } from './record';

/** The bucket a bucket-level S3 call is about, or undefined when the record names none. */
export function bucketOf(record: CloudTrailRecord, ctx: AwsEventContext): ReturnType<typeof resource> | undefined {
  const req: Json = request(record);
  const name = str(req.bucketName);
  if (!name) return undefined;
  // Bucket ARNs carry neither region nor account.
  return resource('AWS::S3::Bucket', `arn:${ctx.partition}:s3:::${name}`, name);
}
