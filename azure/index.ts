import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../shared/config';
import { locateAzureBundle } from './bundle';
import { AzureScanner } from './scanner';

export { AzureScanner } from './scanner';

/** Declares the Azure side of the stack; returns its stack outputs. */
export function deployAzure(config: StackConfig): Record<string, pulumi.Input<unknown>> {
  if (!config.qualys) throw new Error('shipscan:qualys = (unset): the Azure scanner needs qualys.pod (or gateway) and credentials');
  // Checked before any resource is declared, so a preview without the build fails at once.
  const bundle = locateAzureBundle();
  const scanner = new AzureScanner('shipscan', { azure: config.azure, qualys: config.qualys, findings: config.findings, bundle, stack: pulumi.getStack() });
  return {
    resourceGroupName: scanner.resourceGroupName,
    functionAppName: scanner.functionAppName,
    functionAppPrincipalId: scanner.functionAppPrincipalId,
    storageAccountName: scanner.storageAccountName,
    keyVaultUri: scanner.keyVaultUri,
    workspaceId: scanner.workspaceId,
    systemTopicId: scanner.systemTopicId,
    eventSubscriptionName: scanner.eventSubscriptionName,
    workbookId: scanner.workbookId,
    ...(config.azure.securityEvents.enabled ? { securityEventSubscriptionNames: scanner.securityEventSubscriptionNames } : {}),
  };
}
