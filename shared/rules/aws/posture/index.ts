/** The AWS posture rules: stored shapes, resource kinds and their triggers, the rules and their registry. */
export * from './types';
export * from './shapes';
export * from './kinds';
export * from './registry';
export * from './scope';
export * from './observation';
export type { Failure } from './rules/common';
export { RUNTIME_DEPRECATION } from './rules/lambda-deprecated-runtime';
