import * as pulumi from '@pulumi/pulumi';
import { validateConfig } from './shared/config';
import { deployAws } from './aws';
import { deployAzure } from './azure';

/**
 * Composition root: typed config -> cloud components -> stack outputs. Structured config
 * (`pulumi config set --path`) arrives as JSON text; it is read without Pulumi's secret warnings
 * because secret leaves are re-wrapped with pulumi.secret() by the components that use them.
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

const config = validateConfig({
  aws: readConfigObject('aws'),
  azure: readConfigObject('azure'),
  qualys: readConfigObject('qualys'),
});

export const aws = config.aws.enabled ? deployAws(config) : undefined;
export const azure = config.azure.enabled ? deployAzure(config) : undefined;
