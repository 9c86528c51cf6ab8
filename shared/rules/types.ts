import type { Severity } from '../severity';
import type { Cloud, FindingResource, Remediation } from '../findings/finding';
import type { AllowLists } from './allow-lists';

/**
 * The rule library's contracts. Rules are pure: they read an event or a configuration and say what fails;
 * they never call a cloud API. Each rule is one small module with its metadata (as Prowler's checks are):
 * id, title, severity, the risk in a sentence, the remediation.
 */
export interface RuleMetadata {
  /** `aws.ec2.open-ingress`, `azure.storage.public-blob-access`...: stable, they are part of finding ids. */
  id: string;
  title: string;
  severity: Severity;
  cloud: Cloud;
  /** Service the rule belongs to (`ec2`, `s3`, `iam`, `storage`, `network`...): `--service` and scoping. */
  service: string;
  /** What can go wrong, in one or two sentences. */
  risk: string;
  remediation: Remediation;
}

/** What a rule reports about one subject of one resource. */
export interface Detection {
  outcome: 'fail' | 'pass';
  resource: FindingResource;
  /** What within the resource (`tcp/22 from 0.0.0.0/0`, an access key id, the event id); empty for the resource as a whole. */
  subject: string;
  /** Small and free of secrets (boundedEvidence is applied again when recorded). */
  evidence: Record<string, unknown>;
  /** Overrides of the rule's own title or severity (root above all, a wider port range...). */
  title?: string;
  severity?: Severity;
  /** For a pass: why the finding is resolved (`fixed` by default). */
  resolvedReason?: string;
}

// ---------------------------------------------------------------- AWS: CloudTrail records

export interface CloudTrailUserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  userName?: string;
  invokedBy?: string;
  sessionContext?: {
    sessionIssuer?: { type?: string; arn?: string; userName?: string; accountId?: string };
    attributes?: { mfaAuthenticated?: string; creationDate?: string };
  };
}

/** A CloudTrail record (the `detail` of an EventBridge envelope, or one item of a trail file's `Records`). */
export interface CloudTrailRecord {
  eventVersion?: string;
  eventID?: string;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  userIdentity?: CloudTrailUserIdentity;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
  errorCode?: string;
  errorMessage?: string;
  recipientAccountId?: string;
  eventType?: string;
  eventCategory?: string;
  readOnly?: boolean;
  resources?: { ARN?: string; type?: string; accountId?: string }[];
}

export interface AwsEventContext {
  allowLists: AllowLists;
  /** EventBridge `detail-type` when the record came in an envelope. */
  detailType?: string;
  /** The account and region the event is about (recipientAccountId / envelope account; awsRegion). */
  account: string;
  region: string;
  partition: string;
}

/**
 * A call that is the signal itself (seed 002's handlers): StopLogging, a root sign-in, an ingress rule open to
 * the world. It may also report a pass for the call that undoes it (StartLogging resolves StopLogging).
 */
export interface ActivityDetector extends RuleMetadata {
  cloud: 'aws';
  category: 'activity';
  /** `ec2.amazonaws.com`...: with eventNames, what the EventBridge rule is rendered from. */
  eventSource: string;
  /** Exact names; Lambda's dated forms (`AddPermission20150331v2`) are matched by their undated prefix. */
  eventNames: readonly string[];
  /** EventBridge detail-types this detector needs besides `AWS API Call via CloudTrail` (console sign-ins). */
  detailTypes?: readonly string[];
  /** Called only for successful records of one of eventNames; a failed call (errorCode) never reaches it. */
  match(record: CloudTrailRecord, ctx: AwsEventContext): Detection[];
}

// ---------------------------------------------------------------- Azure: ARM events

/** One ARM event from the subscription's system topic (Event Grid or CloudEvents schema, normalised). */
export interface ArmActivity {
  id: string;
  eventType: string;
  eventTime: string;
  subject: string;
  /** `data.operationName`, e.g. `Microsoft.Network/networkSecurityGroups/write`. */
  operationName: string;
  resourceUri: string;
  subscriptionId: string;
  status?: string;
  /** UPN, else the object id, else the app id of the caller. */
  actor?: string;
  sourceIp?: string;
  correlationId?: string;
}

export interface AzureEventContext {
  allowLists: AllowLists;
}

/**
 * An ARM operation that is the signal itself (a diagnostic setting deleted). Configuration checks on Azure
 * are posture rules triggered by the write operations instead, evaluated on the resource's ARM GET body.
 */
export interface ArmActivityDetector extends RuleMetadata {
  cloud: 'azure';
  category: 'activity';
  /** Matched case-insensitively against `data.operationName`. */
  operationNames: readonly string[];
  match(event: ArmActivity, ctx: AzureEventContext): Detection[];
}

// ---------------------------------------------------------------- posture rules (both clouds)

export type PostureEvaluation =
  | { status: 'not-applicable'; reason: string }
  /** `failures` empty means the resource passes the rule. */
  | { status: 'evaluated'; failures: Omit<Detection, 'outcome' | 'resource'>[] };

/** How a change event names the resource a posture rule looks at, so it can be described and re-evaluated. */
export interface PostureTrigger {
  /** AWS: eventSource + eventNames; Azure: ARM operation names. */
  eventSource?: string;
  eventNames?: readonly string[];
  operationNames?: readonly string[];
}

/**
 * A configuration that drifts out of policy (seed 001's policies): evaluated over the shape the describe / ARM
 * GET / Resource Graph APIs return for `resourceType`, on a change event or on the scheduled run.
 */
export interface PostureRule<Config = unknown> extends RuleMetadata {
  category: 'posture';
  /** `AWS::S3::Bucket`, `microsoft.network/networksecuritygroups`... (Azure types lower-case). */
  resourceType: string;
  triggers: readonly PostureTrigger[];
  evaluate(config: Config, ctx: { allowLists: AllowLists }): PostureEvaluation;
}
