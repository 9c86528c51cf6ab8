/** The AWS activity detector library: detectors, their registry, the EventBridge patterns, the input parser. */
export * from './registry';
export * from './pattern';
export * from './parse';
export * from './observation';
export { canonicalEventName } from './event-names';
export { CONSOLE_SIGN_IN_DETAIL_TYPES } from './signin';
