import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization';
import * as containerregistry from '@pulumi/azure-native/containerregistry';
import * as eventgrid from '@pulumi/azure-native/eventgrid';
import * as storage from '@pulumi/azure-native/storage';
import type { AzureArtifactsConfig } from '../shared/config';
import { blobCreatedFilter, imagePushFilter } from './event-subscription-filter';
import {
  BLOB_UPLOADS_QUEUE,
  DEADLETTER_CONTAINER,
  DELIVERY_MAX_ATTEMPTS,
  EVENT_TTL_MINUTES,
  IMAGE_PUSHES_QUEUE,
  QUEUE_MESSAGE_TTL_SECONDS,
  REGISTRY_TOPIC_TYPE,
  STORAGE_TOPIC_TYPE,
} from './names';
import { BUILT_IN_ROLES, roleDefinitionId } from './roles';

/**
 * New artifacts (seed 004, Azure side): an Event Grid system topic per configured registry (image pushes
 * -> queue `image-pushes` -> onImagePush) and per configured storage account (new blobs -> queue
 * `blob-uploads` -> onBlobUpload), each delivering with its own managed identity, retrying like the ARM
 * subscription and dead-lettering to the stack's `deadletter` container. The Function App may read the
 * blobs of the configured accounts (Storage Blob Data Reader, on the included containers when some are
 * listed) and nothing else; pushes need no registry access at all (the event names the digest, and the
 * Container Security API pulls through its registry connector).
 */

/** What a subscription needs of a topic, created here or reused. */
type TopicHandle = { id: pulumi.Output<string>; name: pulumi.Output<string> };

const REGISTRY_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i;
const STORAGE_ACCOUNT_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)$/i;

export interface ArtifactSourceRef {
  id: string;
  subscriptionId: string;
  resourceGroupName: string;
  name: string;
}

export function parseArtifactSource(id: string, key: string): ArtifactSourceRef {
  const m = REGISTRY_ID.exec(id) ?? STORAGE_ACCOUNT_ID.exec(id);
  if (!m) throw new Error(`shipscan:${key} = ${JSON.stringify(id)}: not a container registry or storage account id`);
  return { id, subscriptionId: m[1]!, resourceGroupName: m[2]!, name: m[3]! };
}

/** Names derived from a source: stable, unique per source, within Azure's length limits. */
function topicName(stack: string, kind: 'acr' | 'blob', name: string): string {
  return `shipscan-${stack}-${kind}-${name}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 128);
}

export interface AzureArtifactsArgs {
  artifacts: AzureArtifactsConfig;
  stack: string;
  resourceGroupName: pulumi.Input<string>;
  /** The subscription this stack deploys to: sources must live there (system topics are created in the stack's group). */
  subscriptionId: pulumi.Output<string>;
  /** The runtime storage account (queues, dead letters). */
  runtimeAccount: storage.StorageAccount;
  /** Every storage account of the stack: never a source (results written there would raise events of their own). */
  ownAccounts: readonly storage.StorageAccount[];
  /** The artifact queues, created with the stack's others (names.ts artifactQueues). */
  queues: ReadonlyMap<string, storage.Queue>;
  deadletterContainer: storage.BlobContainer;
  appPrincipal: pulumi.Output<string>;
  /** The Function App and its grants: events flow only once the handlers can run. */
  dependsOn: pulumi.Resource[];
  tags: Record<string, string>;
}

export class AzureArtifacts extends pulumi.ComponentResource {
  readonly registryTopicIds: pulumi.Output<string>[] = [];
  readonly storageTopicIds: pulumi.Output<string>[] = [];

  constructor(name: string, args: AzureArtifactsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('shipscan:azure:AzureArtifacts', name, {}, opts);
    const { artifacts, stack, resourceGroupName, runtimeAccount, tags } = args;
    const parent = { parent: this };
    const builtIn = (role: keyof typeof BUILT_IN_ROLES) => args.subscriptionId.apply((sub) => roleDefinitionId(sub, BUILT_IN_ROLES[role]));
    const queueScope = (queue: string) => pulumi.interpolate`${runtimeAccount.id}/queueServices/default/queues/${queue}`;
    const deadletterScope = pulumi.interpolate`${runtimeAccount.id}/blobServices/default/containers/${DEADLETTER_CONTAINER}`;
    const grant = (label: string, principalId: pulumi.Input<string>, role: pulumi.Input<string>, scope: pulumi.Input<string>, owner: pulumi.Resource, description: string) =>
      new authorization.RoleAssignment(`${name}-${label}`, { principalId, principalType: 'ServicePrincipal', roleDefinitionId: role, scope, description }, { parent: owner, deleteBeforeReplace: true });
    const sameSubscription = (ref: ArtifactSourceRef, key: string) =>
      args.subscriptionId.apply((deploying) => {
        if (deploying.toLowerCase() !== ref.subscriptionId.toLowerCase()) {
          throw new Error(
            `shipscan:${key} = ${JSON.stringify(ref.id)}: in subscription ${ref.subscriptionId}, but this stack deploys to ${deploying}; ` +
              'a system topic is created in the subscription of its source: deploy a stack there',
          );
        }
        return deploying;
      });

    const source = (
      kind: 'acr' | 'blob',
      index: number,
      ref: ArtifactSourceRef,
      location: pulumi.Input<string>,
      topicType: string,
      queueName: string,
      filter: eventgrid.SystemTopicEventSubscriptionArgs['filter'],
    ): TopicHandle => {
      const queue = args.queues.get(queueName);
      if (!queue) throw new Error(`the ${queueName} queue was not declared with the stack's queues`);
      const existingId = Object.entries(artifacts.existingSystemTopics).find(([id]) => id.toLowerCase() === ref.id.toLowerCase())?.[1];
      const reused = existingId ? reuseTopic(existingId, ref, topicType) : undefined;
      const created = reused
        ? undefined
        : new eventgrid.SystemTopic(
            `${name}-${kind}-topic-${index}`,
            {
              resourceGroupName,
              systemTopicName: topicName(stack, kind, ref.name),
              location,
              source: ref.id,
              topicType,
              identity: { type: 'SystemAssigned' },
              tags: { ...tags, 'shipscan-source': ref.name },
            },
            parent,
          );
      const topic: TopicHandle = reused ?? created!;
      const principal = created
        ? created.identity.apply((identity) => {
            if (!identity?.principalId) throw new Error(`the system topic of ${ref.id} has no system-assigned identity principal id`);
            return identity.principalId;
          })
        : reused!.principal;
      // A reused topic is not ours: what we add to it hangs off this component.
      const owner: pulumi.Resource = created ?? this;
      const grants = [
        grant(`${kind}-topic-${index}-queue-sender`, principal, builtIn('storageQueueDataMessageSender'), queueScope(queueName), owner, `shipscan: ${ref.name} events into ${queueName}`),
        grant(`${kind}-topic-${index}-deadletter-writer`, principal, builtIn('storageBlobDataContributor'), deadletterScope, owner, `shipscan: undeliverable ${ref.name} events`),
      ];
      new eventgrid.SystemTopicEventSubscription(
        `${name}-${kind}-events-${index}`,
        {
          resourceGroupName: reused ? reused.resourceGroupName : resourceGroupName,
          systemTopicName: topic.name,
          eventSubscriptionName: `shipscan-${stack}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 64),
          eventDeliverySchema: 'EventGridSchema',
          filter,
          deliveryWithResourceIdentity: {
            identity: { type: 'SystemAssigned' },
            destination: { endpointType: 'StorageQueue', resourceId: runtimeAccount.id, queueName, queueMessageTimeToLiveInSeconds: QUEUE_MESSAGE_TTL_SECONDS },
          },
          retryPolicy: { maxDeliveryAttempts: DELIVERY_MAX_ATTEMPTS, eventTimeToLiveInMinutes: EVENT_TTL_MINUTES },
          deadLetterWithResourceIdentity: {
            identity: { type: 'SystemAssigned' },
            deadLetterDestination: { endpointType: 'StorageBlob', resourceId: runtimeAccount.id, blobContainerName: DEADLETTER_CONTAINER },
          },
        },
        { parent: owner, dependsOn: [queue, args.deadletterContainer, ...grants, ...args.dependsOn] },
      );
      return topic;
    };

    /** An existing system topic of `ref` (created by someone else): checked to be that source's, with an identity. */
    const reuseTopic = (topicId: string, ref: ArtifactSourceRef, topicType: string) => {
      const key = `azure.artifacts.existingSystemTopics[${JSON.stringify(ref.id)}]`;
      const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.EventGrid\/systemTopics\/([^/]+)$/i.exec(topicId);
      if (!m) throw new Error(`shipscan:${key} = ${JSON.stringify(topicId)}: not a system topic id`);
      const [, , topicGroup, topicName] = m as unknown as [string, string, string, string];
      const existing = eventgrid.getSystemTopicOutput({ resourceGroupName: topicGroup, systemTopicName: topicName }, parent);
      const principal = existing.apply((t) => {
        if ((t.source ?? '').toLowerCase() !== ref.id.toLowerCase()) throw new Error(`shipscan:${key} = ${JSON.stringify(topicId)}: that topic's source is ${t.source ?? '(none)'}, not ${ref.id}`);
        if ((t.topicType ?? '').toLowerCase() !== topicType.toLowerCase()) throw new Error(`shipscan:${key}: topic type is ${t.topicType ?? '(none)'}, expected ${topicType}`);
        const id = t.identity?.type?.includes('SystemAssigned') ? t.identity.principalId : undefined;
        if (!id) throw new Error(`shipscan:${key}: the topic has no system-assigned managed identity, which delivery to the key-less queue needs; enable it (az eventgrid system-topic update --identity systemassigned)`);
        return id;
      });
      return { id: pulumi.output(topicId), name: pulumi.output(topicName), resourceGroupName: topicGroup, principal };
    };

    artifacts.registries.forEach((id, index) => {
      const key = `azure.artifacts.registries[${index}]`;
      const ref = parseArtifactSource(id, key);
      const registry = containerregistry.getRegistryOutput({ resourceGroupName: ref.resourceGroupName, registryName: ref.name }, parent);
      sameSubscription(ref, key);
      const topic = source('acr', index, ref, registry.location, REGISTRY_TOPIC_TYPE, IMAGE_PUSHES_QUEUE, imagePushFilter());
      this.registryTopicIds.push(topic.id);
    });

    const ownIds = pulumi.all(args.ownAccounts.map((a) => a.id)).apply((ids) => ids.map((id) => id.toLowerCase()));
    artifacts.storageAccounts.forEach((id, index) => {
      const key = `azure.artifacts.storageAccounts[${index}]`;
      const ref = parseArtifactSource(id, key);
      // Never the stack's own accounts: each result written there would be an upload to scan, and so on.
      const checkedId = pulumi.all([ownIds, sameSubscription(ref, key)]).apply(([own]) => {
        if (own.includes(id.toLowerCase())) throw new Error(`shipscan:${key} = ${JSON.stringify(id)}: this stack's own storage account is never scanned`);
        return id;
      });
      const account = storage.getStorageAccountOutput({ resourceGroupName: ref.resourceGroupName, accountName: ref.name }, parent);
      const topic = source('blob', index, { ...ref }, account.location, STORAGE_TOPIC_TYPE, BLOB_UPLOADS_QUEUE, blobCreatedFilter(artifacts));
      this.storageTopicIds.push(topic.id);
      // Reads on that account only: its included containers when some are listed, else the account.
      const scopes: pulumi.Input<string>[] =
        artifacts.containers.include.length > 0 ? artifacts.containers.include.map((c) => pulumi.interpolate`${checkedId}/blobServices/default/containers/${c}`) : [checkedId];
      scopes.forEach((scope, scopeIndex) =>
        grant(`app-blob-reader-${index}-${scopeIndex}`, args.appPrincipal, builtIn('storageBlobDataReader'), scope, topic instanceof pulumi.Resource ? topic : this, `shipscan: read new blobs of ${ref.name} to scan them`),
      );
    });
    this.registerOutputs({ registryTopicIds: this.registryTopicIds, storageTopicIds: this.storageTopicIds });
  }
}
