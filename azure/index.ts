import type * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../shared/config';

/** Declares the Azure side of the stack; returns its stack outputs. */
export function deployAzure(_config: StackConfig): Record<string, pulumi.Input<unknown>> {
  return {};
}
