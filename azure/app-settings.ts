import * as pulumi from '@pulumi/pulumi';
import type { AzureConfig, FindingsConfig, QualysConfig } from '../shared/config';
import {
  APP_SETTINGS,
  DEADLETTER_CONTAINER,
  DEDUPE_TABLE,
  DEPLOYMENTS_QUEUE,
  FINDINGS_INDEX_TABLE,
  FINDINGS_TABLE,
  INVENTORY_QUEUE,
  INVENTORY_RUNS_TABLE,
  RESOURCES_TABLE,
  LOCK_TABLE,
  POLLS_QUEUE,
  RESULTS_CONTAINER,
  SCAN_TABLE,
  SECRET_NAMES,
  SECURITY_EVENTS_QUEUE,
} from './names';

export type SecretName = (typeof SECRET_NAMES)[keyof typeof SECRET_NAMES];

/** The secrets this configuration stores in Key Vault, by Key Vault secret name. */
export function vaultSecrets(azure: AzureConfig, qualys: QualysConfig, findings?: FindingsConfig): Map<SecretName, string> {
  const secrets = new Map<SecretName, string>();
  if (qualys.accessToken) secrets.set(SECRET_NAMES.qualysAccessToken, qualys.accessToken);
  else if (qualys.username && qualys.password) {
    secrets.set(SECRET_NAMES.qualysUsername, qualys.username);
    secrets.set(SECRET_NAMES.qualysPassword, qualys.password);
  }
  if (azure.alertWebhookUrl) secrets.set(SECRET_NAMES.alertWebhookUrl, azure.alertWebhookUrl);
  const smtp = findings?.email?.smtp;
  if (smtp?.username && smtp.password) {
    secrets.set(SECRET_NAMES.findingsSmtpUsername, smtp.username);
    secrets.set(SECRET_NAMES.findingsSmtpPassword, smtp.password);
  }
  if (findings?.slackWebhookUrl) secrets.set(SECRET_NAMES.findingsSlackWebhookUrl, findings.slackWebhookUrl);
  if (findings?.teamsWebhookUrl) secrets.set(SECRET_NAMES.findingsTeamsWebhookUrl, findings.teamsWebhookUrl);
  return secrets;
}

/**
 * `shipscan:findings` without its secrets, as FINDINGS_CONFIG carries it to the Function App (the secrets go
 * to Key Vault, and reach the app as references in settings of their own).
 */
export function findingsConfigSetting(findings: FindingsConfig): string {
  const { slackWebhookUrl: _slack, teamsWebhookUrl: _teams, email, ...rest } = findings;
  const out: Record<string, unknown> = { ...rest };
  if (email) {
    const { smtp, ...addressing } = email;
    if (smtp) {
      const { username: _username, password: _password, ...relay } = smtp;
      out.email = { ...addressing, smtp: relay };
    } else {
      out.email = addressing;
    }
  }
  return JSON.stringify(out);
}

/** A versionless Key Vault reference: App Service resolves it with the app's identity and follows new versions. */
export function keyVaultReference(vaultUri: pulumi.Input<string>, secretName: string): pulumi.Output<string> {
  return pulumi.interpolate`@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${secretName}/)`;
}

export interface AppSettingsInput {
  azure: AzureConfig;
  qualys: QualysConfig;
  findings: FindingsConfig;
  storageAccountName: pulumi.Input<string>;
  /** `https://<vault>.vault.azure.net/`, with the trailing slash ARM returns. */
  vaultUri: pulumi.Input<string>;
  appInsightsConnectionString: pulumi.Input<string>;
  packageSha256: string;
  /** The subscriptions the inventory reads (with `azure.inventory.enabled`). */
  inventorySubscriptions?: pulumi.Input<string>[];
}

/** The inventory's settings (azure/inventory.ts creates what they name; the findings settings are everyone's). */
export function inventoryAppSettings(azure: AzureConfig, subscriptions: pulumi.Input<string>[]): AppSetting[] {
  const inventory = azure.inventory;
  return [
    { name: APP_SETTINGS.inventoryEnabled, value: 'true' },
    { name: APP_SETTINGS.inventorySubscriptions, value: pulumi.all(subscriptions).apply((ids) => ids.map((id) => id.toLowerCase()).join(',')) },
    { name: APP_SETTINGS.inventoryTypes, value: inventory.types.join(',') },
    { name: APP_SETTINGS.inventoryRuleScopes, value: JSON.stringify(inventory.ruleScopes) },
    { name: APP_SETTINGS.inventorySchedule, value: inventory.inventorySchedule },
    { name: APP_SETTINGS.evaluationSchedule, value: inventory.evaluationSchedule },
    { name: APP_SETTINGS.inventoryQueue, value: INVENTORY_QUEUE },
    { name: APP_SETTINGS.resourcesTable, value: RESOURCES_TABLE },
    { name: APP_SETTINGS.inventoryRunsTable, value: INVENTORY_RUNS_TABLE },
  ];
}

export interface AppSetting {
  name: string;
  value: pulumi.Input<string>;
}

/**
 * The Function App's settings. Secrets appear only as Key Vault references; storage is reached
 * with the app's managed identity (no connection string, no key). The package hash changes the
 * settings whenever the code changes, which restarts the app onto the new package.
 */
export function buildAppSettings(input: AppSettingsInput): AppSetting[] {
  const { azure, qualys, findings } = input;
  const settings: AppSetting[] = [
    { name: APP_SETTINGS.storageAccountName, value: input.storageAccountName },
    { name: APP_SETTINGS.storageCredential, value: 'managedidentity' },
    { name: APP_SETTINGS.resultsContainer, value: RESULTS_CONTAINER },
    { name: APP_SETTINGS.deadletterContainer, value: DEADLETTER_CONTAINER },
    { name: APP_SETTINGS.scanTable, value: SCAN_TABLE },
    { name: APP_SETTINGS.lockTable, value: LOCK_TABLE },
    { name: APP_SETTINGS.dedupeTable, value: DEDUPE_TABLE },
    { name: APP_SETTINGS.deploymentsQueue, value: DEPLOYMENTS_QUEUE },
    { name: APP_SETTINGS.pollsQueue, value: POLLS_QUEUE },
    { name: APP_SETTINGS.findingsTable, value: FINDINGS_TABLE },
    { name: APP_SETTINGS.findingsIndexTable, value: FINDINGS_INDEX_TABLE },
    { name: APP_SETTINGS.securityEventsEnabled, value: String(azure.securityEvents.enabled) },
    ...(azure.securityEvents.enabled ? [{ name: APP_SETTINGS.securityEventsQueue, value: SECURITY_EVENTS_QUEUE }] : []),
    { name: APP_SETTINGS.findingsConfig, value: findingsConfigSetting(findings) },
  ];
  if (qualys.pod) settings.push({ name: APP_SETTINGS.qualysPod, value: qualys.pod });
  if (qualys.gateway) settings.push({ name: APP_SETTINGS.qualysGateway, value: qualys.gateway });
  const secrets = vaultSecrets(azure, qualys, findings);
  const reference: Record<SecretName, string> = {
    [SECRET_NAMES.qualysAccessToken]: APP_SETTINGS.qualysAccessToken,
    [SECRET_NAMES.qualysUsername]: APP_SETTINGS.qualysUsername,
    [SECRET_NAMES.qualysPassword]: APP_SETTINGS.qualysPassword,
    [SECRET_NAMES.alertWebhookUrl]: APP_SETTINGS.alertWebhookUrl,
    [SECRET_NAMES.findingsSmtpUsername]: APP_SETTINGS.findingsSmtpUsername,
    [SECRET_NAMES.findingsSmtpPassword]: APP_SETTINGS.findingsSmtpPassword,
    [SECRET_NAMES.findingsSlackWebhookUrl]: APP_SETTINGS.findingsSlackWebhookUrl,
    [SECRET_NAMES.findingsTeamsWebhookUrl]: APP_SETTINGS.findingsTeamsWebhookUrl,
  };
  for (const secretName of secrets.keys()) {
    settings.push({ name: reference[secretName], value: keyVaultReference(input.vaultUri, secretName) });
  }
  settings.push(
    { name: APP_SETTINGS.keyVaultUrl, value: input.vaultUri },
    { name: APP_SETTINGS.cacheHours, value: String(azure.cacheHours) },
    { name: APP_SETTINGS.pollMinSec, value: String(azure.pollMinSec) },
    { name: APP_SETTINGS.maxScanMinutes, value: String(azure.maxScanMinutes) },
    { name: APP_SETTINGS.severityThreshold, value: azure.severityThreshold },
    { name: APP_SETTINGS.appInsightsConnectionString, value: input.appInsightsConnectionString },
    { name: APP_SETTINGS.packageSha256, value: input.packageSha256 },
  );
  if (azure.inventory.enabled) {
    if (!input.inventorySubscriptions) throw new Error('azure.inventory.enabled needs the inventory subscriptions');
    settings.push(...inventoryAppSettings(azure, input.inventorySubscriptions));
  }
  return settings;
}
