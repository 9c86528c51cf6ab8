import * as pulumi from '@pulumi/pulumi';
import * as applicationinsights from '@pulumi/azure-native/applicationinsights';
import * as authorization from '@pulumi/azure-native/authorization';
import * as eventgrid from '@pulumi/azure-native/eventgrid';
import * as keyvault from '@pulumi/azure-native/keyvault';
import * as monitor from '@pulumi/azure-native/monitor';
import * as operationalinsights from '@pulumi/azure-native/operationalinsights';
import * as resources from '@pulumi/azure-native/resources';
import * as storage from '@pulumi/azure-native/storage';
import * as web from '@pulumi/azure-native/web';
import type { AzureConfig, FindingsConfig, QualysConfig } from '../shared/config';
import { buildAppSettings, vaultSecrets } from './app-settings';
import type { AzureBundle } from './bundle';
import { FunctionPackage } from './function-package';
import { AzureInventory } from './inventory';
import { principalTypeOfToken } from './package-upload';
import {
  BLOB_CONTAINERS,
  CONTAINER_READ_ACTIONS,
  DEADLETTER_CONTAINER,
  DELIVERY_MAX_ATTEMPTS,
  DEPLOYMENTS_QUEUE,
  EVENT_TTL_MINUTES,
  PACKAGE_BLOB,
  PACKAGE_CONTAINER,
  QUEUE_MESSAGE_TTL_SECONDS,
  QUEUES,
  RESULTS_CONTAINER,
  SECURITY_EVENTS_QUEUE,
  SECURITY_EVENTS_QUEUES,
  TABLES,
} from './names';
import { containerWritesFilter } from './event-subscription-filter';
import { QUERY_CATALOG, loadQuery } from './queries';
import { BUILT_IN_ROLES, roleDefinitionId, stableGuid, type BuiltInRole } from './roles';
import { existingTopicPrincipal, parseSystemTopicId } from './system-topic';
import { workbookContent } from './workbook';
import { AzureSecurityEvents } from './security-events';

export interface AzureScannerArgs {
  azure: AzureConfig;
  qualys: QualysConfig;
  /** `shipscan:findings`: channels, threshold, suppressions, allow-lists; its secrets go to Key Vault. */
  findings: FindingsConfig;
  bundle: AzureBundle;
  /** Seeds the GUID-named resources (custom role, workbook) so two stacks never collide. */
  stack: string;
}

/** Tags on every taggable resource: which stack owns it. */
function tagsFor(stack: string): Record<string, string> {
  return { application: 'shipscan', 'shipscan-stack': stack };
}

/** Alphanumeric lower-case prefix for resources whose names allow nothing else (storage accounts). */
function compact(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 14);
}

/**
 * The Azure container scanner: ARM writes of container groups and container apps reach a Storage
 * Queue through Event Grid; a Flex Consumption Function App scans their images with Qualys and
 * records the results in Blob and Table storage and Application Insights.
 */
export class AzureScanner extends pulumi.ComponentResource {
  readonly resourceGroupName: pulumi.Output<string>;
  readonly functionAppName: pulumi.Output<string>;
  readonly functionAppPrincipalId: pulumi.Output<string>;
  readonly storageAccountName: pulumi.Output<string>;
  readonly keyVaultUri: pulumi.Output<string>;
  readonly workspaceId: pulumi.Output<string>;
  readonly systemTopicId: pulumi.Output<string>;
  readonly eventSubscriptionName: pulumi.Output<string>;
  readonly workbookId: pulumi.Output<string>;
  /** The security-event subscriptions on the topic (none with azure.securityEvents.enabled false). */
  readonly securityEventSubscriptionNames: pulumi.Output<string>[];

  constructor(name: string, args: AzureScannerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('shipscan:azure:AzureScanner', name, {}, opts);
    const parent = { parent: this };
    const { azure, qualys, findings, bundle, stack } = args;
    const securityEvents = azure.securityEvents.enabled;
    const location = azure.location;
    const tags = tagsFor(stack);
    const client = authorization.getClientConfigOutput(parent);
    const subscriptionId = client.subscriptionId;
    const builtIn = (role: BuiltInRole) => subscriptionId.apply((sub) => roleDefinitionId(sub, BUILT_IN_ROLES[role]));

    // Resource group: created, or an existing one by name.
    const resourceGroupName: pulumi.Output<string> = azure.resourceGroupName
      ? pulumi.output(azure.resourceGroupName)
      : new resources.ResourceGroup(`${name}-rg`, { location, tags }, parent).name;

    // Monitoring: Log Analytics workspace and workspace-based Application Insights.
    const workspace = new operationalinsights.Workspace(
      `${name}-logs`,
      { resourceGroupName, location, sku: { name: 'PerGB2018' }, retentionInDays: azure.logRetentionDays, tags },
      parent,
    );
    const insights = new applicationinsights.Component(
      `${name}-insights`,
      { resourceGroupName, location, kind: 'web', applicationType: 'web', ingestionMode: 'LogAnalytics', workspaceResourceId: workspace.id, tags },
      parent,
    );

    // Both storage accounts: HTTPS only, TLS 1.2, nothing public, no replication to other tenants.
    const hardenedAccount = {
      resourceGroupName,
      location,
      kind: 'StorageV2',
      sku: { name: 'Standard_LRS' },
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: 'TLS1_2',
      allowBlobPublicAccess: false,
      allowCrossTenantReplication: false,
    } satisfies storage.StorageAccountArgs;

    // Storage for the runtime: identity-only access (no shared keys).
    const account = new storage.StorageAccount(
      `${compact(name)}data`,
      { ...hardenedAccount, allowSharedKeyAccess: false, defaultToOAuthAuthentication: true, tags },
      parent,
    );
    const storageChild = { parent: account };
    const containers = BLOB_CONTAINERS.map(
      (containerName) =>
        new storage.BlobContainer(`${name}-${containerName}`, { resourceGroupName, accountName: account.name, containerName, publicAccess: 'None' }, storageChild),
    );
    const tables = TABLES.map((tableName) => new storage.Table(`${name}-${tableName.toLowerCase()}`, { resourceGroupName, accountName: account.name, tableName }, storageChild));
    const queueNames: string[] = [...QUEUES, ...(securityEvents ? SECURITY_EVENTS_QUEUES : [])];
    const queues = queueNames.map((queueName) => new storage.Queue(`${name}-${queueName}`, { resourceGroupName, accountName: account.name, queueName }, storageChild));
    const deploymentsQueue = queues[queueNames.indexOf(DEPLOYMENTS_QUEUE)]!;
    const deadletterContainer = containers[BLOB_CONTAINERS.indexOf(DEADLETTER_CONTAINER)]!;
    new storage.ManagementPolicy(
      `${name}-lifecycle`,
      {
        resourceGroupName,
        accountName: account.name,
        managementPolicyName: 'default',
        policy: {
          rules: [RESULTS_CONTAINER, DEADLETTER_CONTAINER].map((container) => ({
            name: `expire-${container}`,
            enabled: true,
            type: 'Lifecycle',
            definition: {
              filters: { blobTypes: ['blockBlob'], prefixMatch: [`${container}/`] },
              actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: azure.resultRetentionDays } } },
            },
          })),
        },
      },
      { parent: account, dependsOn: containers },
    );
    const accountScope = account.id;
    const queueScope = (queue: string) => pulumi.interpolate`${accountScope}/queueServices/default/queues/${queue}`;
    const containerScope = (id: pulumi.Input<string>, container: string) => pulumi.interpolate`${id}/blobServices/default/containers/${container}`;

    // The code package, in an account of its own that holds nothing else, key-less like the other:
    // the package is uploaded with Entra ID (azure/function-package.ts), not with an account key.
    const packageAccount = new storage.StorageAccount(
      `${compact(name)}pkg`,
      {
        ...hardenedAccount,
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        tags: { ...tags, 'shipscan-purpose': 'function-package' },
      },
      parent,
    );
    const packageContainer = new storage.BlobContainer(
      `${name}-${PACKAGE_CONTAINER}`,
      { resourceGroupName, accountName: packageAccount.name, containerName: PACKAGE_CONTAINER, publicAccess: 'None' },
      { parent: packageAccount },
    );
    const packageScope = containerScope(packageAccount.id, PACKAGE_CONTAINER);
    // The identity running `pulumi up` writes the package: Blob Data Contributor on this one
    // container, nothing else. It may be a user (az login) or a service principal (CI); its ARM
    // token tells which. Deleted after the package on destroy (the upload depends on it).
    const deployerType = authorization.getClientTokenOutput({}, parent).token.apply(principalTypeOfToken);
    const deployerGrant = new authorization.RoleAssignment(
      `${name}-deployer-package-writer`,
      {
        principalId: client.objectId,
        principalType: deployerType,
        roleDefinitionId: builtIn('storageBlobDataContributor'),
        scope: packageScope,
        description: 'shipscan: the identity running pulumi up uploads the Function App package',
      },
      { parent: packageContainer, deleteBeforeReplace: true },
    );
    const packageBlob = new FunctionPackage(
      `${name}-package`,
      {
        serviceUrl: packageAccount.primaryEndpoints.blob,
        containerName: PACKAGE_CONTAINER,
        blobName: PACKAGE_BLOB,
        directory: bundle.directory,
        files: bundle.files,
        sha256: bundle.sha256,
      },
      { parent: packageContainer, dependsOn: [packageContainer, deployerGrant] },
    );

    // Key Vault: RBAC only, soft delete 90 days, purge protection; the Qualys secrets from config secrets.
    const vault = new keyvault.Vault(
      `${name}-kv`,
      {
        resourceGroupName,
        location,
        properties: {
          tenantId: client.tenantId,
          sku: { family: 'A', name: 'standard' },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: 90,
          enablePurgeProtection: true,
          enabledForDeployment: false,
          enabledForDiskEncryption: false,
          enabledForTemplateDeployment: false,
        },
        tags,
      },
      parent,
    );
    const vaultUri = vault.properties.apply((p) => {
      if (!p.vaultUri) throw new Error('the Key Vault returned no vaultUri');
      return p.vaultUri;
    });
    const secrets = [...vaultSecrets(azure, qualys, findings)].map(
      ([secretName, value]) =>
        new keyvault.Secret(
          `${name}-${secretName}`,
          { resourceGroupName, vaultName: vault.name, secretName, properties: { value: pulumi.secret(value), contentType: 'text/plain' } },
          { parent: vault },
        ),
    );

    // Function App on Flex Consumption, Node 22 on Linux, system-assigned identity.
    const plan = new web.AppServicePlan(
      `${name}-plan`,
      { resourceGroupName, location, kind: 'functionapp', reserved: true, sku: { name: 'FC1', tier: 'FlexConsumption' }, tags },
      parent,
    );
    // The inventory reads the configured subscriptions, or the deployment's own.
    const inventorySubscriptions: pulumi.Input<string>[] = azure.inventory.subscriptions.length > 0 ? [...azure.inventory.subscriptions] : [subscriptionId];
    const appSettings = buildAppSettings({
      azure,
      qualys,
      findings,
      inventorySubscriptions,
      storageAccountName: account.name,
      vaultUri,
      appInsightsConnectionString: insights.connectionString,
      packageSha256: bundle.sha256,
    });
    const app = new web.WebApp(
      `${name}-func`,
      {
        resourceGroupName,
        location,
        kind: 'functionapp,linux',
        serverFarmId: plan.id,
        httpsOnly: true,
        clientCertEnabled: false,
        identity: { type: 'SystemAssigned' },
        keyVaultReferenceIdentity: 'SystemAssigned',
        siteConfig: {
          minTlsVersion: '1.2',
          scmMinTlsVersion: '1.2',
          ftpsState: 'Disabled',
          http20Enabled: true,
          appSettings,
        },
        functionAppConfig: {
          deployment: {
            storage: {
              type: 'blobContainer',
              value: pulumi.interpolate`${packageAccount.primaryEndpoints.blob}${PACKAGE_CONTAINER}`,
              authentication: { type: 'SystemAssignedIdentity' },
            },
          },
          runtime: { name: 'node', version: '22' },
          scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 },
        },
        tags,
      },
      { parent: this, dependsOn: [...secrets, ...queues, ...tables, packageBlob] },
    );
    // Basic-auth publishing (FTP and SCM) off: deployments go through the package container only.
    new web.WebAppFtpAllowed(`${name}-no-ftp-basic-auth`, { resourceGroupName, name: app.name, allow: false }, { parent: app });
    new web.WebAppScmAllowed(`${name}-no-scm-basic-auth`, { resourceGroupName, name: app.name, allow: false }, { parent: app });

    const appPrincipal = app.identity.apply((identity) => {
      if (!identity?.principalId) throw new Error('the Function App has no system-assigned identity principal id');
      return identity.principalId;
    });
    const grant = (label: string, principalId: pulumi.Input<string>, role: pulumi.Input<string>, scope: pulumi.Input<string>, owner: pulumi.Resource) =>
      new authorization.RoleAssignment(
        `${name}-${label}`,
        { principalId, principalType: 'ServicePrincipal', roleDefinitionId: role, scope },
        { parent: owner, deleteBeforeReplace: true },
      );

    // The app's roles, each on the narrowest scope that works.
    const appGrants = [
      grant('app-blob-owner', appPrincipal, builtIn('storageBlobDataOwner'), accountScope, app),
      grant('app-queue-contributor', appPrincipal, builtIn('storageQueueDataContributor'), accountScope, app),
      grant('app-table-contributor', appPrincipal, builtIn('storageTableDataContributor'), accountScope, app),
      grant('app-package-reader', appPrincipal, builtIn('storageBlobDataContributor'), packageScope, app),
      grant('app-kv-secrets-user', appPrincipal, builtIn('keyVaultSecretsUser'), vault.id, app),
    ];

    // Reading container groups and container apps in the monitored subscription: a custom role with just those reads.
    const topicRef = azure.existingSystemTopicId ? parseSystemTopicId(azure.existingSystemTopicId) : undefined;
    const monitoredScope = topicRef ? pulumi.output(`/subscriptions/${topicRef.subscriptionId}`) : pulumi.interpolate`/subscriptions/${subscriptionId}`;
    const containerReader = new authorization.RoleDefinition(
      `${name}-container-reader`,
      {
        roleDefinitionId: monitoredScope.apply((scope) => stableGuid(`shipscan/${stack}/${scope}/container-reader`)),
        // Custom role names are unique per tenant: the scope keeps stacks in different subscriptions apart.
        roleName: monitoredScope.apply((scope) => `shipscan container reader (${stack}, ${scope.split('/')[2]})`),
        description: 'Reads Azure Container Instances container groups and Container Apps so shipscan can find their images.',
        roleType: 'CustomRole',
        permissions: [{ actions: [...CONTAINER_READ_ACTIONS], notActions: [], dataActions: [], notDataActions: [] }],
        assignableScopes: [monitoredScope],
        scope: monitoredScope,
      },
      parent,
    );
    appGrants.push(grant('app-container-reader', appPrincipal, containerReader.id, monitoredScope, app));
    azure.acrResourceIds.forEach((registryId, index) => appGrants.push(grant(`app-acr-pull-${index}`, appPrincipal, builtIn('acrPull'), registryId, app)));

    // The scheduled inventory: its tables and queue, and the read-only role on each inventoried subscription.
    if (azure.inventory.enabled) {
      new AzureInventory(
        `${name}-inventory`,
        { inventory: azure.inventory, subscriptions: inventorySubscriptions, resourceGroupName, accountName: account.name, principalId: appPrincipal, stack },
        { parent: app },
      );
    }

    // Event Grid: the subscription-wide ARM system topic (or the existing one) -> the deployments queue.
    let topicResourceGroup: pulumi.Input<string>;
    let topicName: pulumi.Input<string>;
    let topicId: pulumi.Output<string>;
    let topicPrincipal: pulumi.Output<string>;
    let ownedTopic: eventgrid.SystemTopic | undefined;
    if (topicRef) {
      topicResourceGroup = topicRef.resourceGroupName;
      // The event subscription is created through the provider's subscription, so the topic must live there.
      topicName = subscriptionId.apply((deploying) => {
        if (deploying.toLowerCase() !== topicRef.subscriptionId.toLowerCase()) {
          throw new Error(
            `shipscan:azure.existingSystemTopicId = ${JSON.stringify(azure.existingSystemTopicId)}: the topic is in subscription ${topicRef.subscriptionId}, ` +
              `but this stack deploys to subscription ${deploying}; deploy the stack to the topic's subscription (azure-native:subscriptionId)`,
          );
        }
        return topicRef.name;
      });
      topicId = pulumi.output(azure.existingSystemTopicId!);
      const existing = eventgrid.getSystemTopicOutput({ resourceGroupName: topicRef.resourceGroupName, systemTopicName: topicRef.name }, parent);
      topicPrincipal = existing.apply((topic) => existingTopicPrincipal(azure.existingSystemTopicId!, topic));
      // A diagnostic setting is an extension resource on the topic's id: the stack adds (and on
      // destroy removes) its own setting without owning the topic, as it does its event
      // subscription. Without it the AzureMetrics half of poison-and-deadletter.kql stays empty.
      // Metrics only: the owner's delivery-failure logs (other subscribers') are not copied. The
      // exported metrics carry no dimensions, so on a shared topic DeadLetteredCount (like the
      // metric alert below) also counts other subscriptions' dead letters. Named per stack, as
      // several stacks may share the one ARM topic of a subscription. Azure allows five settings
      // per resource; a topic that already has five fails the deployment loudly.
      new monitor.DiagnosticSetting(
        `${name}-topic-diagnostics`,
        {
          name: `shipscan-${stack}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 64),
          resourceUri: topicId,
          workspaceId: workspace.id,
          metrics: [{ category: 'AllMetrics', enabled: true }],
        },
        parent,
      );
    } else {
      ownedTopic = new eventgrid.SystemTopic(
        `${name}-arm-events`,
        {
          resourceGroupName,
          location: 'global',
          source: pulumi.interpolate`/subscriptions/${subscriptionId}`,
          topicType: 'Microsoft.Resources.Subscriptions',
          identity: { type: 'SystemAssigned' },
          tags,
        },
        parent,
      );
      topicResourceGroup = resourceGroupName;
      topicName = ownedTopic.name;
      topicId = ownedTopic.id;
      topicPrincipal = ownedTopic.identity.apply((identity) => {
        if (!identity?.principalId) throw new Error('the system topic has no system-assigned identity principal id');
        return identity.principalId;
      });
      new monitor.DiagnosticSetting(
        `${name}-topic-diagnostics`,
        {
          name: 'shipscan',
          resourceUri: ownedTopic.id,
          workspaceId: workspace.id,
          logs: [{ categoryGroup: 'allLogs', enabled: true }],
          metrics: [{ category: 'AllMetrics', enabled: true }],
        },
        { parent: ownedTopic },
      );
    }
    const topicOwner: pulumi.Resource = ownedTopic ?? this;
    const topicGrants = [
      grant('topic-queue-sender', topicPrincipal, builtIn('storageQueueDataMessageSender'), queueScope(DEPLOYMENTS_QUEUE), topicOwner),
      grant('topic-deadletter-writer', topicPrincipal, builtIn('storageBlobDataContributor'), containerScope(accountScope, DEADLETTER_CONTAINER), topicOwner),
    ];
    const subscription = new eventgrid.SystemTopicEventSubscription(
      `${name}-container-writes`,
      {
        resourceGroupName: topicResourceGroup,
        systemTopicName: topicName,
        eventSubscriptionName: `shipscan-${stack}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 64),
        eventDeliverySchema: 'EventGridSchema',
        filter: containerWritesFilter(),
        deliveryWithResourceIdentity: {
          identity: { type: 'SystemAssigned' },
          destination: { endpointType: 'StorageQueue', resourceId: account.id, queueName: DEPLOYMENTS_QUEUE, queueMessageTimeToLiveInSeconds: QUEUE_MESSAGE_TTL_SECONDS },
        },
        retryPolicy: { maxDeliveryAttempts: DELIVERY_MAX_ATTEMPTS, eventTimeToLiveInMinutes: EVENT_TTL_MINUTES },
        deadLetterWithResourceIdentity: {
          identity: { type: 'SystemAssigned' },
          deadLetterDestination: { endpointType: 'StorageBlob', resourceId: account.id, blobContainerName: DEADLETTER_CONTAINER },
        },
      },
      { parent: topicOwner, dependsOn: [deploymentsQueue, deadletterContainer, app, ...appGrants, ...topicGrants] },
    );

    // Security events: more subscriptions on the same topic, to their own queue, and the reads they need.
    this.securityEventSubscriptionNames = securityEvents
      ? new AzureSecurityEvents(
          `${name}-security-events`,
          {
            stack,
            topic: { resourceGroupName: topicResourceGroup, name: topicName, principalId: topicPrincipal },
            storageAccountId: account.id,
            monitoredScope,
            appPrincipalId: appPrincipal,
            queueSenderRoleId: builtIn('storageQueueDataMessageSender'),
            dependsOn: [queues[queueNames.indexOf(SECURITY_EVENTS_QUEUE)]!, deadletterContainer, app, ...appGrants, ...topicGrants],
          },
          { parent: this },
        ).subscriptionNames
      : [];

    // Operations: saved searches, the workbook and the alert rules, all over the workspace.
    for (const entry of QUERY_CATALOG.filter((q) => q.use === 'saved-search')) {
      const id = entry.file.replace(/\.kql$/, '');
      new operationalinsights.SavedSearch(
        `${name}-query-${id}`,
        {
          resourceGroupName,
          workspaceName: workspace.name,
          savedSearchId: `shipscan-${id}`,
          category: 'shipscan',
          displayName: entry.displayName,
          query: loadQuery(entry.file),
          version: 2,
        },
        { parent: workspace },
      );
    }
    const workbook = new applicationinsights.Workbook(
      `${name}-workbook`,
      {
        resourceGroupName,
        location,
        resourceName: stableGuid(`shipscan/${stack}/workbook`),
        kind: 'shared',
        category: 'workbook',
        displayName: `shipscan container scans (${stack})`,
        sourceId: workspace.id.apply((id) => id.toLowerCase()),
        serializedData: workspace.id.apply(workbookContent),
        tags,
      },
      { parent: workspace },
    );
    // Alerts notify by email when azure.alertEmail is set; otherwise they show in Azure Monitor only.
    const actionGroup = azure.alertEmail
      ? new monitor.ActionGroup(
          `${name}-alerts`,
          {
            resourceGroupName,
            location: 'global',
            groupShortName: 'shipscan',
            enabled: true,
            emailReceivers: [{ name: 'shipscan-operators', emailAddress: azure.alertEmail, useCommonAlertSchema: true }],
            tags,
          },
          parent,
        )
      : undefined;
    const logAlert = (id: string, file: string, displayName: string, description: string, severity: number) =>
      new monitor.ScheduledQueryRule(
        `${name}-alert-${id}`,
        {
          resourceGroupName,
          location,
          kind: 'LogAlert',
          displayName: `shipscan (${stack}): ${displayName}`,
          description,
          severity,
          enabled: true,
          scopes: [workspace.id],
          evaluationFrequency: 'PT15M',
          windowSize: 'PT15M',
          autoMitigate: true,
          ...(actionGroup ? { actions: { actionGroups: [actionGroup.id] } } : {}),
          criteria: {
            allOf: [
              {
                query: loadQuery(file),
                timeAggregation: 'Count',
                operator: 'GreaterThan',
                threshold: 0,
                failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
              },
            ],
          },
          tags,
        },
        { parent: workspace, dependsOn: [insights] },
      );
    logAlert('failed-scans', 'alert-failed-scans.kql', 'failed container scans', 'A container image scan failed or timed out.', 2);
    logAlert('poison-messages', 'alert-poison-messages.kql', 'poison messages', 'The Functions host moved a message to a poison queue after repeated failures.', 1);
    logAlert('critical-findings', 'alert-critical-findings.kql', 'critical findings opened', 'A CRITICAL finding opened or reopened (security events, posture, vulnerabilities): see the security-findings queries.', 0);
    new monitor.MetricAlert(
      `${name}-alert-dead-lettered`,
      {
        resourceGroupName,
        location: 'global',
        description: `shipscan (${stack}): Event Grid dead-lettered deployment events (delivery to the ${DEPLOYMENTS_QUEUE} queue kept failing).`,
        severity: 1,
        enabled: true,
        scopes: [topicId],
        targetResourceType: 'Microsoft.EventGrid/systemTopics',
        evaluationFrequency: 'PT5M',
        windowSize: 'PT15M',
        autoMitigate: true,
        ...(actionGroup ? { actions: [{ actionGroupId: actionGroup.id }] } : {}),
        criteria: {
          odataType: 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria',
          allOf: [
            {
              criterionType: 'StaticThresholdCriterion',
              name: 'dead-lettered',
              metricName: 'DeadLetteredCount',
              metricNamespace: 'Microsoft.EventGrid/systemTopics',
              operator: 'GreaterThan',
              threshold: 0,
              timeAggregation: 'Total',
            },
          ],
        },
        tags,
      },
      { parent: subscription },
    );

    this.resourceGroupName = resourceGroupName;
    this.functionAppName = app.name;
    this.functionAppPrincipalId = appPrincipal;
    this.storageAccountName = account.name;
    this.keyVaultUri = vaultUri;
    this.workspaceId = workspace.id;
    this.systemTopicId = topicId;
    this.eventSubscriptionName = subscription.name;
    this.workbookId = workbook.id;
    this.registerOutputs({
      resourceGroupName,
      functionAppName: app.name,
      storageAccountName: account.name,
      keyVaultUri: vaultUri,
      systemTopicId: topicId,
    });
  }
}
