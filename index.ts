import * as pulumi from '@pulumi/pulumi';
import { ConfigError, validateConfig } from './shared/config';
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
function parseConfigText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Every `shipscan:` key of the stack, not only the known ones, so a misspelt key (`shipscan:awss`) is an
 * error naming it and the nearest valid key instead of a half of the program silently not deployed.
 */
function readShipscanConfig(): Record<string, unknown> {
  const prefix = `${pulumi.getProject()}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = parseConfigText(text);
  }
  return raw;
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

/**
 * A config error is the user's to fix, not a crash: as a RunError, `pulumi preview` and `pulumi up` print
 * its message (every key, value and what is allowed) without the program's stack trace.
 */
function validatedConfig() {
  try {
    return validateConfig(readShipscanConfig());
  } catch (error) {
    if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

const config = validatedConfig();

export const aws = config.aws.enabled ? deployAws(config, { secretExternalIds: isSecretConfig('aws') }) : undefined;
export const azure = config.azure.enabled ? deployAzure(config) : undefined;
