/** Every kind of replayable event and its replayer. Adding a kind: a module in this folder, one line here. */
import type { ItemOfKind, ReplayKind } from '../../replay/detect';
import { awsSecurityEvents } from './aws-security-event';
import { azureSecurityEvents } from './azure-security-event';
import { containerDeployments } from './container-deployment';
import { imagePushes } from './image-push';
import type { Replayer } from './kind';
import { lambdaDeployments } from './lambda-deployment';
import { s3Objects } from './s3-object';
import { withSecurityFanOut } from './security-fan-out';

export const REPLAYERS: { [K in ReplayKind]: Replayer<K> } = {
  // Container writes also reach the security-event subscription (Event Grid delivers to both).
  'container-deployment': withSecurityFanOut(containerDeployments),
  'image-push': imagePushes,
  'azure-security-event': azureSecurityEvents,
  'lambda-deployment': lambdaDeployments,
  's3-object': s3Objects,
  'aws-security-event': awsSecurityEvents,
};

/**
 * The replayer of an item's kind. The map holds one replayer per kind, and each is only ever handed
 * items of its own kind, so widening the parameter types to every kind is sound here.
 */
export function replayerOf(item: ItemOfKind<ReplayKind>): Replayer<ReplayKind> {
  return REPLAYERS[item.kind] as unknown as Replayer<ReplayKind>;
}

export type { Delivery, Progress, ReplayContext, ReplayInput, Replayer, Route } from './kind';
