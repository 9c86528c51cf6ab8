import { AllowListsSchema, type AllowLists } from '../../../../shared/rules/allow-lists';
import { eventContext, evaluateCloudTrail, parseCloudTrailInput, toObservation, type EvaluateOptions } from '../../../../shared/rules/aws';
import type { Observation } from '../../../../shared/findings/lifecycle';
import type { Severity } from '../../../../shared/severity';
import { loadCorpus } from '../../../support/corpus';

/**
 * CloudTrail records for the detector tests and the bench: the published corpus samples, loaded (never
 * retyped), and variants derived from them in code by deep-cloning a sample and changing a field. A variant
 * keeps the sample's real envelope, caller, times and ids; only what the case is about changes.
 */

export type Json = Record<string, unknown>;

/** A corpus file holding one record: a one-element array, an envelope or a bare record. */
export function corpusInput(file: string): Json {
  const loaded = loadCorpus<unknown>(`aws/${file}`);
  const one = Array.isArray(loaded) ? loaded[0] : loaded;
  if (typeof one !== 'object' || one === null || Array.isArray(one)) throw new Error(`corpus file aws/${file} holds no record`);
  return one as Json;
}

export const CORPUS = {
  /** IAMUser; CLI shorthand request + normalised securityGroupRuleSet; CIDR anonymised to 208.236.235.254/0. */
  sgShorthand: 'cloudtrail-raw-AuthorizeSecurityGroupIngress.stratus.json',
  /** Envelope; Root caller; ipPermissions.items form with ::/0 on 22, no rule set in the response. */
  sgItemsEnvelope: 'eventbridge-cloudtrail-ec2-AuthorizeSecurityGroupIngress.cloud-buddy.json',
  /** IAMUser creating a key for another user. */
  accessKey: 'cloudtrail-raw-CreateAccessKey.stratus.json',
  stopLogging: 'cloudtrail-raw-StopLogging.stratus.json',
  /** Principal "*" public invoke backdoor, dated name AddPermission20150331v2. */
  addPermission: 'cloudtrail-raw-lambda-AddPermission20150331v2.stratus.json',
  /** Envelope; IAMUser; Principal "*" s3:List* policy object. */
  bucketPolicy: 'eventbridge-cloudtrail-s3-PutBucketPolicy.cloud-buddy.json',
  /** Envelope; Root caller. */
  createBucketRoot: 'eventbridge-cloudtrail-s3-CreateBucket-root.c7n.json',
  /** Envelope; AssumedRole caller. */
  createBucketAssumedRole: 'eventbridge-cloudtrail-s3-CreateBucket.c7n.json',
  /** AWS's own envelope example. */
  createBucketDocs: 'eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json',
  /** A deployment (the scanner's event): no security detector wants it. */
  updateFunctionCode: 'cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json',
} as const;

export type CorpusName = keyof typeof CORPUS;

export function sample(name: CorpusName): Json {
  return corpusInput(CORPUS[name]);
}

/** The CloudTrail record inside an input (the envelope's detail, or the record itself). */
export function recordIn(input: Json): Json {
  const detail = input.detail;
  return typeof detail === 'object' && detail !== null && !Array.isArray(detail) ? (detail as Json) : input;
}

/** A deep copy of the sample with `change` applied to its CloudTrail record. */
export function derive(name: CorpusName | Json, change: (record: Json, input: Json) => void): Json {
  const input = structuredClone(typeof name === 'string' ? sample(name) : name);
  change(recordIn(input), input);
  return input;
}

/** A sample turned into another API call: the caller, times and ids stay real, the call is what the case needs. */
export function call(name: CorpusName, eventSource: string, eventName: string, requestParameters: Json | null, responseElements: Json | null = null): Json {
  return derive(name, (record, input) => {
    record.eventSource = eventSource;
    record.eventName = eventName;
    record.requestParameters = requestParameters;
    record.responseElements = responseElements;
    if ('source' in input) input.source = `aws.${eventSource.replace(/\.amazonaws\.com$/, '')}`;
  });
}

/** The same call, failed: CloudTrail adds errorCode and errorMessage and logs no response. */
export function failed(input: Json, errorCode = 'AccessDenied'): Json {
  return derive(input, (record) => {
    record.errorCode = errorCode;
    record.errorMessage = 'User is not authorized to perform this operation';
    record.responseElements = null;
  });
}

export function allowLists(overrides: Partial<AllowLists> = {}): AllowLists {
  return AllowListsSchema.parse(overrides);
}

export interface Outcome {
  ruleId: string;
  outcome: 'fail' | 'pass';
  subject: string;
  severity: Severity;
  resourceId: string;
  title: string;
}

export interface Run {
  outcomes: Outcome[];
  fails: Outcome[];
  passes: Outcome[];
  observations: Observation[];
  errors: string[];
}

/** Parses the input, runs every detector it routes to, and turns the detections into observations. */
export function run(input: unknown, allow: Partial<AllowLists> = {}, options: EvaluateOptions = {}): Run {
  const parsed = parseCloudTrailInput(input);
  if (parsed.errors.length > 0) throw new Error(`input did not parse: ${parsed.errors.map((e) => e.message).join('; ')}`);
  const outcomes: Outcome[] = [];
  const observations: Observation[] = [];
  const errors: string[] = [];
  for (const event of parsed.events) {
    const ctx = eventContext(event, allowLists(allow));
    const result = evaluateCloudTrail(event.record, ctx, options);
    errors.push(...result.errors.map((e) => e.message));
    for (const { detector, detection } of result.detections) {
      const observation = toObservation(detector, detection, event.record, ctx);
      observations.push(observation);
      outcomes.push({ ruleId: detector.id, outcome: detection.outcome, subject: detection.subject, severity: observation.severity, resourceId: detection.resource.id, title: observation.title });
    }
  }
  return { outcomes, fails: outcomes.filter((o) => o.outcome === 'fail'), passes: outcomes.filter((o) => o.outcome === 'pass'), observations, errors };
}

/** What a case expects of one detection; fields left out are not checked. */
export type Expected = Partial<Outcome> & Pick<Outcome, 'outcome'>;

export interface DetectorCase {
  name: string;
  input: () => Json;
  allow?: Partial<AllowLists>;
  /** Every detection the input yields, in order; `[]` for a benign or failed call. */
  expect: Expected[];
}
