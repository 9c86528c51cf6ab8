import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { RecordedTransition } from '../../../shared/findings/recorder';

/**
 * The security-events function's metrics (EMF, namespace Shipscan, dimension service). Counts without an
 * extra dimension are what the alarms watch (CloudWatch keeps each dimension set apart); the findings
 * counts carry Severity, so a dashboard stacks them by severity.
 */
export const SECURITY_METRICS = {
  findingsOpened: 'FindingsOpened',
  findingsResolved: 'FindingsResolved',
  detectorErrors: 'DetectorErrors',
  malformedEvents: 'MalformedEvents',
  unknownEvents: 'UnknownEvents',
  eventsEvaluated: 'EventsEvaluated',
  recordFailures: 'RecordFailures',
} as const;

export const SEVERITY_DIMENSION = 'Severity';

/** Opened (open, reopen, unsuppress) and resolved transitions, one data point each, by severity. */
export function countTransitions(metrics: Metrics, transitions: readonly Omit<RecordedTransition, 'notified'>[]): void {
  for (const t of transitions) {
    const name = t.kind === 'open' || t.kind === 'reopen' || t.kind === 'unsuppress' ? SECURITY_METRICS.findingsOpened : t.kind === 'resolve' ? SECURITY_METRICS.findingsResolved : undefined;
    if (!name) continue;
    metrics.singleMetric().addDimension(SEVERITY_DIMENSION, t.finding.severity).addMetric(name, MetricUnit.Count, 1);
  }
}

export function count(metrics: Metrics, name: (typeof SECURITY_METRICS)[keyof typeof SECURITY_METRICS], value: number): void {
  if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
}
