import { call, derive, failed, type DetectorCase, type Json } from './support/records';
import { detectorTable } from './support/table';

const FN = 'arn:aws:lambda:ca-centralnorth-1r:880896431042:function:stratus-red-team-backdoor-f-func';

/** The stratus AddPermission20150331v2 record with its request (and the logged statement) changed. */
function permission(change: (req: Json, statement: Json) => void): Json {
  return derive('addPermission', (record) => {
    const resp = record.responseElements as Json;
    const statement = JSON.parse(resp.statement as string) as Json;
    change(record.requestParameters as Json, statement);
    resp.statement = JSON.stringify(statement);
  });
}

const lambda = (eventName: string, requestParameters: Json, responseElements: Json | null = null) => call('addPermission', 'lambda.amazonaws.com', eventName, requestParameters, responseElements);

const permissionCases: DetectorCase[] = [
  { name: 'corpus: AddPermission20150331v2 with Principal "*" is a backdoor (HIGH)', input: () => derive('addPermission', () => {}), expect: [{ ruleId: 'aws.lambda.public-permission', outcome: 'fail', subject: 'permission/backdoor', severity: 'HIGH', resourceId: FN }] },
  { name: 'failed AddPermission gives nothing', input: () => failed(derive('addPermission', () => {}), 'ResourceConflictException'), expect: [] },
  { name: 'the older dated form AddPermission20150331 is routed the same', input: () => derive('addPermission', (r) => (r.eventName = 'AddPermission20150331')), expect: [{ outcome: 'fail', subject: 'permission/backdoor' }] },
  { name: 'the undated form AddPermission is routed the same', input: () => derive('addPermission', (r) => (r.eventName = 'AddPermission')), expect: [{ outcome: 'fail' }] },
  { name: 'limited by sourceArn: nothing', input: () => permission((req, s) => { req.sourceArn = 'arn:aws:s3:::bucket'; s.Condition = { ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::bucket' } }; }), expect: [] },
  { name: 'limited by sourceAccount: nothing', input: () => permission((req) => (req.sourceAccount = '880896431042')), expect: [] },
  { name: 'limited by principalOrgID: nothing', input: () => permission((req) => (req.principalOrgID = 'o-abc')), expect: [] },
  { name: 'a condition only in the logged statement still limits it', input: () => permission((_req, s) => (s.Condition = { StringEquals: { 'AWS:SourceAccount': '880896431042' } })), expect: [] },
  { name: 'a service principal is not everyone: nothing', input: () => permission((req, s) => { req.principal = 's3.amazonaws.com'; s.Principal = { Service: 's3.amazonaws.com' }; }), expect: [] },
  { name: 'Principal "*" for a function URL with AWS_IAM auth: any AWS account (MEDIUM)', input: () => permission((req) => { req.action = 'lambda:InvokeFunctionUrl'; req.functionUrlAuthType = 'AWS_IAM'; }), expect: [{ outcome: 'fail', severity: 'MEDIUM' }] },
  { name: 'a qualified function name gives a qualified subject on the unqualified function', input: () => permission((req) => (req.functionName = `${FN}:prod`)), expect: [{ outcome: 'fail', subject: 'permission/backdoor@prod', resourceId: FN }] },
  { name: 'RemovePermission20150331v2 of that statement resolves', input: () => lambda('RemovePermission20150331v2', { functionName: 'stratus-red-team-backdoor-f-func', statementId: 'backdoor' }), expect: [{ ruleId: 'aws.lambda.public-permission', outcome: 'pass', subject: 'permission/backdoor', resourceId: FN }] },
];

const urlCases: DetectorCase[] = [
  { name: 'CreateFunctionUrlConfig20211031 with AuthType NONE is HIGH', input: () => lambda('CreateFunctionUrlConfig20211031', { functionName: 'stratus-red-team-backdoor-f-func', authType: 'NONE' }, { functionArn: FN, functionUrl: 'https://abc.lambda-url.ca-centralnorth-1r.on.aws/', authType: 'NONE' }), expect: [{ ruleId: 'aws.lambda.public-function-url', outcome: 'fail', subject: 'url', severity: 'HIGH', resourceId: FN }] },
  { name: 'CreateFunctionUrlConfig with AWS_IAM is benign', input: () => lambda('CreateFunctionUrlConfig20211031', { functionName: 'stratus-red-team-backdoor-f-func', authType: 'AWS_IAM' }), expect: [{ outcome: 'pass', subject: 'url' }] },
  { name: 'a failed CreateFunctionUrlConfig gives nothing', input: () => failed(lambda('CreateFunctionUrlConfig20211031', { functionName: 'stratus-red-team-backdoor-f-func', authType: 'NONE' })), expect: [] },
  { name: 'UpdateFunctionUrlConfig20211031 to AWS_IAM is the pass', input: () => lambda('UpdateFunctionUrlConfig20211031', { functionName: FN, authType: 'AWS_IAM' }), expect: [{ outcome: 'pass', subject: 'url', resourceId: FN }] },
  { name: 'UpdateFunctionUrlConfig to NONE on an alias', input: () => lambda('UpdateFunctionUrlConfig20211031', { functionName: 'stratus-red-team-backdoor-f-func', qualifier: 'live', authType: 'NONE' }), expect: [{ outcome: 'fail', subject: 'url@live' }] },
  { name: 'UpdateFunctionUrlConfig changing only CORS gives nothing', input: () => lambda('UpdateFunctionUrlConfig20211031', { functionName: FN, cors: { allowOrigins: ['*'] } }), expect: [] },
  { name: 'DeleteFunctionUrlConfig20211031 resolves', input: () => lambda('DeleteFunctionUrlConfig20211031', { functionName: FN }), expect: [{ outcome: 'pass', subject: 'url' }] },
  { name: 'the CreateFunction of the corpus is not a function-URL call', input: () => derive('addPermission', (r) => { r.eventName = 'CreateFunction20150331'; r.requestParameters = { functionName: 'x', authType: 'NONE' }; }), expect: [] },
];

describe('Lambda detectors', () => {
  describe('aws.lambda.public-permission', () => detectorTable(permissionCases));
  describe('aws.lambda.public-function-url', () => detectorTable(urlCases));
});
