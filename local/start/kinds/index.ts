/** Every kind of replayable event and its replayer. Adding a kind: a module in this folder, one line here. */
import type { ItemOfKind, ReplayKind } from '../../replay/detect';
import { containerDeployments } from './container-deployment';
import type { Replayer } from './kind';
import { lambdaDeployments } from './lambda-deployment';
import { s3Objects } from './s3-object';

export const REPLAYERS: { [K in ReplayKind]: Replayer<K> } = {
  'container-deployment': containerDeployments,
  'lambda-deployment': lambdaDeployments,
  's3-object': s3Objects,
};

/**
 * The replayer of an item's kind. The map holds one replayer per kind, and each is only ever handed
 * items of its own kind, so widening the parameter types to every kind is sound here.
 */
export function replayerOf(item: ItemOfKind<ReplayKind>): Replayer<ReplayKind> {
  return REPLAYERS[item.kind] as unknown as Replayer<ReplayKind>;
}

export type { Delivery, Progress, ReplayContext, ReplayInput, Replayer, Route } from './kind';
