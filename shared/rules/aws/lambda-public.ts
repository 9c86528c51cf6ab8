import type { ActivityDetector, AwsEventContext, CloudTrailRecord } from '../types';
import { canonicalEventName } from './event-names';
import { fail, pass, request, resource, response, str } from './record';
import { hasLimitingCondition, isPublicPrincipal, parsePolicyDocument } from './policy';

/**
 * Lambda functions opened to everyone: a resource-policy statement for Principal `*` with no SourceArn,
 * SourceAccount or PrincipalOrgID (AddPermission, logged as AddPermission20150331 / ...v2), and function
 * URLs with AuthType NONE (CreateFunctionUrlConfig20211031 / UpdateFunctionUrlConfig20211031). The registry
 * routes the dated names to these undated ones.
 */

const NAME = /^[A-Za-z0-9_-]{1,140}$/;

interface FunctionRef {
  arn: string;
  name: string;
  qualifier?: string;
}

/**
 * The unqualified function a call names however the caller wrote it: a name, a partial ARN
 * (`<account>:function:<name>`) or a full ARN, each possibly with `:<qualifier>`.
 */
export function functionOf(value: unknown, ctx: AwsEventContext, qualifierValue?: unknown): FunctionRef | undefined {
  const text = str(value);
  if (!text) return undefined;
  let account = ctx.account;
  let region = ctx.region;
  let partition = ctx.partition;
  let rest: string[];
  const full = /^arn:([a-z-]+):lambda:([a-z0-9-]+):([0-9]{12}):function:(.+)$/.exec(text);
  const partial = full ? null : /^([0-9]{12}):function:(.+)$/.exec(text);
  if (full) {
    [partition, region, account] = [full[1]!, full[2]!, full[3]!];
    rest = full[4]!.split(':');
  } else if (partial) {
    account = partial[1]!;
    rest = partial[2]!.split(':');
  } else {
    rest = text.split(':');
  }
  const [name, qualifier] = rest;
  if (!name || !NAME.test(name) || rest.length > 2) return undefined;
  const given = qualifier ?? str(qualifierValue);
  return {
    arn: `arn:${partition}:lambda:${region}:${account}:function:${name}`,
    name,
    ...(given ? { qualifier: given } : {}),
  };
}

function lambdaFunction(ref: FunctionRef) {
  return resource('AWS::Lambda::Function', ref.arn, ref.name);
}

/** A permission is one statement id on one version or alias of the function. */
function permissionSubject(statementId: string, ref: FunctionRef): string {
  return ref.qualifier ? `permission/${statementId}@${ref.qualifier}` : `permission/${statementId}`;
}

function isOpenPermission(record: CloudTrailRecord): { open: boolean; iamOnly: boolean } {
  const req = request(record);
  const principal = str(req.principal);
  // The response's statement (a JSON string) is the policy as stored: it also shows conditions the request spelled differently.
  const statement = parsePolicyDocument(response(record).statement);
  const everyone = principal === '*' || (statement !== undefined && isPublicPrincipal(statement));
  const limited = str(req.sourceArn) !== undefined || str(req.sourceAccount) !== undefined || str(req.principalOrgID) !== undefined || (statement !== undefined && hasLimitingCondition(statement));
  return { open: everyone && !limited, iamOnly: str(req.functionUrlAuthType) === 'AWS_IAM' };
}

export const lambdaPublicPermission: ActivityDetector = {
  id: 'aws.lambda.public-permission',
  title: 'Lambda function invocable by anyone',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'lambda',
  risk: 'A resource-policy statement for Principal "*" with no source condition lets any AWS account (or, for function URLs with AuthType NONE, anyone) invoke the function: a classic backdoor.',
  remediation: {
    text: 'Remove the statement (RemovePermission), or name the invoking principal and add SourceArn / SourceAccount (services) or PrincipalOrgID (your organisation).',
    url: 'https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html',
  },
  eventSource: 'lambda.amazonaws.com',
  eventNames: ['AddPermission', 'RemovePermission'],
  match(record, ctx) {
    const req = request(record);
    const ref = functionOf(req.functionName, ctx, req.qualifier);
    const statementId = str(req.statementId);
    if (!ref || !statementId) return [];
    const fn = lambdaFunction(ref);
    const subject = permissionSubject(statementId, ref);
    if (canonicalEventName(record.eventSource, record.eventName) === 'RemovePermission') return [pass(fn, subject, 'permission removed')];
    const { open, iamOnly } = isOpenPermission(record);
    // AddPermission cannot overwrite a statement id, so a limited statement says nothing about an earlier open one.
    if (!open) return [];
    return [
      fail(
        fn,
        subject,
        { statementId, principal: str(req.principal) ?? '*', action: str(req.action) ?? 'unknown', ...(str(req.functionUrlAuthType) ? { functionUrlAuthType: str(req.functionUrlAuthType) } : {}) },
        iamOnly
          ? { title: `Lambda function ${ref.name} invocable by any AWS account`, severity: 'MEDIUM' }
          : { title: `Lambda function ${ref.name} invocable by anyone (statement ${statementId})` },
      ),
    ];
  },
};

export const lambdaPublicUrl: ActivityDetector = {
  id: 'aws.lambda.public-function-url',
  title: 'Lambda function URL without authentication',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'lambda',
  risk: 'A function URL with AuthType NONE is a public HTTPS endpoint: anyone who finds the URL runs the function, at your cost and with its permissions.',
  remediation: {
    text: 'Set the URL auth type to AWS_IAM (or delete the URL) and authenticate callers; if it must be public, validate every request in the function and cap its concurrency.',
    url: 'https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html',
  },
  eventSource: 'lambda.amazonaws.com',
  eventNames: ['CreateFunctionUrlConfig', 'UpdateFunctionUrlConfig', 'DeleteFunctionUrlConfig'],
  match(record, ctx) {
    const req = request(record);
    const resp = response(record);
    const ref = functionOf(str(resp.functionArn) ?? req.functionName, ctx, req.qualifier);
    if (!ref) return [];
    const fn = lambdaFunction(ref);
    const subject = ref.qualifier ? `url@${ref.qualifier}` : 'url';
    if (canonicalEventName(record.eventSource, record.eventName) === 'DeleteFunctionUrlConfig') return [pass(fn, subject, 'function URL deleted')];
    const authType = str(req.authType) ?? str(resp.authType);
    if (authType === 'AWS_IAM') return [pass(fn, subject, 'function URL requires IAM authentication')];
    if (authType !== 'NONE') return [];
    return [fail(fn, subject, { authType, functionUrl: str(resp.functionUrl) ?? 'unknown' }, { title: `Lambda function ${ref.name} has a public URL without authentication` })];
  },
};

