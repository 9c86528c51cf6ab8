/**
 * Object events as each source delivers them, built from the published PutObject data event
 * (local/corpus/aws/cloudtrail-raw-s3-PutObject-dataevent.elastic.json) and the documented Object Created and
 * S3 notification shapes (../shared/reference/wave2.md C).
 */
import { randomUUID } from 'node:crypto';
import { loadCorpus } from '../../support/corpus';

type Json = Record<string, any>; // events are free-form JSON

export interface ObjectRef {
  account: string;
  region?: string;
  bucket: string;
  key: string;
  versionId?: string;
  size?: number;
}

/** A CloudTrail data event (raw record) for the object, re-pointed from the published PutObject sample. */
export function cloudTrailRecord(ref: ObjectRef, eventName: 'PutObject' | 'CompleteMultipartUpload' | 'CopyObject' = 'PutObject'): Json {
  const record = structuredClone(loadCorpus<Json>('aws/cloudtrail-raw-s3-PutObject-dataevent.elastic.json'));
  const region = ref.region ?? 'us-east-1';
  record.eventName = eventName;
  record.eventCategory = 'Data';
  record.eventID = randomUUID();
  record.recipientAccountId = ref.account;
  record.awsRegion = region;
  record.userIdentity.accountId = ref.account;
  record.userIdentity.arn = `arn:aws:iam::${ref.account}:user/uploader`;
  record.requestParameters = { bucketName: ref.bucket, Host: `${ref.bucket}.s3.${region}.amazonaws.com`, key: ref.key };
  if (eventName === 'CompleteMultipartUpload') record.requestParameters.uploadId = 'local-upload-1';
  if (eventName === 'CopyObject') record.requestParameters['x-amz-copy-source'] = `source-bucket/${ref.key}`;
  record.responseElements = ref.versionId ? { 'x-amz-version-id': ref.versionId } : null;
  record.additionalEventData.bytesTransferredIn = eventName === 'PutObject' ? (ref.size ?? 0) : 312;
  record.resources = [
    { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${ref.bucket}/${ref.key}` },
    { accountId: ref.account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${ref.bucket}` },
  ];
  return record;
}

/** The EventBridge envelope of a CloudTrail data event (what a member account's forwarding rule sends). */
export function cloudTrailEnvelope(record: Json): Json {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.s3',
    account: record.recipientAccountId,
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  };
}

/** S3's own "Object Created" event on EventBridge; its key is URL-encoded (`%20` for a space, `+` a plus). */
export function objectCreated(ref: ObjectRef, encodedKey: string): Json {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: ref.account,
    time: '2026-12-03T10:00:00Z',
    region: ref.region ?? 'us-east-1',
    resources: [`arn:aws:s3:::${ref.bucket}`],
    detail: {
      version: '0',
      bucket: { name: ref.bucket },
      object: { key: encodedKey, ...(ref.size !== undefined ? { size: ref.size } : {}), etag: 'e', ...(ref.versionId ? { 'version-id': ref.versionId } : {}), sequencer: '0001' },
      'request-id': 'R',
      requester: ref.account,
      reason: 'PutObject',
    },
  };
}

/** An S3 event notification record (SQS / SNS / Lambda format): keys form-encoded, a space is `+`. */
export function notificationRecord(ref: ObjectRef, formEncodedKey: string): Json {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: ref.region ?? 'us-east-1',
    eventTime: '2026-12-03T10:00:00.000Z',
    eventName: 'ObjectCreated:Put',
    recipientAccountId: ref.account,
    userIdentity: { principalId: 'AWS:EXAMPLE' },
    s3: { s3SchemaVersion: '1.0', bucket: { name: ref.bucket, arn: `arn:aws:s3:::${ref.bucket}` }, object: { key: formEncodedKey, size: ref.size ?? 0, ...(ref.versionId ? { versionId: ref.versionId } : {}) } },
  };
}
