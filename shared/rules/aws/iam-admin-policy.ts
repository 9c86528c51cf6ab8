import type { ActivityDetector, AwsEventContext, CloudTrailRecord } from '../types';
import { arn, fail, isTrustedCaller, pass, request, resource, str } from './record';
import { isAdminStatement, parsePolicyDocument, statementsOf } from './policy';

/**
 * Full administrator rights granted to a user, role or group: the AWS managed AdministratorAccess policy
 * attached, or an inline policy allowing `*` (or `*:*`) on `*`. Inline policyDocument is a JSON string in
 * CloudTrail. The subject is the policy (its ARN, or `inline/<name>`), so detaching or deleting it, or
 * replacing the inline policy with a narrower one, resolves the finding.
 */

const ADMIN_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\/AdministratorAccess$/;

type PrincipalKind = 'User' | 'Role' | 'Group';

function principalKind(eventName: string): PrincipalKind | undefined {
  const match = /(User|Role|Group)Policy$/.exec(eventName);
  return match ? (match[1] as PrincipalKind) : undefined;
}

function target(record: CloudTrailRecord, ctx: AwsEventContext, kind: PrincipalKind) {
  const req = request(record);
  const name = str(req[`${kind.toLowerCase()}Name`]);
  if (!name) return undefined;
  return resource(`AWS::IAM::${kind}`, arn(ctx, 'iam', `${kind.toLowerCase()}/${name}`, { region: '' }), name);
}

export const iamAdminPolicy: ActivityDetector = {
  id: 'aws.iam.admin-policy-granted',
  title: 'Administrator access granted',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'iam',
  risk: 'A principal with AdministratorAccess (or an Allow of * on *) can do anything in the account, including covering its tracks and granting itself more.',
  remediation: {
    text: 'Detach the policy and grant only the actions the principal needs; keep administrator rights on a few roles assumed with MFA.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege',
  },
  eventSource: 'iam.amazonaws.com',
  eventNames: [
    'AttachUserPolicy',
    'AttachRolePolicy',
    'AttachGroupPolicy',
    'PutUserPolicy',
    'PutRolePolicy',
    'PutGroupPolicy',
    'DetachUserPolicy',
    'DetachRolePolicy',
    'DetachGroupPolicy',
    'DeleteUserPolicy',
    'DeleteRolePolicy',
    'DeleteGroupPolicy',
  ],
  match(record, ctx) {
    const kind = principalKind(record.eventName);
    const who = kind ? target(record, ctx, kind) : undefined;
    if (!kind || !who) return [];
    const req = request(record);
    const verb = record.eventName.slice(0, record.eventName.indexOf(kind));
    const policyArn = str(req.policyArn);
    const policyName = str(req.policyName);
    const subject = verb === 'Attach' || verb === 'Detach' ? policyArn : policyName ? `inline/${policyName}` : undefined;
    if (!subject) return [];
    if (verb === 'Detach') return [pass(who, subject, 'policy detached')];
    if (verb === 'Delete') return [pass(who, subject, 'inline policy deleted')];

    let admin: boolean;
    if (verb === 'Attach') {
      // A customer managed policy's document is not in this record (CreatePolicy carries it): only the AWS one is judged.
      admin = ADMIN_POLICY.test(subject);
      if (!admin) return [];
    } else {
      const document = parsePolicyDocument(req.policyDocument);
      if (!document) return [];
      admin = statementsOf(document).some(isAdminStatement);
      // Put replaces the inline policy of that name: a narrower document resolves it.
      if (!admin) return [pass(who, subject, 'inline policy no longer grants administrator access')];
    }
    if (isTrustedCaller(record, ctx)) return [];
    return [
      fail(
        who,
        subject,
        { principal: who.id, policy: subject, grant: verb === 'Attach' ? 'AdministratorAccess' : 'Allow * on *' },
        { title: `Administrator access granted to IAM ${kind.toLowerCase()} ${who.name}` },
      ),
    ];
  },
};
