/**
 * Log Analytics (workspace-based Application Insights) tables the queries may read, with the
 * columns of each. Saved searches, the workbook and the log alerts all run in the workspace, so the
 * queries use workspace names (`AppEvents.Name`, `Properties`) rather than the classic App Insights
 * names (`customEvents.name`, `customDimensions`).
 */
const COMMON = ['TimeGenerated', 'Type', '_ResourceId', 'TenantId', 'OperationName', 'OperationId', 'ParentId', 'AppRoleName', 'AppRoleInstance', 'AppVersion', 'SDKVersion', 'ItemCount', 'ResourceGUID', 'ClientType', 'Properties', 'Measurements'];

export const WORKSPACE_TABLES: Readonly<Record<string, readonly string[]>> = {
  AppEvents: [...COMMON, 'Name', 'SessionId', 'UserId'],
  AppDependencies: [...COMMON, 'Id', 'Target', 'DependencyType', 'Name', 'Data', 'Success', 'ResultCode', 'DurationMs', 'PerformanceBucket'],
  AppExceptions: [
    ...COMMON,
    'ProblemId',
    'HandledAt',
    'ExceptionType',
    'Assembly',
    'Method',
    'OuterType',
    'OuterMessage',
    'OuterAssembly',
    'OuterMethod',
    'InnermostType',
    'InnermostMessage',
    'InnermostAssembly',
    'InnermostMethod',
    'SeverityLevel',
    'Details',
  ],
  AppTraces: [...COMMON, 'Message', 'SeverityLevel'],
  AppRequests: [...COMMON, 'Id', 'Name', 'Url', 'Success', 'ResultCode', 'DurationMs', 'PerformanceBucket', 'Source'],
  AzureMetrics: ['TimeGenerated', 'Type', '_ResourceId', 'TenantId', 'ResourceId', 'SubscriptionId', 'ResourceGroup', 'ResourceProvider', 'Resource', 'MetricName', 'Total', 'Count', 'Maximum', 'Minimum', 'Average', 'TimeGrain', 'UnitName'],
};

/**
 * Names emitted by the platform rather than by shipscan's runtime: the Functions host's poison-queue
 * warning (Azure WebJobs SDK queue listener) and the Event Grid system topic metrics (sent to the
 * workspace by the topic's diagnostic setting).
 */
export const PLATFORM_NAMES = {
  poisonMessageTemplate: "Message has reached MaxDequeueCount of {0}. Moving message to queue '{1}'.",
  eventGridResourceProvider: 'MICROSOFT.EVENTGRID',
  eventGridMetrics: ['DeadLetteredCount', 'DeliveryAttemptFailCount', 'DeliverySuccessCount', 'DroppedEventCount', 'MatchedEventCount', 'PublishSuccessCount'],
} as const;

/** Names the Azure runtime emits (built from functions/azure/telemetry-names.ts by the caller). */
export interface TelemetryCatalog {
  /** customEvents name -> its customDimensions. */
  events: Readonly<Record<string, readonly string[]>>;
  /** Dimension name -> the values it takes, where the runtime fixes them. */
  dimensionValues: Readonly<Record<string, readonly string[]>>;
  /** Dependency type of the Qualys calls and their names (the prefix is accepted for startswith). */
  dependencyTypes: readonly string[];
  dependencyNames: readonly string[];
  dependencyNamePrefixes: readonly string[];
  /** customDimensions on tracked exceptions. */
  exceptionProperties: readonly string[];
}

/** KQL words that are never column references. */
export const KEYWORDS = new Set([
  'let', 'and', 'or', 'not', 'by', 'asc', 'desc', 'nulls', 'first', 'last', 'in', 'has', 'has_any', 'has_all', 'hasprefix', 'hassuffix',
  'contains', 'startswith', 'endswith', 'matches', 'regex', 'between', 'true', 'false', 'null', 'with', 'on', 'kind', 'of', 'step', 'from', 'to',
  'contains_cs', 'startswith_cs', 'endswith_cs', 'has_cs', 'notcontains', 'notstartswith', '$left', '$right', 'typeof', 'dynamic', 'datetime', 'timespan',
  'bool', 'int', 'long', 'real', 'double', 'string', 'decimal', 'guid',
]);

/** Tabular operators that may follow a pipe. */
export const TABULAR_OPERATORS = new Set([
  'where', 'filter', 'extend', 'project', 'project-away', 'project-keep', 'project-rename', 'project-reorder', 'summarize', 'order', 'sort', 'top',
  'take', 'limit', 'count', 'distinct', 'render', 'union', 'join', 'mv-expand', 'make-series', 'parse', 'sample', 'search', 'as', 'serialize',
]);

/** Scalar and aggregation functions the queries may call. */
export const FUNCTIONS = new Set([
  'ago', 'now', 'bin', 'floor', 'round', 'tostring', 'toint', 'tolong', 'todouble', 'toreal', 'tobool', 'todatetime', 'totimespan', 'todynamic', 'parse_json',
  'iff', 'iif', 'case', 'coalesce', 'isempty', 'isnotempty', 'isnull', 'isnotnull', 'strcat', 'extract', 'split', 'substring', 'strlen', 'tolower', 'toupper',
  'replace_string', 'trim', 'format_datetime', 'datetime_diff', 'startofday', 'endofday', 'array_length', 'bag_keys', 'percentile', 'percentiles', 'count',
  'countif', 'dcount', 'dcountif', 'sum', 'sumif', 'avg', 'avgif', 'min', 'max', 'minif', 'maxif', 'arg_max', 'arg_min', 'take_any', 'any', 'make_set',
  'make_list', 'stdev', 'pack', 'bag_pack', 'column_ifexists', 'hash', 'range',
]);

/** Aggregations whose output columns are their arguments (`arg_max(TimeGenerated, A, B)` -> TimeGenerated, A, B). */
export const ARG_AGGREGATIONS = new Set(['arg_max', 'arg_min']);
