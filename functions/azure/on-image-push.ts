import { classifyImagePush, pushedImages } from './image-push-event';
import { createScanEventHandler, type ScanEventDeps } from './on-deployment';
import { COMPONENTS, FUNCTION_NAMES } from './telemetry-names';

/**
 * `onImagePush` (queue `image-pushes`): an image pushed to a configured registry goes through the same
 * Container Security API path as the images of a deployment (dedupe by push, cache by digest, in-flight
 * lock, submit or reuse, poll), with the registry repository as its workload and ContainerType `ACR`.
 * Scanned at push time, the image is a cache hit when a container group or app deploys it later, and a
 * deployment that comes while the push's scan runs waits for it instead of scanning again.
 */
export function createOnImagePush(deps: ScanEventDeps) {
  return createScanEventHandler(deps, {
    fn: FUNCTION_NAMES.onImagePush,
    component: COMPONENTS.onImagePush,
    classify: classifyImagePush,
    images: pushedImages,
  });
}
