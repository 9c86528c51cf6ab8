import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { METRICS_NAMESPACE, type AwsContext } from './context';

export const SCANNER_SERVICE_NAME = 'shipscan-scanner';
export const BULK_SERVICE_NAME = 'shipscan-bulk';

export interface MonitoringArgs {
  scannerFunctionName: string;
  bulkFunctionName: string;
  timeoutSec: number;
  queueName: pulumi.Input<string>;
  deadLetterQueueName: pulumi.Input<string>;
  topicArn: pulumi.Input<string>;
  /** Errors in 5 minutes above which the scanner alarms (default 5). */
  errorThreshold: number;
}

export interface AlarmSpec {
  suffix: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  statistic: 'Sum' | 'Maximum';
  threshold: number;
}

/** The alarms, as data, so tests and the README can state them. */
export function alarmSpecs(args: MonitoringArgs): AlarmSpec[] {
  const scanner = { FunctionName: args.scannerFunctionName };
  return [
    { suffix: 'scanner-errors', description: `more than ${args.errorThreshold} scanner errors in 5 minutes`, namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: scanner, statistic: 'Sum', threshold: args.errorThreshold },
    { suffix: 'scanner-throttles', description: 'the scanner was throttled', namespace: 'AWS/Lambda', metricName: 'Throttles', dimensions: scanner, statistic: 'Sum', threshold: 0 },
    {
      suffix: 'scanner-duration',
      description: 'a scan took more than 80% of the function timeout',
      namespace: 'AWS/Lambda',
      metricName: 'Duration',
      dimensions: scanner,
      statistic: 'Maximum',
      threshold: Math.round(args.timeoutSec * 1000 * 0.8),
    },
    { suffix: 'dead-letters', description: 'scan requests reached the dead-letter queue', namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: args.deadLetterQueueName }, statistic: 'Maximum', threshold: 0 },
    { suffix: 'scan-failures', description: 'scans failed (the message is retried, then dead-lettered)', namespace: METRICS_NAMESPACE, metricName: 'ScanFailure', dimensions: { service: SCANNER_SERVICE_NAME }, statistic: 'Sum', threshold: 0 },
    { suffix: 'bulk-errors', description: 'the bulk scan failed', namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: args.bulkFunctionName }, statistic: 'Sum', threshold: 0 },
  ];
}

export function createAlarms(name: string, ctx: AwsContext, args: MonitoringArgs, parent: pulumi.Resource): aws.cloudwatch.MetricAlarm[] {
  return alarmSpecs(args).map(
    (spec) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.suffix}`,
        {
          name: `${ctx.prefix}-${spec.suffix}`,
          alarmDescription: `shipscan: ${spec.description}`,
          namespace: spec.namespace,
          metricName: spec.metricName,
          dimensions: spec.dimensions,
          statistic: spec.statistic,
          period: 300,
          evaluationPeriods: 1,
          threshold: spec.threshold,
          comparisonOperator: 'GreaterThanThreshold',
          treatMissingData: 'notBreaching',
          alarmActions: [args.topicArn],
          okActions: [args.topicArn],
          tags: ctx.tags,
        },
        { parent },
      ),
  );
}

/** Scans, cache hits, vulnerabilities by severity, duration and dead-letter depth on one page. */
export function createDashboard(name: string, ctx: AwsContext, args: MonitoringArgs, parent: pulumi.Resource): aws.cloudwatch.Dashboard {
  const service = ['service', SCANNER_SERVICE_NAME];
  const body = pulumi.all([ctx.region, args.deadLetterQueueName, args.queueName]).apply(([region, dlq, queue]) =>
    JSON.stringify({
      widgets: [
        {
          type: 'metric', x: 0, y: 0, width: 12, height: 6,
          properties: {
            title: 'Scans', region, stat: 'Sum', period: 300, view: 'timeSeries',
            metrics: [
              [METRICS_NAMESPACE, 'ScanSuccess', ...service],
              [METRICS_NAMESPACE, 'ScanPartialSuccess', ...service],
              [METRICS_NAMESPACE, 'ScanFailure', ...service],
              [METRICS_NAMESPACE, 'CacheHit', ...service],
            ],
          },
        },
        {
          type: 'metric', x: 12, y: 0, width: 12, height: 6,
          properties: {
            title: 'Vulnerabilities by severity', region, stat: 'Sum', period: 3600, view: 'timeSeries', stacked: true,
            metrics: ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'].map((severity) => [METRICS_NAMESPACE, 'VulnerabilityCount', ...service, 'severity', severity]),
          },
        },
        {
          type: 'metric', x: 0, y: 6, width: 12, height: 6,
          properties: {
            title: 'Scan duration (ms)', region, period: 300, view: 'timeSeries',
            metrics: [
              [METRICS_NAMESPACE, 'ScanDuration', ...service, { stat: 'p50' }],
              [METRICS_NAMESPACE, 'ScanDuration', ...service, { stat: 'p95' }],
              ['AWS/Lambda', 'Duration', 'FunctionName', args.scannerFunctionName, { stat: 'Maximum' }],
            ],
          },
        },
        {
          type: 'metric', x: 12, y: 6, width: 12, height: 6,
          properties: {
            title: 'Queue and dead letters', region, stat: 'Maximum', period: 300, view: 'timeSeries',
            metrics: [
              ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', queue],
              ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', dlq],
            ],
          },
        },
      ],
    }),
  );
  return new aws.cloudwatch.Dashboard(name, { dashboardName: `${ctx.prefix}-scanner`, dashboardBody: body }, { parent });
}
