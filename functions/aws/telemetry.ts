import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Powertools logger (structured JSON), metrics (EMF) and tracer (X-Ray) for one function. */
export interface Telemetry {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

export function createTelemetry(serviceName: string, namespace: string): Telemetry {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName, namespace }),
    tracer: new Tracer({ serviceName }),
  };
}

export const SCAN_FAILURE_METRIC = 'ScanFailure';
export const FAILURE_REASON_DIMENSION = 'reason';

/**
 * Counts one failed record twice: with the default dimensions only, which is the series the
 * scan-failures alarm watches (CloudWatch matches a metric's exact dimension set, so an extra
 * dimension would hide it from the alarm), and with `reason` for a breakdown by cause.
 */
export function countScanFailure(metrics: Metrics, reason: string): void {
  metrics.addMetric(SCAN_FAILURE_METRIC, MetricUnit.Count, 1);
  metrics.singleMetric().addDimension(FAILURE_REASON_DIMENSION, reason).addMetric(SCAN_FAILURE_METRIC, MetricUnit.Count, 1);
}

/**
 * A dimension value for a thrown error: its class / SDK error name (`AccessDeniedException`,
 * `NoSuchBucket`, `ResolveError`...), a small set, never its message (which carries ARNs and ids
 * and would make one series per function).
 */
export function failureReason(error: unknown): string {
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(name) ? name : 'Error';
}
