import type { AwsPostureRule } from '../types';
import { FUNCTION } from '../kinds';
import type { LambdaFunctionShape } from '../shapes';
import { failing, failure } from './common';

/** `url` for the unqualified function, `url@<alias>` for an alias's URL (the detector's subjects). */
function subjectOf(urlFunctionArn: string | undefined, functionArn: string): string {
  if (!urlFunctionArn || urlFunctionArn === functionArn) return 'url';
  const qualifier = urlFunctionArn.slice(functionArn.length + 1);
  return urlFunctionArn.startsWith(`${functionArn}:`) && qualifier.length > 0 ? `url@${qualifier}` : 'url';
}

export const lambdaFunctionUrlNoAuth: AwsPostureRule<LambdaFunctionShape> = {
  id: 'aws.lambda.function-url-no-auth',
  title: 'Lambda function URL without authentication',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'posture',
  service: 'lambda',
  risk: 'A function URL with AuthType NONE is a public HTTPS endpoint: anyone who finds the URL runs the function, at your cost and with its permissions.',
  remediation: {
    text: 'Set the URL auth type to AWS_IAM (or delete the URL) and authenticate callers; if it must be public, validate every request in the function and cap its concurrency.',
    url: 'https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html',
  },
  resourceType: FUNCTION.type,
  triggers: FUNCTION.triggers,
  evaluate(config) {
    return failing(
      config.FunctionUrls.filter((url) => url.AuthType === 'NONE').map((url) =>
        failure(subjectOf(url.FunctionArn, config.FunctionArn), { authType: 'NONE', functionUrl: url.FunctionUrl ?? null }, { title: `Lambda function ${config.FunctionName} has a public URL without authentication` }),
      ),
    );
  },
};
