import * as pulumi from '@pulumi/pulumi';
import { validateConfig } from './shared/config';
import { deployAws } from './aws';
import { deployAzure } from './azure';

/**
 * Composition root: typed config -> cloud components -> stack outputs.
 *
 * Structured config (`pulumi config set --path`) arrives as JSON text with every leaf decrypted.
 * It is read as plain values on purpose: the program branches on it (enabled, mode) and validates
 * it before declaring anything, which `getSecretObject`/`requireSecretObject` cannot offer (they
 * return an Output of the whole object). Secrecy is restored where values are used: the components
 * wrap every leaf that may be secret (Qualys credentials, webhook URL, ExternalIds) in
 * pulumi.secret() before it reaches a resource input, so it is encrypted in the state.
 */
function readConfigObject(key: string): unknown {
  const text = pulumi.runtime.getConfig(`${pulumi.getProject()}:${key}`);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Whether the stack holds `shipscan:<key>` as a secret. For a structured value the CLI reports the
 * whole key once any leaf was set with --secret, without saying which leaf, so true means "a leaf
 * may be secret". @pulumi/pulumi 3.248 exposes this check only as the @internal
 * runtime.isConfigSecret (read from PULUMI_CONFIG_SECRET_KEYS); should it disappear, everything
 * that may be secret is treated as secret.
 */
function isSecretConfig(key: string): boolean {
  // The function is public at runtime but missing from the typings (@internal), hence the narrow cast.
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (fullKey: string) => boolean };
  return typeof runtime.isConfigSecret === 'function' ? runtime.isConfigSecret(`${pulumi.getProject()}:${key}`) : true;
}

const config = validateConfig({
  aws: readConfigObject('aws'),
  azure: readConfigObject('azure'),
  qualys: readConfigObject('qualys'),
  findings: readConfigObject('findings'),
});

export const aws = config.aws.enabled ? deployAws(config, { secretExternalIds: isSecretConfig('aws') }) : undefined;
export const azure = config.azure.enabled ? deployAzure(config) : undefined;
