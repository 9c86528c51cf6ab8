import { expect } from 'chai';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { LambdaClient, ListFunctionsCommand, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Logger } from '@aws-lambda-powertools/logger';
import { ECRClient } from '@aws-sdk/client-ecr';
import { AccountClients, SpokeCredentials, type ClientDecorator } from '../../functions/aws/account-access';
import { BulkInputError, parseBulkInput, runBulkScan, type BulkDeps, type BulkSettings } from '../../functions/aws/bulk/bulk-scan';
import { createBulkHandler } from '../../functions/aws/bulk/from-env';
import { lambdaContext, lambdaContextIn } from './support/lambda-context';

/**
 * ListFunctions pages over `names` with the real API's Marker, per client instance (class-level mocks
 * cannot tell concurrent clients of different regions apart).
 */
const instanceMocks: { restore(): void }[] = [];
let listCalls = 0;
function serveFunctions(byRegion: Record<string, string[]>, account = '111111111111'): ClientDecorator {
  return <T extends LambdaClient | ECRClient>(client: T): T => {
    if (client instanceof LambdaClient) {
      const mock = mockClient(client);
      instanceMocks.push(mock);
      mock.on(ListFunctionsCommand).callsFake(async (input: { Marker?: string; MaxItems?: number }) => {
        listCalls += 1;
        const region = await client.config.region();
        const names = byRegion[region] ?? [];
        const start = input.Marker ? Number(input.Marker) : 0;
        const size = input.MaxItems ?? 50;
        const page: FunctionConfiguration[] = names.slice(start, start + size).map((name) => ({ FunctionName: name, FunctionArn: `arn:aws:lambda:${region}:${account}:function:${name}` }));
        return { Functions: page, ...(start + size < names.length ? { NextMarker: String(start + size) } : {}) };
      });
    }
    return client;
  };
}

const OWN = '111111111111';

/**
 * AccountClients whose Lambda clients list `byAccount[account]` with that account in the ARNs (the
 * decorator runs inside `for`, so the account being served is known there).
 */
function perAccountClients(credentials: SpokeCredentials, byAccount: Record<string, Record<string, string[]>>): AccountClients {
  let serving = '';
  const decorate: ClientDecorator = (client) => {
    const account = serving === 'self' ? OWN : serving;
    return serveFunctions(byAccount[account] ?? {}, account)(client);
  };
  return new (class extends AccountClients {
    override for(account: string, region: string) {
      serving = account;
      return super.for(account, region);
    }
  })(credentials, decorate);
}

function settings(overrides: Partial<BulkSettings> = {}): BulkSettings {
  return {
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/scan',
    excludePatterns: [/^test-/],
    selfFunctionNames: new Set(['shipscan-scanner']),
    regions: ['eu-west-1'],
    batchSize: 100,
    maxWorkers: 10,
    invocationDelayMs: 0,
    ...overrides,
  };
}

describe('AWS bulk scanner', () => {
  // Created in `before`: a class-level mock made at load time would be undone by other files' restore().
  let taggingMock: AwsClientStub<ResourceGroupsTaggingAPIClient>;
  let sqsMock: AwsClientStub<SQSClient>;
  let stsMock: AwsClientStub<STSClient>;
  const logger = new Logger({ serviceName: 'shipscan-bulk', logLevel: 'SILENT' });
  const sent: SendMessageBatchRequestEntry[][] = [];

  before(() => {
    taggingMock = mockClient(ResourceGroupsTaggingAPIClient);
    sqsMock = mockClient(SQSClient);
    stsMock = mockClient(STSClient);
  });

  beforeEach(() => {
    listCalls = 0;
    taggingMock.reset();
    sqsMock.reset();
    stsMock.reset();
    sent.length = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      sent.push(input.Entries);
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })), Failed: [] };
    });
    taggingMock.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
    stsMock.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) },
    });
  });
  after(() => {
    taggingMock.restore();
    sqsMock.restore();
    stsMock.restore();
  });

  afterEach(() => {
    for (const mock of instanceMocks.splice(0)) mock.restore();
  });

  function deps(
    functions: Record<string, string[]>,
    overrides: Partial<BulkSettings> = {},
    spokes: { accountId: string; roleArn: string; externalId: string }[] = [],
  ): BulkDeps {
    return {
      settings: settings(overrides),
      accounts: new AccountClients(new SpokeCredentials(new STSClient({ region: 'eu-west-1' }), spokes), serveFunctions(functions)),
      tagging: (_account, region) => new ResourceGroupsTaggingAPIClient({ region }),
      sqs: new SQSClient({ region: 'eu-west-1' }),
      logger,
      sleep: async () => {},
    };
  }

  it('lists with pagination, excludes by pattern, own name and tag, enqueues bulk targets 10 per call', async () => {
    const names = Array.from({ length: 237 }, (_, i) => `fn-${i}`).concat(['test-a', 'test-b', 'shipscan-scanner']);
    const functions = { 'eu-west-1': names };
    taggingMock.on(GetResourcesCommand).resolvesOnce({
      ResourceTagMappingList: [{ ResourceARN: 'arn:aws:lambda:eu-west-1:111111111111:function:fn-7' }],
      PaginationToken: 'p2',
    }).resolves({ ResourceTagMappingList: [{ ResourceARN: 'arn:aws:lambda:eu-west-1:111111111111:function:fn-8' }] });
    const summary = await runBulkScan({ dryRun: false }, deps(functions));
    expect(summary).to.deep.include({ listed: 240, excluded: 5, enqueued: 235, failed: 0, errors: [] });
    expect(listCalls).to.equal(5);
    expect(sent.every((entries) => entries.length <= 10)).to.equal(true);
    const bodies = sent.flat().map((e) => JSON.parse(e.MessageBody!));
    expect(bodies).to.have.length(235);
    expect(bodies[0]).to.deep.equal({ functionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:fn-0', reason: 'bulk' });
    const arns = new Set(bodies.map((b) => b.functionArn));
    expect(arns.has('arn:aws:lambda:eu-west-1:111111111111:function:fn-7')).to.equal(false);
    expect(arns.has('arn:aws:lambda:eu-west-1:111111111111:function:test-a')).to.equal(false);
    expect(taggingMock.commandCalls(GetResourcesCommand)[0]!.args[0].input).to.deep.include({ ResourceTypeFilters: ['lambda:function'] });
  });

  it('dry run lists and reports targets without sending', async () => {
    const functions = { 'eu-west-1': ['a', 'b'], 'us-east-1': ['c'] };
    const summary = await runBulkScan(parseBulkInput({ regions: ['eu-west-1', 'us-east-1'], dryRun: true }), deps(functions));
    expect(summary).to.deep.include({ dryRun: true, listed: 3, enqueued: 0 });
    expect(summary.targets).to.have.members([
      'arn:aws:lambda:eu-west-1:111111111111:function:a',
      'arn:aws:lambda:eu-west-1:111111111111:function:b',
      'arn:aws:lambda:us-east-1:111111111111:function:c',
    ]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(0);
  });

  it('retries entries SQS failed on its side; sender faults and exhausted retries count as failed', async () => {
    const functions = { 'eu-west-1': Array.from({ length: 10 }, (_, i) => `f${i}`) };
    let call = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      call += 1;
      sent.push(input.Entries);
      if (call === 1) {
        return {
          Successful: input.Entries.slice(0, 7).map((e) => ({ Id: e.Id, MessageId: 'x', MD5OfMessageBody: '' })),
          Failed: [
            { Id: input.Entries[7]!.Id, SenderFault: false, Code: 'InternalError' },
            { Id: input.Entries[8]!.Id, SenderFault: false, Code: 'InternalError' },
            { Id: input.Entries[9]!.Id, SenderFault: true, Code: 'InvalidMessageContents' },
          ],
        };
      }
      if (call === 2) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'y', MD5OfMessageBody: '' })), Failed: [] };
    });
    const summary = await runBulkScan({ dryRun: false }, deps(functions, { excludePatterns: [] }));
    expect(summary).to.deep.include({ enqueued: 9, failed: 1 });
    expect(sent.map((entries) => entries.length)).to.deep.equal([10, 2, 2]);
  });

  it('hub mode: every spoke listed with its assumed role and ExternalId; a failing region is reported, not fatal', async () => {
    const functions = { 'eu-west-1': ['a'] };
    const spokes = [
      { accountId: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/shipscan-spoke', externalId: 'ext-2' },
      { accountId: '333333333333', roleArn: 'arn:aws:iam::333333333333:role/shipscan-spoke', externalId: 'ext-3' },
    ];
    stsMock.on(AssumeRoleCommand, { RoleArn: spokes[1]!.roleArn }).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    const summary = await runBulkScan({ dryRun: false }, deps(functions, {}, spokes));
    expect(summary.accounts).to.deep.equal(['self', '222222222222', '333333333333']);
    const assumed = stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
    expect(assumed.map((i) => [i.RoleArn, i.ExternalId])).to.deep.include.members([
      [spokes[0]!.roleArn, 'ext-2'],
      [spokes[1]!.roleArn, 'ext-3'],
    ]);
    expect(summary.errors).to.have.length(1);
    expect(summary.errors[0]).to.deep.include({ account: '333333333333', region: 'eu-west-1' });
    expect(summary.listed).to.equal(2);
  });

  it('handler: scheduled events use the configured scope; bad manual input is a clear error', async () => {
    const functions = { 'eu-west-1': ['a'] };
    const handler = createBulkHandler({ ...deps(functions) });
    const summary = await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, lambdaContext(900_000));
    expect(summary).to.deep.include({ enqueued: 1, dryRun: false });
    expect(() => parseBulkInput({ accounts: ['12'], dryRun: 'yes' })).to.throw(BulkInputError, /accounts\.0: a 12-digit account id; dryRun/);
  });

  it('stops enqueueing before the Lambda timeout and reports what was left', async () => {
    const functions = { 'eu-west-1': Array.from({ length: 300 }, (_, i) => `f${i}`) };
    let remaining = 60_000;
    const summary = await runBulkScan({ dryRun: false }, { ...deps(functions, { excludePatterns: [] }), remainingMs: () => (remaining -= 25_000) });
    expect(summary.enqueued).to.equal(100);
    expect(summary.failed).to.equal(200);
    expect(summary.errors[0]!.message).to.match(/200 targets not enqueued/);
  });

  it('a manual run naming an account that is neither the own one nor a spoke: refused in the summary, nothing listed, assumed or sent', async () => {
    const functions = { 'eu-west-1': ['a', 'b'] };
    const handler = createBulkHandler({ ...deps(functions) });
    const summary = await handler({ accounts: ['999999999999'] }, lambdaContextIn(OWN, 900_000, 'shipscan-bulk', 'eu-west-1'));
    expect(summary).to.deep.include({ accounts: [], listed: 0, excluded: 0, enqueued: 0, failed: 0 });
    expect(summary.errors).to.have.length(1);
    expect(summary.errors[0]).to.include({ account: '999999999999', region: '*' });
    for (const part of ['999999999999', OWN, 'aws.spokes']) expect(summary.errors[0]!.message).to.include(part);
    expect(listCalls).to.equal(0);
    expect(sent).to.deep.equal([]);
    expect(stsMock.commandCalls(AssumeRoleCommand)).to.have.length(0);
  });

  it("named accounts: the own id (from the invokedFunctionArn) and spokes are listed, others refused; the stack's names are excluded in the own account only", async () => {
    const spokes = [{ accountId: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/shipscan-spoke', externalId: 'ext-2' }];
    const byAccount = { [OWN]: { 'eu-west-1': ['shipscan-scanner', 'orders'] }, '222222222222': { 'eu-west-1': ['shipscan-scanner', 'billing'] } };
    const credentials = new SpokeCredentials(new STSClient({ region: 'eu-west-1' }), spokes);
    const handler = createBulkHandler({ ...deps({}), accounts: perAccountClients(credentials, byAccount) });
    const summary = await handler({ accounts: [OWN, '222222222222', '999999999999'], dryRun: true }, lambdaContextIn(OWN, 900_000, 'shipscan-bulk', 'eu-west-1'));
    expect(summary.accounts).to.deep.equal([OWN, '222222222222']);
    expect(summary).to.deep.include({ listed: 4, excluded: 1 });
    expect(summary.targets).to.have.members([
      `arn:aws:lambda:eu-west-1:${OWN}:function:orders`,
      'arn:aws:lambda:eu-west-1:222222222222:function:shipscan-scanner',
      'arn:aws:lambda:eu-west-1:222222222222:function:billing',
    ]);
    expect(summary.errors.map((e) => e.account)).to.deep.equal(['999999999999']);
    expect(stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).to.deep.equal([spokes[0]!.roleArn]);
  });
});
