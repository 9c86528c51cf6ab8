import type { AwsPostureRule } from '../types';
import { notApplicable, passes } from '../types';
import { FUNCTION } from '../kinds';
import type { LambdaFunctionShape } from '../shapes';
import { failing, failure } from './common';

/**
 * The scanner tags every scanned function with its last result (functions/aws/function-tags.ts:
 * ShipscanStatus, ShipscanCritical...). A function whose last scan found critical vulnerabilities fails,
 * so the posture view and the digest show it beside the configuration findings; the vulnerabilities
 * themselves are findings of the scan.
 */
export const lambdaCriticalVulnerabilities: AwsPostureRule<LambdaFunctionShape> = {
  id: 'aws.lambda.critical-vulnerabilities',
  title: 'Lambda function with critical vulnerabilities',
  severity: 'CRITICAL',
  cloud: 'aws',
  category: 'posture',
  service: 'lambda',
  risk: 'The code or image the function runs has critical vulnerabilities in its last shipscan scan: an attacker who reaches the function may exploit them with its role.',
  remediation: {
    text: 'Update the vulnerable packages (or base image) named in the scan result and deploy the function again; the next scan updates the tags.',
  },
  resourceType: FUNCTION.type,
  triggers: FUNCTION.triggers,
  evaluate(config) {
    const tags = config.Tags;
    if (tags.ShipscanStatus === undefined) return notApplicable('the function has no shipscan result (ShipscanStatus tag)');
    const critical = Number(tags.ShipscanCritical ?? '0');
    if (!Number.isInteger(critical)) return notApplicable(`ShipscanCritical is not a count: ${JSON.stringify(tags.ShipscanCritical)}`);
    if (critical === 0) return passes();
    return failing([
      failure(
        'last-scan',
        {
          critical,
          high: Number(tags.ShipscanHigh ?? '0'),
          status: tags.ShipscanStatus,
          scannedAt: tags.ShipscanTime ?? null,
          result: tags.ShipscanContentResult ?? null,
        },
        { title: `Lambda function ${config.FunctionName} has ${critical} critical vulnerabilit${critical === 1 ? 'y' : 'ies'} in its last scan` },
      ),
    ]);
  },
};
