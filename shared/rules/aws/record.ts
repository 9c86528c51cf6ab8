import type { FindingResource } from '../../findings/finding';
import type { AwsEventContext, CloudTrailRecord, Detection } from '../types';

/**
 * Small readers for untrusted CloudTrail fields. A record is whatever the caller sent: every field may be
 * missing, null, of another type, or in one of the shapes CloudTrail uses for the same thing (EC2's
 * `{ items: [...] }` lists, XML-derived `{ content, tag }` scalars, `[""]` placeholders). Detectors read
 * through these so a surprising shape yields "nothing to report", never an exception.
 */

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown): Json | undefined {
  return isObject(value) ? value : undefined;
}

/** A non-empty string; XML-derived `{ content: "x" }` wrappers are unwrapped. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (isObject(value) && typeof value.content === 'string' && value.content.length > 0) return value.content;
  return undefined;
}

/** A boolean, also when a service logged it as the string `"true"` / `"false"`. */
export function bool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  return undefined;
}

/** An integer, also from a numeric string (XML-derived request shapes). */
export function int(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^-?[0-9]{1,10}$/.test(value)) return Number(value);
  return undefined;
}

/**
 * A list however CloudTrail spelled it: an array, EC2's `{ items: [...] }`, a single object standing for a
 * one-element list (XML-derived shapes), or nothing (`{}`, `""`, null, absent: EC2 logs empty lists as `{}`).
 */
export function list(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isObject(value)) {
    if (Array.isArray(value.items)) return value.items;
    if (Array.isArray(value.item)) return value.item;
    if (isObject(value.item)) return [value.item];
    return Object.keys(value).length === 0 ? [] : [value];
  }
  return [];
}

/** The list's objects only. */
export function objects(value: unknown): Json[] {
  return list(value).filter(isObject);
}

/** The list's non-empty strings only (a single string counts as a one-element list). */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return value.length > 0 ? [value] : [];
  const out: string[] = [];
  for (const item of list(value)) {
    const text = str(item);
    if (text !== undefined) out.push(text);
  }
  return out;
}

/**
 * The first present field among spellings. CloudTrail lower-cases the first letter of most request fields
 * (`dBInstanceIdentifier`), while XML-derived S3 and EC2 bodies keep the API's casing; accepting both costs
 * one lookup and survives either.
 */
export function field(source: Json | undefined, ...names: string[]): unknown {
  if (!source) return undefined;
  for (const name of names) {
    const value = source[name];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

export function request(record: CloudTrailRecord): Json {
  return obj(record.requestParameters) ?? {};
}

export function response(record: CloudTrailRecord): Json {
  return obj(record.responseElements) ?? {};
}

// ---------------------------------------------------------------- who made the call

export function isRoot(record: CloudTrailRecord): boolean {
  return record.userIdentity?.type === 'Root';
}

/** The principal ARN that made the call; services (no ARN) by what invoked them, else the principal id. */
export function actorOf(record: CloudTrailRecord): string | undefined {
  const identity = record.userIdentity;
  if (!identity) return undefined;
  return str(identity.arn) ?? str(identity.invokedBy) ?? str(identity.principalId) ?? str(identity.type);
}

/** For an assumed role, the role behind the session (`arn:aws:iam::<a>:role/<name>`). */
export function roleOf(record: CloudTrailRecord): string | undefined {
  const identity = record.userIdentity;
  if (identity?.type !== 'AssumedRole') return undefined;
  return str(identity.sessionContext?.sessionIssuer?.arn);
}

/**
 * Whether the caller is one of allowLists.trustedPrincipals (automation whose IAM changes are expected):
 * its own ARN, or for an assumed role the role's ARN (session names change with every session).
 */
export function isTrustedCaller(record: CloudTrailRecord, ctx: AwsEventContext): boolean {
  const trusted = ctx.allowLists.trustedPrincipals;
  if (trusted.length === 0) return false;
  const actor = str(record.userIdentity?.arn);
  const role = roleOf(record);
  return (actor !== undefined && trusted.includes(actor)) || (role !== undefined && trusted.includes(role));
}

// ---------------------------------------------------------------- resources

/** `arn:<partition>:<service>:<region>:<account>:<resource>`; IAM and S3 pass '' for the region (and S3 for the account). */
export function arn(ctx: AwsEventContext, service: string, resource: string, where: { region?: string; account?: string } = {}): string {
  return `arn:${ctx.partition}:${service}:${where.region ?? ctx.region}:${where.account ?? ctx.account}:${resource}`;
}

export function resource(type: string, id: string, name: string): FindingResource {
  return { type, id, name: name.length > 0 ? name : id };
}

/** The IAM user of the account by name (the path is left out so create and delete name the same resource). */
export function iamUser(ctx: AwsEventContext, name: string): FindingResource {
  return resource('AWS::IAM::User', arn(ctx, 'iam', `user/${name}`, { region: '' }), name);
}

export function rootUser(ctx: AwsEventContext): FindingResource {
  return resource('AWS::IAM::Root', arn(ctx, 'iam', 'root', { region: '' }), 'root');
}

/** The first ARN the record lists in `resources` whose type is `type` (KMS and others fill it in). */
export function listedArn(record: CloudTrailRecord, type: string): string | undefined {
  const listed = Array.isArray(record.resources) ? record.resources : [];
  for (const item of listed) {
    if (isObject(item) && item.type === type && typeof item.ARN === 'string' && item.ARN.startsWith('arn:')) return item.ARN;
  }
  return undefined;
}

/** The last `/`- or `:`-separated part of an ARN: a readable name. */
export function lastPart(id: string): string {
  const cut = Math.max(id.lastIndexOf('/'), id.lastIndexOf(':'));
  return cut >= 0 && cut < id.length - 1 ? id.slice(cut + 1) : id;
}

// ---------------------------------------------------------------- detections

export function fail(target: FindingResource, subject: string, evidence: Json, overrides: Pick<Detection, 'title' | 'severity'> = {}): Detection {
  const detection: Detection = { outcome: 'fail', resource: target, subject, evidence };
  if (overrides.title !== undefined) detection.title = overrides.title;
  if (overrides.severity !== undefined) detection.severity = overrides.severity;
  return detection;
}

export function pass(target: FindingResource, subject: string, resolvedReason?: string, evidence: Json = {}): Detection {
  const detection: Detection = { outcome: 'pass', resource: target, subject, evidence };
  if (resolvedReason !== undefined) detection.resolvedReason = resolvedReason;
  return detection;
}
