import type { KustoType, TableSchema } from './kusto';

/**
 * The Log Analytics tables the shipped queries run against, with the column names and types of
 * the Azure Monitor Logs table reference (learn.microsoft.com/azure/azure-monitor/reference/tables/<table>).
 * Saved searches, the workbook and the log alerts all run in the workspace, so the queries use the
 * workspace names (`AppEvents.Name`, `Properties`), not the classic Application Insights ones
 * (`customEvents.name`, `customDimensions`), which this schema therefore does not declare.
 *
 * Types matter: a union of an `int` and a `long` column of one name yields two renamed columns
 * (`Count_int`, `Count_long`), and the analyzer only sees that when it knows the types.
 */

/** Columns every workspace-based Application Insights table has. */
const APP_COMMON: Readonly<Record<string, KustoType>> = {
  TenantId: 'string',
  TimeGenerated: 'datetime',
  Type: 'string',
  _BilledSize: 'real',
  _IsBillable: 'string',
  _ResourceId: 'string',
  _SubscriptionId: 'string',
  SourceSystem: 'string',
  AppRoleInstance: 'string',
  AppRoleName: 'string',
  AppVersion: 'string',
  ClientBrowser: 'string',
  ClientCity: 'string',
  ClientCountryOrRegion: 'string',
  ClientIP: 'string',
  ClientModel: 'string',
  ClientOS: 'string',
  ClientStateOrProvince: 'string',
  ClientType: 'string',
  IKey: 'string',
  ItemCount: 'int',
  Measurements: 'dynamic',
  OperationId: 'string',
  OperationName: 'string',
  ParentId: 'string',
  Properties: 'dynamic',
  ResourceGUID: 'string',
  SDKVersion: 'string',
  SessionId: 'string',
  SyntheticSource: 'string',
  UserAccountId: 'string',
  UserAuthenticatedId: 'string',
  UserId: 'string',
};

export const WORKSPACE_TABLES: readonly TableSchema[] = [
  { name: 'AppEvents', columns: { ...APP_COMMON, Name: 'string' } },
  {
    name: 'AppDependencies',
    columns: {
      ...APP_COMMON,
      Data: 'string',
      DependencyType: 'string',
      DurationMs: 'real',
      Id: 'string',
      Name: 'string',
      ReferencedItemId: 'string',
      ReferencedType: 'string',
      ResultCode: 'string',
      Success: 'bool',
      Target: 'string',
    },
  },
  {
    name: 'AppExceptions',
    columns: {
      ...APP_COMMON,
      Assembly: 'string',
      Details: 'dynamic',
      ExceptionType: 'string',
      HandledAt: 'string',
      InnermostAssembly: 'string',
      InnermostMessage: 'string',
      InnermostMethod: 'string',
      InnermostType: 'string',
      Message: 'string',
      Method: 'string',
      OuterAssembly: 'string',
      OuterMessage: 'string',
      OuterMethod: 'string',
      OuterType: 'string',
      ProblemId: 'string',
      SeverityLevel: 'int',
    },
  },
  { name: 'AppTraces', columns: { ...APP_COMMON, Message: 'string', ReferencedItemId: 'string', ReferencedType: 'string', SeverityLevel: 'int' } },
  {
    name: 'AppRequests',
    columns: {
      ...APP_COMMON,
      DurationMs: 'real',
      Id: 'string',
      Name: 'string',
      ReferencedItemId: 'string',
      ReferencedType: 'string',
      ResultCode: 'string',
      Source: 'string',
      Success: 'bool',
      Url: 'string',
    },
  },
  {
    // Platform metrics exported by diagnostic settings (the Event Grid system topic's). The
    // reference's deprecated columns are left out so that a query cannot come to rely on them.
    name: 'AzureMetrics',
    columns: {
      TenantId: 'string',
      TimeGenerated: 'datetime',
      Type: 'string',
      _BilledSize: 'real',
      _IsBillable: 'string',
      _ResourceId: 'string',
      _SubscriptionId: 'string',
      SourceSystem: 'string',
      Average: 'real',
      Count: 'real',
      Maximum: 'real',
      MetricName: 'string',
      Minimum: 'real',
      Resource: 'string',
      ResourceGroup: 'string',
      ResourceId: 'string',
      ResourceProvider: 'string',
      ResultType: 'string',
      SubscriptionId: 'string',
      TimeGrain: 'string',
      Total: 'real',
      UnitName: 'string',
    },
  },
];

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
