import type * as pulumi from '@pulumi/pulumi';
import { ConfigError, type StackConfig } from '../shared/config';
import { AWS_SCANNER_NAME, awsContext } from './context';
import { findingsTable } from './findings-table';
import { AwsScanner } from './scanner';
import { AwsSecurityEvents } from './security-events';
import { AwsSpoke } from './spoke';
import { AwsArtifacts } from './artifacts';

export { AwsScanner, type AwsScannerArgs } from './scanner';
export { AwsSpoke, type AwsSpokeArgs } from './spoke';
export { AwsArtifacts, type AwsArtifactsArgs } from './artifacts';
export { AwsSecurityEvents, type AwsSecurityEventsArgs } from './security-events';
export { BundleMissingError, BUNDLE_DIR_ENV } from './bundles';

export interface DeployAwsOptions {
  /** The stack holds `shipscan:aws` as a secret, so its ExternalIds must stay encrypted in the state. */
  secretExternalIds: boolean;
}

/**
 * Declares the AWS side of the stack for the configured mode; returns its stack outputs. Nothing
 * secret is returned: not the Qualys token, not the spokes' ExternalIds.
 */
export function deployAws(config: StackConfig, options: DeployAwsOptions): Record<string, pulumi.Input<unknown>> {
  const aws = config.aws;
  if (aws.mode === 'spoke') {
    const spoke = new AwsSpoke('shipscan-spoke', { config: aws, secretExternalIds: options.secretExternalIds, findings: config.findings });
    return {
      mode: aws.mode,
      accessRoleArn: spoke.accessRole.arn,
      forwardRuleArn: spoke.forwardRule.arn,
      ...(spoke.objectReaderRole ? { objectReaderRoleArn: spoke.objectReaderRole.arn } : {}),
      ...(spoke.securityForwardRules.length > 0 ? { securityForwardRuleArns: spoke.securityForwardRules.map((rule) => rule.arn) } : {}),
      ...(spoke.accessLogsBucket ? { accessLogsBucket: spoke.accessLogsBucket.bucket } : {}),
    };
  }
  const qualys = config.qualys;
  if (!qualys?.accessToken) {
    throw new ConfigError([
      { key: 'qualys.accessToken', value: undefined, message: 'the AWS scanner (QScanner) authenticates with an access token: set it with --secret' },
    ]);
  }
  const scanner = new AwsScanner(AWS_SCANNER_NAME, {
    config: aws,
    secretExternalIds: options.secretExternalIds,
    qualys: { accessToken: qualys.accessToken, ...(qualys.pod ? { pod: qualys.pod } : {}), ...(qualys.gateway ? { gateway: qualys.gateway } : {}) },
  });
  const artifacts = aws.artifacts.enabled
    ? new AwsArtifacts('shipscan-artifacts', {
        config: aws,
        scanner,
        qualys: { ...(qualys.pod ? { pod: qualys.pod } : {}), ...(qualys.gateway ? { gateway: qualys.gateway } : {}) },
        secretExternalIds: options.secretExternalIds,
      })
    : undefined;
  // A spoke's roles trust exactly these: the scanner and bulk roles, and the object scanner's when artifacts are on.
  const hubRoles = [...scanner.spokeAccessRoles, ...(artifacts ? [artifacts.role] : [])];
  // One findings table per stack, under the stack key: every capability that records findings (security
  // events now; posture, artifacts and vulnerability findings later) writes this one.
  const findings = findingsTable(`${AWS_SCANNER_NAME}-findings`, awsContext(scanner), scanner.key, scanner);
  const securityEvents = aws.securityEvents.enabled
    ? new AwsSecurityEvents(`${AWS_SCANNER_NAME}-security-events`, {
        config: aws,
        findings: config.findings,
        key: scanner.key,
        findingsTopic: scanner.findingsTopic,
        resultsBucket: scanner.resultsBucket,
        findingsTable: findings,
        ...(scanner.centralBus ? { centralBus: scanner.centralBus } : {}),
      })
    : undefined;
  return {
    mode: aws.mode,
    resultsBucket: scanner.resultsBucket.bucket,
    ...(scanner.accessLogsBucket ? { accessLogsBucket: scanner.accessLogsBucket.bucket } : {}),
    cacheTable: scanner.cacheTable.name,
    findingsTopicArn: scanner.findingsTopic.arn,
    scanQueueUrl: scanner.queue.url,
    scannerFunction: scanner.scanner.name,
    bulkFunction: scanner.bulk.name,
    ...(artifacts
      ? {
          objectScannerFunction: artifacts.fn.name,
          objectQueueUrl: artifacts.queue.url,
          objectDeadLetterQueueUrl: artifacts.deadLetterQueue.url,
          ...(artifacts.stackSet ? { artifactForwardersStackSet: artifacts.stackSet.name } : {}),
        }
      : {}),
    findingsTable: findings.name,
    ...(securityEvents ? { securityEventsQueueUrl: securityEvents.queue.url } : {}),
    ...(scanner.centralBus
      ? {
          centralEventBusArn: scanner.centralBus.arn,
          // What a spoke stack sets as shipscan:aws.hub (with the ExternalId it chooses): the hub's
          // account, its bus and exactly the roles that may assume spoke roles.
          spokeHub: {
            accountId: scanner.centralBus.arn.apply((arn) => arn.split(':')[4]!),
            eventBusArn: scanner.centralBus.arn,
            roleArns: hubRoles.map((role) => role.arn),
          },
        }
      : {}),
  };
}
