import type { AwsPostureRule } from '../types';
import { notApplicable, passes } from '../types';
import { FUNCTION } from '../kinds';
import type { LambdaFunctionShape } from '../shapes';
import { failing, failure } from './common';

/**
 * Deprecation dates of Lambda's managed runtimes, as the Lambda Developer Guide lists them
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html, "Supported runtimes" and "Deprecated
 * runtimes"). A runtime fails from its date on, so the table can list announced dates ahead of time.
 */
export const RUNTIME_DEPRECATION: Readonly<Record<string, string>> = {
  nodejs: '2016-10-31',
  'nodejs4.3': '2020-03-05',
  'nodejs4.3-edge': '2020-03-05',
  'nodejs6.10': '2019-08-12',
  'nodejs8.10': '2020-03-06',
  'nodejs10.x': '2021-07-30',
  'nodejs12.x': '2023-03-31',
  'nodejs14.x': '2023-12-04',
  'nodejs16.x': '2024-06-12',
  'nodejs18.x': '2025-09-01',
  'nodejs20.x': '2026-04-30',
  'nodejs22.x': '2027-04-30',
  'python2.7': '2021-07-15',
  'python3.6': '2022-07-18',
  'python3.7': '2023-12-04',
  'python3.8': '2024-10-14',
  'python3.9': '2025-12-15',
  'python3.10': '2026-06-30',
  'python3.11': '2026-06-30',
  'python3.12': '2028-10-31',
  'python3.13': '2029-06-30',
  'ruby2.5': '2021-07-30',
  'ruby2.7': '2023-12-07',
  'ruby3.2': '2026-03-31',
  'ruby3.3': '2027-03-31',
  java8: '2024-01-08',
  'java8.al2': '2026-06-30',
  java11: '2026-06-30',
  java17: '2026-06-30',
  java21: '2029-06-30',
  'dotnetcore1.0': '2019-07-27',
  'dotnetcore2.0': '2019-05-30',
  'dotnetcore2.1': '2022-01-05',
  'dotnetcore3.1': '2023-04-03',
  'dotnet5.0': '2022-05-10',
  dotnet6: '2024-12-20',
  dotnet7: '2024-05-14',
  dotnet8: '2026-11-10',
  'go1.x': '2024-01-08',
  provided: '2024-01-08',
  'provided.al2': '2026-06-30',
  'provided.al2023': '2029-06-30',
};

export const lambdaDeprecatedRuntime: AwsPostureRule<LambdaFunctionShape> = {
  id: 'aws.lambda.deprecated-runtime',
  title: 'Lambda function on a deprecated runtime',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 'lambda',
  risk: 'A deprecated runtime no longer receives security patches for its language or operating system, and Lambda later blocks updates to functions that use it.',
  remediation: {
    text: 'Move the function to a supported runtime of the same language (aws lambda update-function-configuration --runtime ...) after testing it there.',
    url: 'https://docs.aws.amazon.com/lambda/latest/dg/runtime-support-policy.html',
  },
  resourceType: FUNCTION.type,
  triggers: FUNCTION.triggers,
  evaluate(config, ctx) {
    const runtime = config.Runtime;
    if (!runtime) return notApplicable(config.PackageType === 'Image' ? 'a container image function chooses its runtime in the image' : 'the function reports no runtime');
    const date = RUNTIME_DEPRECATION[runtime];
    if (date === undefined || ctx.now.getTime() < Date.parse(`${date}T00:00:00Z`)) return passes();
    return failing([failure('runtime', { runtime, deprecatedOn: date }, { title: `Lambda function ${config.FunctionName} runs on ${runtime}, deprecated since ${date}` })]);
  },
};
