import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization';
import * as eventgrid from '@pulumi/azure-native/eventgrid';
import { securityEventFilters } from './event-subscription-filter';
import { DEADLETTER_CONTAINER, DELIVERY_MAX_ATTEMPTS, EVENT_TTL_MINUTES, QUEUE_MESSAGE_TTL_SECONDS, SECURITY_EVENTS_QUEUE, SECURITY_READ_ACTIONS } from './names';
import { stableGuid } from './roles';

export interface AzureSecurityEventsArgs {
  stack: string;
  /** The system topic the deployments subscription uses (created by the stack, or the existing one). */
  topic: { resourceGroupName: pulumi.Input<string>; name: pulumi.Input<string>; principalId: pulumi.Input<string> };
  /** The runtime storage account (its id) holding the security-events queue and the dead-letter container. */
  storageAccountId: pulumi.Input<string>;
  /** `/subscriptions/<id>`: where the rules' resources live (the topic's subscription). */
  monitoredScope: pulumi.Output<string>;
  appPrincipalId: pulumi.Input<string>;
  /** Role definition id of the built-in Storage Queue Data Message Sender role (the topic's grant on the queue). */
  queueSenderRoleId: pulumi.Input<string>;
  /** Declared before the subscriptions: the queue, the dead-letter container, the app and its other grants. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** Event subscription names: `shipscan-<stack>-security`, then `-security-2`... when the registry needs more. */
export function securitySubscriptionName(stack: string, index: number): string {
  const suffix = index === 0 ? '-security' : `-security-${index + 1}`;
  const base = `shipscan-${stack}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return `${base.slice(0, 64 - suffix.length)}${suffix}`;
}

/**
 * Security events on Azure: the system topic also delivers the ARM writes and deletes the rule registry
 * reacts to, through one event subscription per 25 operation names (Event Grid's advanced-filter budget),
 * to the `security-events` queue (retry 30 times over 24 h, dead letters to the stack's container, both with
 * the topic's identity). onSecurityEvent then reads each resource from ARM with the app's identity, which
 * gets a custom role of its own holding only the `read` action of each type the rules GET, at the monitored
 * subscription: the deployment scanner's container reader stays as it was, and turning security events off
 * removes this role with the rest.
 */
export class AzureSecurityEvents extends pulumi.ComponentResource {
  readonly subscriptionNames: pulumi.Output<string>[];
  readonly readerRoleId: pulumi.Output<string>;

  constructor(name: string, args: AzureSecurityEventsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('shipscan:azure:SecurityEvents', name, {}, opts);
    const parent = { parent: this };
    const { stack, monitoredScope } = args;

    const reader = new authorization.RoleDefinition(
      `${name}-reader`,
      {
        roleDefinitionId: monitoredScope.apply((scope) => stableGuid(`shipscan/${stack}/${scope}/security-reader`)),
        // Custom role names are unique per tenant: the scope keeps stacks in different subscriptions apart.
        roleName: monitoredScope.apply((scope) => `shipscan security reader (${stack}, ${scope.split('/')[2]})`),
        description: 'Reads the resources the shipscan security rules evaluate after an ARM write (network security groups, storage accounts, Key Vaults, role assignments, container groups, container apps).',
        roleType: 'CustomRole',
        permissions: [{ actions: [...SECURITY_READ_ACTIONS], notActions: [], dataActions: [], notDataActions: [] }],
        assignableScopes: [monitoredScope],
        scope: monitoredScope,
      },
      parent,
    );
    const appReader = new authorization.RoleAssignment(
      `${name}-app-reader`,
      { principalId: args.appPrincipalId, principalType: 'ServicePrincipal', roleDefinitionId: reader.id, scope: monitoredScope },
      { parent: this, deleteBeforeReplace: true },
    );
    const topicSender = new authorization.RoleAssignment(
      `${name}-topic-queue-sender`,
      {
        principalId: args.topic.principalId,
        principalType: 'ServicePrincipal',
        roleDefinitionId: args.queueSenderRoleId,
        scope: pulumi.interpolate`${args.storageAccountId}/queueServices/default/queues/${SECURITY_EVENTS_QUEUE}`,
      },
      { parent: this, deleteBeforeReplace: true },
    );

    this.subscriptionNames = securityEventFilters().map(
      (filter, index) =>
        new eventgrid.SystemTopicEventSubscription(
          index === 0 ? `${name}-subscription` : `${name}-subscription-${index + 1}`,
          {
            resourceGroupName: args.topic.resourceGroupName,
            systemTopicName: args.topic.name,
            eventSubscriptionName: securitySubscriptionName(stack, index),
            eventDeliverySchema: 'EventGridSchema',
            filter,
            deliveryWithResourceIdentity: {
              identity: { type: 'SystemAssigned' },
              destination: { endpointType: 'StorageQueue', resourceId: args.storageAccountId, queueName: SECURITY_EVENTS_QUEUE, queueMessageTimeToLiveInSeconds: QUEUE_MESSAGE_TTL_SECONDS },
            },
            retryPolicy: { maxDeliveryAttempts: DELIVERY_MAX_ATTEMPTS, eventTimeToLiveInMinutes: EVENT_TTL_MINUTES },
            deadLetterWithResourceIdentity: {
              identity: { type: 'SystemAssigned' },
              deadLetterDestination: { endpointType: 'StorageBlob', resourceId: args.storageAccountId, blobContainerName: DEADLETTER_CONTAINER },
            },
          },
          { parent: this, dependsOn: [...args.dependsOn, appReader, topicSender] },
        ).name,
    );
    this.readerRoleId = reader.id;
    this.registerOutputs({ subscriptionNames: this.subscriptionNames, readerRoleId: this.readerRoleId });
  }
}
