import type { ActivityDetector } from '../types';
import { fail, isObject, pass, request, strings, type Json } from './record';
import { bucketOf } from './s3-bucket';

/**
 * A bucket ACL granting access to everyone (AllUsers) or to every AWS account (AuthenticatedUsers), in any of
 * the three ways PutBucketAcl carries it: a canned ACL (`x-amz-acl: ["public-read"]`, an array in CloudTrail),
 * grant headers (`x-amz-grant-read: ["uri=http://acs.amazonaws.com/groups/global/AllUsers"]`), or an
 * AccessControlPolicy body. The latter two shapes are unverified in CloudTrail, so the body is searched for
 * grantees by URI wherever they sit rather than at one fixed path.
 */

const PUBLIC_GROUP = /acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)/;
const CANNED: Record<string, { grantee: string; permission: string }[]> = {
  'public-read': [{ grantee: 'AllUsers', permission: 'READ' }],
  'public-read-write': [
    { grantee: 'AllUsers', permission: 'READ' },
    { grantee: 'AllUsers', permission: 'WRITE' },
  ],
  'authenticated-read': [{ grantee: 'AuthenticatedUsers', permission: 'READ' }],
};
const GRANT_HEADERS: Record<string, string> = {
  'x-amz-grant-read': 'READ',
  'x-amz-grant-write': 'WRITE',
  'x-amz-grant-read-acp': 'READ_ACP',
  'x-amz-grant-write-acp': 'WRITE_ACP',
  'x-amz-grant-full-control': 'FULL_CONTROL',
};
/** Writing objects or the ACL itself hands the bucket over; reading only exposes it. */
const WRITE_PERMISSIONS = new Set(['WRITE', 'WRITE_ACP', 'FULL_CONTROL']);
const MAX_WALK_DEPTH = 8;

interface PublicGrant {
  grantee: string;
  permission: string;
  via: 'canned ACL' | 'grant header' | 'ACL body';
}

/** Grant objects (`{ Grantee: { URI }, Permission }`) anywhere under the AccessControlPolicy. */
function bodyGrants(value: unknown, depth: number, out: PublicGrant[]): void {
  if (depth > MAX_WALK_DEPTH) return;
  if (Array.isArray(value)) {
    for (const item of value) bodyGrants(item, depth + 1, out);
    return;
  }
  if (!isObject(value)) return;
  if (isObject(value.Grantee)) {
    const uri = strings(value.Grantee.URI ?? value.Grantee.uri)[0];
    const match = uri ? PUBLIC_GROUP.exec(uri) : null;
    const permission = strings(value.Permission)[0];
    if (match && permission) out.push({ grantee: match[1]!, permission, via: 'ACL body' });
    return;
  }
  for (const item of Object.values(value)) bodyGrants(item, depth + 1, out);
}

export function publicGrants(req: Json): PublicGrant[] {
  const out: PublicGrant[] = [];
  for (const canned of strings(req['x-amz-acl'])) {
    for (const grant of CANNED[canned] ?? []) out.push({ ...grant, via: 'canned ACL' });
  }
  for (const [header, permission] of Object.entries(GRANT_HEADERS)) {
    for (const value of strings(req[header])) {
      // A header value is a comma-separated list of `uri="..."`, `id="..."`, `emailAddress="..."`.
      for (const part of value.split(',')) {
        const match = PUBLIC_GROUP.exec(part);
        if (match) out.push({ grantee: match[1]!, permission, via: 'grant header' });
      }
    }
  }
  bodyGrants(req.AccessControlPolicy, 0, out);
  return out;
}

function describesAcl(req: Json): boolean {
  return strings(req['x-amz-acl']).length > 0 || Object.keys(GRANT_HEADERS).some((h) => strings(req[h]).length > 0) || isObject(req.AccessControlPolicy);
}

export const s3PublicAcl: ActivityDetector = {
  id: 'aws.s3.bucket-public-acl',
  title: 'S3 bucket ACL grants public access',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 's3',
  risk: 'An ACL grant to AllUsers lets anyone on the internet list or read the bucket (or write to it); AuthenticatedUsers means any AWS account, not only yours.',
  remediation: {
    text: 'Set the bucket ACL back to private, enforce bucket-owner ownership so ACLs are disabled, and keep S3 Block Public Access on.',
    url: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html',
  },
  eventSource: 's3.amazonaws.com',
  eventNames: ['PutBucketAcl'],
  match(record, ctx) {
    const bucket = bucketOf(record, ctx);
    if (!bucket) return [];
    const req = request(record);
    const grants = publicGrants(req);
    if (grants.length === 0) {
      // Every PutBucketAcl replaces the whole ACL: one that is readable and grants nothing public resolves an
      // earlier finding. A record whose ACL is in none of the known shapes says nothing either way.
      return describesAcl(req) ? [pass(bucket, 'bucket-acl', 'ACL no longer public')] : [];
    }
    const write = grants.some((g) => WRITE_PERMISSIONS.has(g.permission));
    const everyone = grants.some((g) => g.grantee === 'AllUsers');
    return [
      fail(
        bucket,
        'bucket-acl',
        { grants: grants.map((g) => ({ grantee: g.grantee, permission: g.permission, via: g.via })) },
        {
          title: `S3 bucket ${bucket.name} ACL grants ${write ? 'write' : 'read'} access to ${everyone ? 'everyone' : 'every AWS account'}`,
          severity: write ? 'CRITICAL' : 'HIGH',
        },
      ),
    ];
  },
};
