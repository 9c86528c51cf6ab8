/** The parts of a system topic resource id (`/subscriptions/<s>/resourceGroups/<g>/providers/Microsoft.EventGrid/systemTopics/<n>`). */
export interface SystemTopicRef {
  subscriptionId: string;
  resourceGroupName: string;
  name: string;
}

export class SystemTopicIdError extends Error {
  override readonly name = 'SystemTopicIdError';
}

const SYSTEM_TOPIC_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.EventGrid\/systemTopics\/([^/]+)$/i;

export function parseSystemTopicId(id: string): SystemTopicRef {
  const m = SYSTEM_TOPIC_ID.exec(id.trim());
  if (!m) {
    throw new SystemTopicIdError(
      `shipscan:azure.existingSystemTopicId = ${JSON.stringify(id)}: expected /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.EventGrid/systemTopics/<name>`,
    );
  }
  return { subscriptionId: m[1]!, resourceGroupName: m[2]!, name: m[3]! };
}

/** What reuse needs from the existing topic (a subset of getSystemTopic's result). */
export interface ExistingTopicFacts {
  topicType?: string;
  identity?: { type?: string; principalId?: string };
}

/**
 * The principal Event Grid delivers with when reusing a topic. Delivery to the key-less queue needs
 * the topic's system-assigned identity, and only an ARM subscription topic sees container writes.
 */
export function existingTopicPrincipal(id: string, topic: ExistingTopicFacts): string {
  if (topic.topicType?.toLowerCase() !== 'microsoft.resources.subscriptions') {
    throw new SystemTopicIdError(
      `shipscan:azure.existingSystemTopicId = ${JSON.stringify(id)}: topic type is ${topic.topicType ?? '(none)'}, expected Microsoft.Resources.Subscriptions`,
    );
  }
  const principalId = topic.identity?.type?.includes('SystemAssigned') ? topic.identity.principalId : undefined;
  if (!principalId) {
    throw new SystemTopicIdError(
      `shipscan:azure.existingSystemTopicId = ${JSON.stringify(id)}: the topic has no system-assigned managed identity, ` +
        'which delivery to the key-less queue needs; enable it (az eventgrid system-topic update --identity systemassigned) and run again',
    );
  }
  return principalId;
}
