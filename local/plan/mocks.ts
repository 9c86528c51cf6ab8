import { createHash } from 'node:crypto';
import type * as pulumi from '@pulumi/pulumi';

/** The fixed identities the plan pretends to run as. */
export const PLAN_ACCOUNT_ID = '123456789012';
export const PLAN_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000000';
export const PLAN_TENANT_ID = '11111111-1111-1111-1111-111111111111';
export const PLAN_CLIENT_OBJECT_ID = '22222222-2222-2222-2222-222222222222';

type Inputs = Record<string, unknown>;
type Outputs = { id: string | undefined; state: Inputs };

function shortHash(text: string, length = 7): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** A deterministic UUID-shaped id, so plans diff cleanly between runs. */
function fakeUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A JWT-shaped token with these claims and no valid signature (nothing in a plan verifies one). */
function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

function stringInput(inputs: Inputs, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = inputs[key];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

/** Pulumi auto-naming appends a random suffix; the plan appends a stable one instead. */
function autoName(logicalName: string, type: string): string {
  return `${logicalName}-${shortHash(`${type}::${logicalName}`)}`;
}

function parseToken(type: string): { pkg: string; module: string; resource: string } {
  const [pkg = '', modulePath = '', resource = ''] = type.split(':');
  return { pkg, module: modulePath.split('/')[0] ?? '', resource };
}

function awsOutputs(type: string, logicalName: string, inputs: Inputs, region: string): Outputs {
  const { module, resource } = parseToken(type);
  const account = PLAN_ACCOUNT_ID;
  const name = stringInput(inputs, 'name', 'bucket', 'functionName', 'layerName') ?? autoName(logicalName, type);
  const regional = (service: string, rest: string) => `arn:aws:${service}:${region}:${account}:${rest}`;
  const state: Inputs = { ...inputs, name };
  let id = name;
  switch (`${module}:${resource}`) {
    case 'iam:Role':
      state['arn'] = `arn:aws:iam::${account}:role/${name}`;
      state['uniqueId'] = `AROA${shortHash(name, 16).toUpperCase()}`;
      break;
    case 'iam:Policy':
      state['arn'] = `arn:aws:iam::${account}:policy/${name}`;
      id = String(state['arn']);
      break;
    case 'iam:RolePolicy':
      id = `${String(inputs['role'] ?? 'role')}:${name}`;
      break;
    case 'lambda:Function':
      state['arn'] = regional('lambda', `function:${name}`);
      state['invokeArn'] = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${String(state['arn'])}/invocations`;
      state['qualifiedArn'] = `${String(state['arn'])}:$LATEST`;
      state['version'] = '$LATEST';
      break;
    case 'lambda:LayerVersion':
      state['layerArn'] = regional('lambda', `layer:${name}`);
      state['arn'] = `${String(state['layerArn'])}:1`;
      state['version'] = '1';
      id = String(state['arn']);
      break;
    case 'lambda:EventSourceMapping':
      id = fakeUuid(`${type}::${logicalName}`);
      state['uuid'] = id;
      state['arn'] = regional('lambda', `event-source-mapping:${id}`);
      break;
    case 'sqs:Queue':
      state['arn'] = regional('sqs', name);
      state['url'] = `https://sqs.${region}.amazonaws.com/${account}/${name}`;
      id = String(state['url']);
      break;
    case 'sns:Topic':
      state['arn'] = regional('sns', name);
      id = String(state['arn']);
      break;
    case 'sns:TopicSubscription':
      id = `${String(inputs['topic'] ?? regional('sns', 'topic'))}:${fakeUuid(logicalName)}`;
      state['arn'] = id;
      break;
    case 'kms:Key': {
      id = fakeUuid(`${type}::${logicalName}`);
      state['keyId'] = id;
      state['arn'] = regional('kms', `key/${id}`);
      break;
    }
    case 'kms:Alias':
      state['arn'] = regional('kms', name);
      break;
    case 's3:Bucket':
    case 's3:BucketV2':
      state['bucket'] = name;
      state['arn'] = `arn:aws:s3:::${name}`;
      state['bucketDomainName'] = `${name}.s3.amazonaws.com`;
      state['bucketRegionalDomainName'] = `${name}.s3.${region}.amazonaws.com`;
      state['region'] = region;
      break;
    case 'dynamodb:Table':
      state['arn'] = regional('dynamodb', `table/${name}`);
      break;
    case 'cloudwatch:EventBus':
      state['arn'] = regional('events', `event-bus/${name}`);
      break;
    case 'cloudwatch:EventRule': {
      const bus = stringInput(inputs, 'eventBusName');
      const busName = bus?.startsWith('arn:') ? bus.split('/').pop() : bus;
      state['arn'] = regional('events', busName && busName !== 'default' ? `rule/${busName}/${name}` : `rule/${name}`);
      break;
    }
    case 'cloudwatch:LogGroup':
      state['arn'] = regional('logs', `log-group:${name}`);
      break;
    case 'cloudwatch:MetricAlarm':
      state['arn'] = regional('cloudwatch', `alarm:${name}`);
      break;
    case 'cloudwatch:Dashboard':
      state['dashboardArn'] = `arn:aws:cloudwatch::${account}:dashboard/${stringInput(inputs, 'dashboardName') ?? name}`;
      break;
    case 'secretsmanager:Secret':
      state['arn'] = regional('secretsmanager', `secret:${name}-${shortHash(name, 6)}`);
      id = String(state['arn']);
      break;
    case 'secretsmanager:SecretVersion':
      id = `${String(inputs['secretId'] ?? 'secret')}|${fakeUuid(logicalName)}`;
      state['versionId'] = fakeUuid(logicalName);
      break;
    case 'cloudtrail:Trail':
      state['arn'] = regional('cloudtrail', `trail/${name}`);
      state['homeRegion'] = region;
      break;
    case 'scheduler:Schedule':
      state['arn'] = regional('scheduler', `schedule/${stringInput(inputs, 'groupName') ?? 'default'}/${name}`);
      break;
    default:
      state['arn'] = regional(module, name);
  }
  state['id'] = id;
  return { id, state };
}

const AZURE_NAMESPACES: Record<string, string> = {
  app: 'Microsoft.App',
  applicationinsights: 'Microsoft.Insights',
  authorization: 'Microsoft.Authorization',
  containerinstance: 'Microsoft.ContainerInstance',
  eventgrid: 'Microsoft.EventGrid',
  insights: 'Microsoft.Insights',
  keyvault: 'Microsoft.KeyVault',
  managedidentity: 'Microsoft.ManagedIdentity',
  monitor: 'Microsoft.Insights',
  operationalinsights: 'Microsoft.OperationalInsights',
  resources: 'Microsoft.Resources',
  storage: 'Microsoft.Storage',
  web: 'Microsoft.Web',
};

/** ARM type segments that are not simply the camel-cased plural of the SDK resource name. */
const AZURE_TYPE_SEGMENTS: Record<string, string> = {
  'web:WebApp': 'sites',
  'web:AppServicePlan': 'serverfarms',
  'insights:Component': 'components',
  'operationalinsights:Workspace': 'workspaces',
  'managedidentity:UserAssignedIdentity': 'userAssignedIdentities',
};

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function azureOutputs(type: string, logicalName: string, inputs: Inputs): Outputs {
  const { module, resource } = parseToken(type);
  const subscription = `/subscriptions/${PLAN_SUBSCRIPTION_ID}`;
  const name =
    stringInput(inputs, `${lowerFirst(resource)}Name`, 'name', 'accountName', 'vaultName', 'resourceName') ??
    autoName(logicalName, type).replace(/-/g, '');
  const state: Inputs = { ...inputs, name };
  let id: string;
  if (module === 'resources' && resource === 'ResourceGroup') {
    const groupName = stringInput(inputs, 'resourceGroupName') ?? name;
    state['name'] = groupName;
    id = `${subscription}/resourceGroups/${groupName}`;
  } else if (module === 'authorization' && resource === 'RoleAssignment') {
    const scope = stringInput(inputs, 'scope') ?? subscription;
    const guid = stringInput(inputs, 'roleAssignmentName') ?? fakeUuid(`${type}::${logicalName}`);
    state['name'] = guid;
    id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${guid}`;
  } else {
    const namespace = AZURE_NAMESPACES[module] ?? `Microsoft.${module.charAt(0).toUpperCase()}${module.slice(1)}`;
    const segment = AZURE_TYPE_SEGMENTS[`${module}:${resource}`] ?? `${lowerFirst(resource)}s`;
    const group = stringInput(inputs, 'resourceGroupName');
    const scope = group ? `${subscription}/resourceGroups/${group}` : subscription;
    id = `${scope}/providers/${namespace}/${segment}/${name}`;
  }
  state['id'] = id;
  // Computed properties the Azure program reads (endpoints, vault URI, App Insights connection string).
  if (module === 'storage' && resource === 'StorageAccount') {
    state['primaryEndpoints'] = Object.fromEntries(
      ['blob', 'queue', 'table', 'file', 'dfs', 'web'].map((service) => [service, `https://${name}.${service}.core.windows.net/`]),
    );
  } else if (module === 'keyvault' && resource === 'Vault') {
    state['properties'] = { ...((inputs['properties'] as Inputs | undefined) ?? {}), vaultUri: `https://${name}.vault.azure.net/` };
  } else if (module === 'applicationinsights' && resource === 'Component') {
    const key = fakeUuid(`instrumentation::${id}`);
    state['instrumentationKey'] = key;
    state['connectionString'] = `InstrumentationKey=${key};IngestionEndpoint=https://westeurope-1.in.applicationinsights.azure.com/`;
  }
  if (inputs['identity'] && typeof inputs['identity'] === 'object') {
    state['identity'] = {
      ...(inputs['identity'] as Inputs),
      principalId: fakeUuid(`principal::${id}`),
      tenantId: PLAN_TENANT_ID,
    };
  }
  return { id, state };
}

export interface PlanMockOptions {
  awsRegion: string;
  azureLocation: string;
  /** azure.artifacts.existingSystemTopics (source id -> topic id): the existing topics a plan reuses. */
  artifactTopics?: Record<string, string>;
  /** Told about every provider call without a mock (the SDK reports only a bare error). */
  onUnmockedCall?: (token: string) => void;
}

/**
 * Mocks that answer like the providers would after a successful `pulumi up`: inputs echoed, plus
 * the computed outputs programs commonly read (ids, ARNs, names, queue URLs, ARM ids, identity
 * principal ids). Provider calls without a mock fail loudly instead of leaving an Output pending.
 */
export function planMocks(options: PlanMockOptions): pulumi.runtime.Mocks {
  return {
    newResource(args: pulumi.runtime.MockResourceArgs): Outputs {
      const inputs = args.inputs as Inputs;
      if (!args.custom) return { id: undefined, state: {} };
      if (args.type.startsWith('aws:')) return awsOutputs(args.type, args.name, inputs, options.awsRegion);
      if (args.type.startsWith('azure-native:')) return azureOutputs(args.type, args.name, inputs);
      const id = `${args.name}-id`;
      return { id, state: { ...inputs, id, name: stringInput(inputs, 'name') ?? args.name } };
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
      const region = options.awsRegion;
      switch (args.token) {
        case 'aws:index/getCallerIdentity:getCallerIdentity':
          return { accountId: PLAN_ACCOUNT_ID, arn: `arn:aws:iam::${PLAN_ACCOUNT_ID}:user/plan`, userId: 'AIDAPLANUSER', id: PLAN_ACCOUNT_ID };
        case 'aws:index/getRegion:getRegion':
          return { name: region, region, id: region, description: region, endpoint: `ec2.${region}.amazonaws.com` };
        case 'aws:index/getPartition:getPartition':
          return { partition: 'aws', dnsSuffix: 'amazonaws.com', reverseDnsPrefix: 'com.amazonaws', id: 'aws' };
        case 'azure-native:eventgrid:getSystemTopic': {
          // An existing topic with a system-assigned identity (what reuse requires): the source an artifact topic was
          // configured for (azure.artifacts.existingSystemTopics), else a subscription-scope ARM topic.
          const group = String(args.inputs['resourceGroupName']);
          const name = String(args.inputs['systemTopicName']);
          const id = `/subscriptions/${PLAN_SUBSCRIPTION_ID}/resourceGroups/${group}/providers/Microsoft.EventGrid/systemTopics/${name}`;
          const artifactSource = Object.entries(options.artifactTopics ?? {}).find(([, topic]) => topic.toLowerCase() === id.toLowerCase())?.[0];
          return {
            id,
            name,
            location: 'global',
            source: artifactSource ?? `/subscriptions/${PLAN_SUBSCRIPTION_ID}`,
            topicType: artifactSource
              ? /\/Microsoft\.ContainerRegistry\//i.test(artifactSource)
                ? 'Microsoft.ContainerRegistry.Registries'
                : 'Microsoft.Storage.StorageAccounts'
              : 'Microsoft.Resources.Subscriptions',
            identity: { type: 'SystemAssigned', principalId: fakeUuid(`principal::${id}`), tenantId: PLAN_TENANT_ID },
          };
        }
        case 'azure-native:containerregistry:getRegistry':
        case 'azure-native:storage:getStorageAccount': {
          // A registry or storage account the stack watches (azure.artifacts): the program reads its location.
          const group = String(args.inputs['resourceGroupName']);
          const registry = args.token.includes('containerregistry');
          const name = String(args.inputs[registry ? 'registryName' : 'accountName']);
          const provider = registry ? 'Microsoft.ContainerRegistry/registries' : 'Microsoft.Storage/storageAccounts';
          return { id: `/subscriptions/${PLAN_SUBSCRIPTION_ID}/resourceGroups/${group}/providers/${provider}/${name}`, name, location: options.azureLocation };
        }
        case 'azure-native:authorization:getClientToken':
          // An unsigned ARM token of a signed-in user (az login): the program reads only its claims.
          return { token: unsignedJwt({ aud: 'https://management.azure.com/', tid: PLAN_TENANT_ID, oid: PLAN_CLIENT_OBJECT_ID, idtyp: 'user', scp: 'user_impersonation' }) };
        case 'azure-native:authorization:getClientConfig':
          return { clientId: PLAN_CLIENT_OBJECT_ID, objectId: PLAN_CLIENT_OBJECT_ID, subscriptionId: PLAN_SUBSCRIPTION_ID, tenantId: PLAN_TENANT_ID };
        default:
          options.onUnmockedCall?.(args.token);
          throw new Error(`no plan mock for provider call ${args.token}: add one to local/plan/mocks.ts`);
      }
    },
  };
}
