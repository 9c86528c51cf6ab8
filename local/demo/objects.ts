/**
 * S3 object events and bytes for the demo and the ready examples: CloudTrail PutObject data events re-pointed
 * from the published sample (local/corpus/aws/cloudtrail-raw-s3-PutObject-dataevent.elastic.json), S3's Object
 * Created event in its documented shape, and a release archive written on the fly (tar-stream + gzip; nothing is
 * checked in as a binary) that holds packages the fake qscanner knows as vulnerable and a planted key.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import { loadCorpus } from '../corpus';

type Json = Record<string, unknown>;

export const PUT_OBJECT_SAMPLE = 'aws/cloudtrail-raw-s3-PutObject-dataevent.elastic.json';

export interface ObjectEventTarget {
  account: string;
  region: string;
  bucket: string;
  /** The key as stored (not encoded). */
  key: string;
  versionId?: string;
  size?: number;
}

/** A CloudTrail data event for an object write, re-pointed from the published PutObject record. */
export function s3WriteRecordVariant(
  sample: Json,
  target: ObjectEventTarget,
  eventName: 'PutObject' | 'CompleteMultipartUpload' | 'CopyObject' = 'PutObject',
): Json {
  const record = structuredClone(sample);
  record.eventName = eventName;
  record.eventCategory = 'Data';
  record.eventID = randomUUID();
  record.eventTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  record.recipientAccountId = target.account;
  record.awsRegion = target.region;
  const identity = (record.userIdentity ?? {}) as Json;
  identity.accountId = target.account;
  identity.arn = `arn:aws:iam::${target.account}:user/release-bot`;
  record.userIdentity = identity;
  record.requestParameters = {
    bucketName: target.bucket,
    Host: `${target.bucket}.s3.${target.region}.amazonaws.com`,
    key: target.key,
    ...(eventName === 'CompleteMultipartUpload' ? { uploadId: `upload-${randomUUID()}` } : {}),
    ...(eventName === 'CopyObject' ? { 'x-amz-copy-source': `staging-${target.bucket}/${target.key}` } : {}),
  };
  const tls = record.tlsDetails as Json | undefined;
  if (tls) tls.clientProvidedHostHeader = `${target.bucket}.s3.${target.region}.amazonaws.com`;
  record.responseElements = target.versionId ? { 'x-amz-version-id': target.versionId } : null;
  const extra = (record.additionalEventData ?? {}) as Json;
  if (eventName === 'PutObject' && target.size !== undefined) extra.bytesTransferredIn = target.size;
  else delete extra.bytesTransferredIn;
  record.additionalEventData = extra;
  record.resources = [
    { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${target.bucket}/${target.key}` },
    { accountId: target.account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${target.bucket}` },
  ];
  return record;
}

/** The EventBridge envelope a CloudTrail data event arrives in (what a member account's forwarding rule sends). */
export function s3CloudTrailEnvelope(record: Json): Json {
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

/** S3's own Object Created event on EventBridge: the key URL-encoded (`%20` a space, `+` a plus). */
export function objectCreatedEvent(target: ObjectEventTarget): Json {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: target.account,
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: target.region,
    resources: [`arn:aws:s3:::${target.bucket}`],
    detail: {
      version: '0',
      bucket: { name: target.bucket },
      object: {
        key: encodeURIComponent(target.key).replace(/%2F/g, '/'),
        ...(target.size !== undefined ? { size: target.size } : {}),
        ...(target.versionId ? { 'version-id': target.versionId } : {}),
        sequencer: '00617F08299329D189',
      },
      'request-id': randomUUID(),
      requester: target.account,
      reason: 'PutObject',
    },
  };
}

/** Manifests the fake qscanner reads (local/fake-qscanner): each names a package it knows as vulnerable. */
export const DEMO_PACKAGE_LOCK = JSON.stringify(
  { name: 'shop-api', lockfileVersion: 3, packages: { '': { name: 'shop-api', dependencies: { lodash: '4.17.15' } }, 'node_modules/lodash': { version: '4.17.15' } } },
  null,
  2,
);
export const DEMO_REQUIREMENTS = 'requests==2.19.1\nflask==2.3.2\n';

/** The documented example key id, assembled here so that no source file holds it whole. */
const PLANTED_KEY_ID = ['AKIA', 'IOSFODNN7', 'EXAMPLE'].join('');

/** A release archive (`.tar.gz`): a Node service with a vulnerable lodash, a Python worker, and a key left in its config. */
export async function demoReleaseArchive(): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const mtime = new Date('2026-11-30T09:00:00Z');
  const files: [string, string][] = [
    ['shop-api/package-lock.json', DEMO_PACKAGE_LOCK],
    ['shop-api/worker/requirements.txt', DEMO_REQUIREMENTS],
    ['shop-api/config/deploy.env', `REGION=us-east-1\nAWS_ACCESS_KEY_ID=${PLANTED_KEY_ID}\n`],
  ];
  for (const [name, text] of files) pack.entry({ name, mtime }, Buffer.from(text));
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

export function putObjectSample(): Json {
  return loadCorpus<Json>(PUT_OBJECT_SAMPLE);
}
