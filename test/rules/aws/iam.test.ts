import { call, derive, failed, type DetectorCase, type Json } from './support/records';
import { detectorTable } from './support/table';

const ACCOUNT = '946986569305';
const BACKDOOR_USER = `arn:aws:iam::${ACCOUNT}:user/stratus-red-team-backdoor-u-user`;
const CALLER = 'arn:aws:iam::946986569305:user/christophe';

/** The stratus CreateAccessKey record (christophe, account 946986569305) turned into another IAM call. */
const iam = (eventName: string, requestParameters: Json | null, responseElements: Json | null = null) => call('accessKey', 'iam.amazonaws.com', eventName, requestParameters, responseElements);
/** The same call made by the root user (the c7n root envelope: account 619193117841). */
const asRoot = (eventName: string, requestParameters: Json | null, responseElements: Json | null = null) => call('createBucketRoot', 'iam.amazonaws.com', eventName, requestParameters, responseElements);

const ADMIN_DOC = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
const STAR_STAR_DOC = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['*:*'], Resource: ['*'] }] });
const READ_DOC = JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' } });
const trust = (principal: unknown, condition?: Json) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole', ...(condition ? { Condition: condition } : {}) }] });

const accessKeyCases: DetectorCase[] = [
  { name: 'corpus: a key created for another user is the backdoor pattern (HIGH)', input: () => derive('accessKey', () => {}), expect: [{ ruleId: 'aws.iam.access-key-created', outcome: 'fail', subject: 'AKIAL80DWDVKKM0UXEER', severity: 'HIGH', resourceId: BACKDOOR_USER }] },
  { name: 'failed CreateAccessKey gives nothing', input: () => failed(derive('accessKey', () => {}), 'LimitExceeded'), expect: [] },
  { name: "a user's own key is MEDIUM", input: () => derive('accessKey', (r) => { (r.requestParameters as Json).userName = 'christophe'; ((r.responseElements as Json).accessKey as Json).userName = 'christophe'; }), expect: [{ outcome: 'fail', severity: 'MEDIUM', resourceId: `arn:aws:iam::${ACCOUNT}:user/christophe` }] },
  { name: 'no userName: the IAM user created its own key (MEDIUM)', input: () => derive('accessKey', (r) => { r.requestParameters = null; delete ((r.responseElements as Json).accessKey as Json).userName; }), expect: [{ outcome: 'fail', severity: 'MEDIUM', resourceId: `arn:aws:iam::${ACCOUNT}:user/christophe` }] },
  { name: 'root creating its own key is CRITICAL, on the root user', input: () => asRoot('CreateAccessKey', null, { accessKey: { accessKeyId: 'AKIAROOTKEY000000001', status: 'Active' } }), expect: [{ outcome: 'fail', subject: 'AKIAROOTKEY000000001', severity: 'CRITICAL', resourceId: 'arn:aws:iam::619193117841:root' }] },
  { name: 'root creating a key for an IAM user is CRITICAL too', input: () => asRoot('CreateAccessKey', { userName: 'ops' }, { accessKey: { accessKeyId: 'AKIA2', userName: 'ops', status: 'Active' } }), expect: [{ outcome: 'fail', severity: 'CRITICAL', resourceId: 'arn:aws:iam::619193117841:user/ops' }] },
  { name: 'a trusted automation principal creating keys gives nothing', input: () => derive('accessKey', () => {}), allow: { trustedPrincipals: [CALLER] }, expect: [] },
  { name: 'DeleteAccessKey of that key resolves it', input: () => iam('DeleteAccessKey', { userName: 'stratus-red-team-backdoor-u-user', accessKeyId: 'AKIAL80DWDVKKM0UXEER' }), expect: [{ outcome: 'pass', subject: 'AKIAL80DWDVKKM0UXEER', resourceId: BACKDOOR_USER }] },
];

const userCases: DetectorCase[] = [
  { name: 'CreateUser is a LOW finding on the new user', input: () => iam('CreateUser', { userName: 'intruder' }, { user: { userName: 'intruder', arn: `arn:aws:iam::${ACCOUNT}:user/intruder` } }), expect: [{ ruleId: 'aws.iam.user-created', outcome: 'fail', severity: 'LOW', resourceId: `arn:aws:iam::${ACCOUNT}:user/intruder` }] },
  { name: 'failed CreateUser gives nothing', input: () => failed(iam('CreateUser', { userName: 'intruder' }), 'EntityAlreadyExists'), expect: [] },
  { name: 'CreateUser by a trusted principal gives nothing', input: () => iam('CreateUser', { userName: 'svc' }), allow: { trustedPrincipals: [CALLER] }, expect: [] },
  { name: 'DeleteUser resolves', input: () => iam('DeleteUser', { userName: 'intruder' }), expect: [{ ruleId: 'aws.iam.user-created', outcome: 'pass' }] },
  { name: 'CreateLoginProfile for another user is HIGH', input: () => iam('CreateLoginProfile', { userName: 'victim', passwordResetRequired: false }, { loginProfile: { userName: 'victim' } }), expect: [{ ruleId: 'aws.iam.login-profile-created', outcome: 'fail', subject: 'console-password', severity: 'HIGH' }] },
  { name: 'CreateLoginProfile for oneself is MEDIUM', input: () => iam('CreateLoginProfile', { userName: 'christophe' }), expect: [{ ruleId: 'aws.iam.login-profile-created', outcome: 'fail', severity: 'MEDIUM' }] },
  { name: 'CreateLoginProfile by a trusted principal gives nothing', input: () => iam('CreateLoginProfile', { userName: 'victim' }), allow: { trustedPrincipals: [CALLER] }, expect: [] },
  { name: 'failed CreateLoginProfile gives nothing', input: () => failed(iam('CreateLoginProfile', { userName: 'victim' })), expect: [] },
  { name: 'DeleteLoginProfile resolves', input: () => iam('DeleteLoginProfile', { userName: 'victim' }), expect: [{ ruleId: 'aws.iam.login-profile-created', outcome: 'pass', subject: 'console-password' }] },
];

const adminCases: DetectorCase[] = [
  { name: 'AttachUserPolicy AdministratorAccess is HIGH', input: () => iam('AttachUserPolicy', { userName: 'victim', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }), expect: [{ ruleId: 'aws.iam.admin-policy-granted', outcome: 'fail', subject: 'arn:aws:iam::aws:policy/AdministratorAccess', severity: 'HIGH', resourceId: `arn:aws:iam::${ACCOUNT}:user/victim` }] },
  { name: 'AttachRolePolicy AdministratorAccess names the role', input: () => iam('AttachRolePolicy', { roleName: 'ci', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }), expect: [{ outcome: 'fail', resourceId: `arn:aws:iam::${ACCOUNT}:role/ci` }] },
  { name: 'attaching ReadOnlyAccess gives nothing', input: () => iam('AttachUserPolicy', { userName: 'victim', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }), expect: [] },
  { name: 'a failed attach gives nothing', input: () => failed(iam('AttachUserPolicy', { userName: 'victim', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' })), expect: [] },
  { name: 'PutUserPolicy with Action "*" on Resource "*" (JSON string) is admin', input: () => iam('PutUserPolicy', { userName: 'victim', policyName: 'all', policyDocument: ADMIN_DOC }), expect: [{ outcome: 'fail', subject: 'inline/all' }] },
  { name: 'PutRolePolicy with ["*:*"] on ["*"] is admin', input: () => iam('PutRolePolicy', { roleName: 'ci', policyName: 'p', policyDocument: STAR_STAR_DOC }), expect: [{ outcome: 'fail', subject: 'inline/p', resourceId: `arn:aws:iam::${ACCOUNT}:role/ci` }] },
  { name: 'PutUserPolicy with a narrow document: a pass (the inline policy was replaced)', input: () => iam('PutUserPolicy', { userName: 'victim', policyName: 'all', policyDocument: READ_DOC }), expect: [{ outcome: 'pass', subject: 'inline/all' }] },
  { name: 'a trusted principal granting admin gives nothing', input: () => iam('AttachRolePolicy', { roleName: 'ci', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }), allow: { trustedPrincipals: [CALLER] }, expect: [] },
  { name: 'DetachUserPolicy resolves the same policy', input: () => iam('DetachUserPolicy', { userName: 'victim', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }), expect: [{ outcome: 'pass', subject: 'arn:aws:iam::aws:policy/AdministratorAccess' }] },
  { name: 'DeleteRolePolicy resolves the inline policy', input: () => iam('DeleteRolePolicy', { roleName: 'ci', policyName: 'p' }), expect: [{ outcome: 'pass', subject: 'inline/p' }] },
];

const trustCases: DetectorCase[] = [
  { name: 'UpdateAssumeRolePolicy trusting "*" is CRITICAL', input: () => iam('UpdateAssumeRolePolicy', { roleName: 'app', policyDocument: trust('*') }), expect: [{ ruleId: 'aws.iam.role-trust-external', outcome: 'fail', subject: 'trust-policy', severity: 'CRITICAL', resourceId: `arn:aws:iam::${ACCOUNT}:role/app` }] },
  { name: 'trusting {"AWS": "*"} is CRITICAL', input: () => iam('UpdateAssumeRolePolicy', { roleName: 'app', policyDocument: trust({ AWS: '*' }) }), expect: [{ outcome: 'fail', severity: 'CRITICAL' }] },
  { name: 'trusting a foreign account is HIGH', input: () => iam('UpdateAssumeRolePolicy', { roleName: 'app', policyDocument: trust({ AWS: 'arn:aws:iam::111122223333:root' }) }), expect: [{ outcome: 'fail', severity: 'HIGH' }] },
  { name: 'trusting the own account: a pass', input: () => iam('UpdateAssumeRolePolicy', { roleName: 'app', policyDocument: trust({ AWS: `arn:aws:iam::${ACCOUNT}:role/admin` }) }), expect: [{ outcome: 'pass', subject: 'trust-policy' }] },
  { name: 'trusting an account in trustedAccounts: a pass', input: () => iam('UpdateAssumeRolePolicy', { roleName: 'app', policyDocument: trust({ AWS: '111122223333' }) }), allow: { trustedAccounts: ['111122223333'] }, expect: [{ outcome: 'pass' }] },
  { name: 'trusting a service principal: a pass', input: () => iam('UpdateAssumeRolePolicy', { roleName: 'app', policyDocument: trust({ Service: 'lambda.amazonaws.com' }) }), expect: [{ outcome: 'pass' }] },
  { name: '"*" limited by aws:PrincipalOrgID: a pass', input: () => iam('UpdateAssumeRolePolicy', { roleName: 'app', policyDocument: trust({ AWS: '*' }, { StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } }) }), expect: [{ outcome: 'pass' }] },
  { name: 'failed UpdateAssumeRolePolicy gives nothing', input: () => failed(iam('UpdateAssumeRolePolicy', { roleName: 'app', policyDocument: trust('*') })), expect: [] },
  {
    name: "CreateRole: the response's URL-encoded document is read when the request's is missing",
    input: () => iam('CreateRole', { roleName: 'app' }, { role: { roleName: 'app', assumeRolePolicyDocument: encodeURIComponent(trust({ AWS: 'arn:aws:iam::111122223333:root' })) } }),
    expect: [{ outcome: 'fail', severity: 'HIGH' }],
  },
  { name: 'CreateRole trusting a service gives nothing', input: () => iam('CreateRole', { roleName: 'app', assumeRolePolicyDocument: trust({ Service: 'ec2.amazonaws.com' }) }), expect: [] },
  { name: 'DeleteRole resolves', input: () => iam('DeleteRole', { roleName: 'app' }), expect: [{ ruleId: 'aws.iam.role-trust-external', outcome: 'pass' }] },
];

describe('IAM detectors', () => {
  describe('aws.iam.access-key-created', () => detectorTable(accessKeyCases));
  describe('aws.iam.user-created and aws.iam.login-profile-created', () => detectorTable(userCases));
  describe('aws.iam.admin-policy-granted', () => detectorTable(adminCases));
  describe('aws.iam.role-trust-external', () => detectorTable(trustCases));
});
