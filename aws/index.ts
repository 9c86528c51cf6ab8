import type * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../shared/config';

/** Declares the AWS side of the stack for the configured mode; returns its stack outputs. */
export function deployAws(_config: StackConfig): Record<string, pulumi.Input<unknown>> {
  return {};
}
