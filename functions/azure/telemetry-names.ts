import { FINDING_CATEGORIES, FINDING_STATES, FINDING_TRIGGERS } from '../../shared/findings/finding';
import type { TransitionKind } from '../../shared/findings/lifecycle';
import { SEVERITIES } from '../../shared/severity';

/**
 * Every name the Azure runtime emits to Application Insights. The KQL queries in `queries/` are
 * checked against this module, so a rename here fails their test instead of silently breaking a
 * dashboard.
 */

/** customEvents: one per image outcome (completed, failed, timed out, cache hit, duplicate skipped). */
export const CONTAINER_SCAN_EVENT = 'ContainerScan' as const;

/** customDimensions of CONTAINER_SCAN_EVENT, in the order the queries project them. */
export const CONTAINER_SCAN_DIMENSIONS = [
  'EventType',
  'Image',
  'ContainerType',
  'ScanId',
  'Status',
  'VulnCritical',
  'VulnHigh',
  'VulnMedium',
  'VulnLow',
  'Duration',
  // Extras beyond the seed's set.
  'VulnInformational',
  'VulnTotal',
  'Digest',
  'ResourceId',
  'Reason',
  'BlobPath',
] as const;
export type ContainerScanDimension = (typeof CONTAINER_SCAN_DIMENSIONS)[number];

/**
 * `EventType`: what happened to the image. `Duration` is milliseconds from submit (or from the
 * deployment event for cache hits and skips) to the outcome.
 */
export const SCAN_EVENT_TYPES = {
  completed: 'ScanCompleted',
  failed: 'ScanFailed',
  timeout: 'ScanTimeout',
  cacheHit: 'CacheHit',
  duplicateSkipped: 'DuplicateSkipped',
} as const;
export type ScanEventType = (typeof SCAN_EVENT_TYPES)[keyof typeof SCAN_EVENT_TYPES];

/** `Status`: the ScanResult status, plus the outcomes that are not a stored scan of their own. */
export const SCAN_STATUSES = ['COMPLETED', 'PARTIAL', 'FAILED', 'TIMEOUT', 'CACHED', 'SKIPPED'] as const;
export type ScanStatusDimension = (typeof SCAN_STATUSES)[number];

/** `ContainerType` values (also the Table column). */
export const CONTAINER_TYPES = ['ACI', 'ACA'] as const;
export type ContainerType = (typeof CONTAINER_TYPES)[number];

/**
 * customEvents for what became of the deployment events of a queue message. `Count` is the number of
 * events one telemetry event stands for: 1 for Accepted, Duplicate and ResourceGone (one per event),
 * the number of events of the message for Ignored and Malformed (one per message, `Reason` then lists
 * the reasons with their counts, bounded). Sum `Count`, do not count rows.
 */
export const DEPLOYMENT_EVENT = 'ContainerDeploymentEvent' as const;
export const DEPLOYMENT_EVENT_DIMENSIONS = ['Outcome', 'ResourceId', 'OperationName', 'Reason', 'MessageId', 'Count'] as const;
export type DeploymentEventDimension = (typeof DEPLOYMENT_EVENT_DIMENSIONS)[number];
export const DEPLOYMENT_OUTCOMES = {
  accepted: 'Accepted',
  ignored: 'Ignored',
  duplicate: 'Duplicate',
  malformed: 'Malformed',
  resourceGone: 'ResourceGone',
} as const;

/**
 * dependencies: one per HTTP call to the Qualys gateway; `target` is the gateway host. The type is
 * what the Azure Monitor exporter (applicationinsights 3) writes for HTTP client spans: `Http`
 * (KQL `==` is case-sensitive; `=~ "HTTP"` matches it too).
 */
export const HTTP_DEPENDENCY_TYPE = 'Http' as const;
/** Rate-limit families of the Container Security API (see the Qualys rate limit page), plus /auth. */
export const QUALYS_ENDPOINT_FAMILIES = [
  'auth',
  'images/list',
  'images',
  'registry',
  'containers/list',
  'containers',
  'other',
] as const;
export type QualysEndpointFamily = (typeof QUALYS_ENDPOINT_FAMILIES)[number];
/** Dependency name for a family, e.g. `Qualys images/list`. */
export const QUALYS_DEPENDENCY_PREFIX = 'Qualys ' as const;
export function qualysDependencyName(family: QualysEndpointFamily): string {
  return `${QUALYS_DEPENDENCY_PREFIX}${family}`;
}
export const QUALYS_DEPENDENCY_NAMES = QUALYS_ENDPOINT_FAMILIES.map(qualysDependencyName);

/** exceptions: every tracked exception carries customDimensions.Component, one of these. */
export const EXCEPTION_COMPONENT_PROPERTY = 'Component' as const;
/**
 * customDimensions a handler may add to a tracked exception (`Telemetry.exception` accepts only
 * these, so the queries' catalog check sees every name the runtime can send).
 */
export const EXCEPTION_PROPERTIES = ['ResourceId', 'EventId', 'ScanId', 'DequeueCount', 'Attempt'] as const;
export type ExceptionProperty = (typeof EXCEPTION_PROPERTIES)[number];
export const COMPONENTS = {
  onDeployment: 'onDeployment',
  pollScan: 'pollScan',
  alert: 'alertWebhook',
  settings: 'settings',
  onSecurityEvent: 'onSecurityEvent',
} as const;
export type Component = (typeof COMPONENTS)[keyof typeof COMPONENTS];

/** Function names as registered with the host (they appear as `operation_Name`). */
export const FUNCTION_NAMES = { onDeployment: 'onDeployment', pollScan: 'pollScan', onSecurityEvent: 'onSecurityEvent' } as const;

/**
 * customEvents: one per finding transition (opened, reopened, resolved, suppressed...), whatever produced it
 * (security events, the scheduled inventory, a scan, an artifact). `Category` tells them apart.
 */
export const SECURITY_FINDING_EVENT = 'SecurityFinding' as const;
export const SECURITY_FINDING_DIMENSIONS = [
  'FindingId',
  'RuleId',
  'Category',
  'Severity',
  'State',
  'Transition',
  'Title',
  'ResourceId',
  'ResourceType',
  'ResourceName',
  'Subscription',
  'Subject',
  'Actor',
  'SourceIp',
  'EventName',
  'Trigger',
  'FirstSeenAt',
  'ResolvedAt',
  'ResolvedReason',
  'ReopenCount',
  // Vulnerability findings.
  'Cves',
  'Package',
  'InstalledVersion',
  'FixedVersion',
] as const;
export type SecurityFindingDimension = (typeof SECURITY_FINDING_DIMENSIONS)[number];

/** Values the SecurityFinding dimensions take (the queries compare against these). */
export const SECURITY_FINDING_VALUES = {
  Severity: SEVERITIES,
  State: FINDING_STATES,
  Category: FINDING_CATEGORIES,
  Trigger: FINDING_TRIGGERS,
  Transition: ['open', 'reopen', 'resolve', 'suppress', 'unsuppress', 'touch'] as const satisfies readonly TransitionKind[],
} as const;
/** Every TransitionKind is listed above (a new kind fails to compile here until it is). */
type UnlistedTransition = Exclude<TransitionKind, (typeof SECURITY_FINDING_VALUES.Transition)[number]>;
const _allTransitionsListed: UnlistedTransition extends never ? true : false = true;
void _allTransitionsListed;

/**
 * customEvents for what became of the ARM events of a security-events queue message, like
 * DEPLOYMENT_EVENT for deployments: `Count` is how many events one telemetry event stands for (Ignored,
 * Malformed and DetectorError are one per message, with the reasons and their counts in `Reason`).
 * Sum `Count`, do not count rows.
 */
export const SECURITY_EVENT = 'SecurityEvent' as const;
export const SECURITY_EVENT_DIMENSIONS = ['Outcome', 'OperationName', 'ResourceId', 'RuleIds', 'Reason', 'MessageId', 'Count'] as const;
export type SecurityEventDimension = (typeof SECURITY_EVENT_DIMENSIONS)[number];
export const SECURITY_EVENT_OUTCOMES = {
  /** The resource was read from ARM and its rules evaluated. */
  evaluated: 'Evaluated',
  /** The resource is gone (a delete event, or a 404 on the GET after a write): its findings resolved. */
  resourceGone: 'ResourceGone',
  /** An activity detector matched the event. */
  detected: 'Detected',
  ignored: 'Ignored',
  malformed: 'Malformed',
  /** A rule or detector threw: a bug, counted and logged, never retried. */
  detectorError: 'DetectorError',
} as const;
