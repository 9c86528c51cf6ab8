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
