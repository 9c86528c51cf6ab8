import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { safeS3Key } from '../../shared/storage-keys';
import type { ScanResult } from '../../shared/scan-result';
import { parseScanResult } from '../../shared/scan-result';

/** ScanResult v1 documents in S3 under `results/<account>/<region>/<function>/<content-id>/<scanId>.json`. */

export function resultKey(parts: { account: string; region: string; functionName: string; contentId: string; scanId: string }): string {
  return safeS3Key('results', parts.account, parts.region, parts.functionName, parts.contentId, `${parts.scanId}.json`);
}

/** Images pushed to ECR: `results/images/<account>/<region>/<repository>/<content-id>/<scanId>.json`. */
export function imageResultKey(parts: { account: string; region: string; repository: string; contentId: string; scanId: string }): string {
  return safeS3Key('results', 'images', parts.account, parts.region, parts.repository, parts.contentId, `${parts.scanId}.json`);
}

export class ResultStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, result: ScanResult): Promise<void> {
    // Validate on the way out too: a document that fails the schema must never be stored.
    const body = JSON.stringify(parseScanResult(result));
    // No SSE header: naming `aws:kms` without a key id would pick the AWS-managed key instead of the bucket's default CMK.
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }));
  }
}
