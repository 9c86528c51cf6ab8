import { hasLimitingCondition, isAllow, isPublicPrincipal, parsePolicyDocument, statementsOf, values } from '../../policy';
import { isObject, type Json } from '../../record';
import type { AwsPostureRule } from '../types';
import { notApplicable, passes } from '../types';
import { FUNCTION } from '../kinds';
import type { LambdaFunctionShape } from '../shapes';
import { failing, failure } from './common';

/** `lambda:FunctionUrlAuthType = AWS_IAM`: the statement reaches any AWS principal, not anyone at all. */
function iamOnly(statement: Json): boolean {
  const condition = isObject(statement.Condition) ? statement.Condition : {};
  return Object.values(condition).some((clauses) => isObject(clauses) && Object.entries(clauses).some(([key, value]) => key.toLowerCase() === 'lambda:functionurlauthtype' && values(value).includes('AWS_IAM')));
}

/**
 * The function's resource policy (GetPolicy) judged as the AddPermission detector judges one statement
 * (policy.ts): an Allow to everyone without SourceArn, SourceAccount, PrincipalOrgID or another limiting
 * condition. One finding per statement, with the detector's subject (`permission/<Sid>`).
 */
export const lambdaResourcePolicyPublic: AwsPostureRule<LambdaFunctionShape> = {
  id: 'aws.lambda.resource-policy-public',
  title: 'Lambda function policy allows anyone to invoke',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'posture',
  service: 'lambda',
  risk: 'A resource-policy statement for Principal "*" with no source condition lets any AWS account (or, for a function URL with AuthType NONE, anyone) invoke the function.',
  remediation: {
    text: 'Remove the statement (aws lambda remove-permission), or name the invoking principal and add SourceArn / SourceAccount (services) or PrincipalOrgID (your organisation).',
    url: 'https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html',
  },
  resourceType: FUNCTION.type,
  triggers: FUNCTION.triggers,
  evaluate(config) {
    if (config.Policy === null) return passes();
    const document = parsePolicyDocument(config.Policy);
    if (!document) return notApplicable('the stored function policy is not a JSON policy document');
    const open = statementsOf(document).filter((s) => isAllow(s) && isPublicPrincipal(s) && !hasLimitingCondition(s));
    return failing(
      open.map((s, index) => {
        const sid = typeof s.Sid === 'string' && s.Sid.length > 0 ? s.Sid : `#${index}`;
        const limited = iamOnly(s);
        return failure(
          `permission/${sid}`,
          { statementId: sid, action: s.Action ?? null, ...(limited ? { functionUrlAuthType: 'AWS_IAM' } : {}) },
          limited
            ? { title: `Lambda function ${config.FunctionName} invocable by any AWS account (statement ${sid})`, severity: 'MEDIUM' }
            : { title: `Lambda function ${config.FunctionName} invocable by anyone (statement ${sid})` },
        );
      }),
    );
  },
};
