import { expect } from 'chai';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AccountClients, OWN_ACCOUNT, SpokeCredentials, UnknownAccountError, accountOfFunctionArn } from '../../functions/aws/account-access';

const SPOKE = { accountId: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/shipscan-spoke', externalId: 'ext-222222222222' };
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

describe('AWS account access (own role, spoke roles, unknown accounts)', () => {
  let stsMock: AwsClientStub<STSClient>;
  let clock: number;
  let issued: number;

  beforeEach(() => {
    stsMock = mockClient(STSClient);
    clock = Date.parse('2026-03-01T12:00:00Z');
    issued = 0;
    // Each AssumeRole hands out new keys valid one hour from the (virtual) now.
    stsMock.on(AssumeRoleCommand).callsFake(() => {
      issued += 1;
      return { Credentials: { AccessKeyId: `ASIA${issued}`, SecretAccessKey: `secret-${issued}`, SessionToken: `token-${issued}`, Expiration: new Date(clock + HOUR_MS) } };
    });
  });
  afterEach(() => stsMock.restore());

  const credentials = () => new SpokeCredentials(new STSClient({ region: 'us-east-1' }), [SPOKE], 'shipscan-test', () => clock);

  it('assumed credentials are reused until 5 minutes before they expire, then AssumeRole runs again (with the ExternalId)', async () => {
    const spoke = credentials();
    expect((await spoke.forAccount(SPOKE.accountId))!.accessKeyId).to.equal('ASIA1');
    clock += 30 * MINUTE_MS;
    expect((await spoke.forAccount(SPOKE.accountId))!.accessKeyId).to.equal('ASIA1');
    // 5 min 1 s before expiry: still inside the margin's safe side.
    clock += 24 * MINUTE_MS + 59_000;
    expect((await spoke.forAccount(SPOKE.accountId))!.accessKeyId).to.equal('ASIA1');
    expect(stsMock.commandCalls(AssumeRoleCommand)).to.have.length(1);
    // Exactly 5 min before expiry: refreshed.
    clock += 1_000;
    expect((await spoke.forAccount(SPOKE.accountId))!.accessKeyId).to.equal('ASIA2');
    expect((await spoke.forAccount(SPOKE.accountId))!.accessKeyId).to.equal('ASIA2');
    const calls = stsMock.commandCalls(AssumeRoleCommand);
    expect(calls).to.have.length(2);
    for (const call of calls) expect(call.args[0].input).to.include({ RoleArn: SPOKE.roleArn, ExternalId: SPOKE.externalId, RoleSessionName: 'shipscan-test' });
  });

  it("a spoke's Lambda client asks the provider per request, so it picks up refreshed credentials", async () => {
    const clients = new AccountClients(credentials());
    const provider = clients.for(SPOKE.accountId, 'eu-west-1').lambda.config.credentials;
    expect((await provider()).accessKeyId).to.equal('ASIA1');
    clock += 56 * MINUTE_MS;
    expect((await provider()).accessKeyId).to.equal('ASIA2');
  });

  it("the own account (from the invokedFunctionArn), spokes and every other account are told apart; others are refused naming aws.spokes", async () => {
    const access = credentials();
    // Before the own account is known, only spokes and the OWN_ACCOUNT label are accessible.
    expect(access.accessOf('111111111111')).to.equal('unknown');
    access.setOwnAccount(accountOfFunctionArn('arn:aws:lambda:us-east-1:111111111111:function:shipscan-scanner'));
    expect(access.ownAccount).to.equal('111111111111');
    expect(access.accessOf('111111111111')).to.equal('own');
    expect(access.accessOf(OWN_ACCOUNT)).to.equal('own');
    expect(access.accessOf(SPOKE.accountId)).to.equal('spoke');
    expect(access.accessOf('999999999999')).to.equal('unknown');
    expect(await access.forAccount('111111111111')).to.equal(undefined);

    const refused = await access.forAccount('999999999999').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(UnknownAccountError);
    const message = (refused as Error).message;
    for (const part of ['999999999999', '111111111111', SPOKE.accountId, 'aws.spokes']) expect(message).to.include(part);
    expect(() => new AccountClients(access).for('999999999999', 'us-east-1')).to.throw(UnknownAccountError, /999999999999/);
    expect(stsMock.commandCalls(AssumeRoleCommand)).to.have.length(0);
  });

  it('accountOfFunctionArn: qualified ARNs and other partitions; anything else is no account (and does not replace a known one)', () => {
    expect(accountOfFunctionArn('arn:aws:lambda:eu-west-1:123456789012:function:scanner:live')).to.equal('123456789012');
    expect(accountOfFunctionArn('arn:aws-cn:lambda:cn-north-1:123456789012:function:scanner')).to.equal('123456789012');
    expect(accountOfFunctionArn('arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:scanner')).to.equal('123456789012');
    for (const bad of [undefined, '', 'shipscan-scanner', 'arn:aws:lambda:us-east-1:12345:function:x', 'arn:aws:sqs:us-east-1:123456789012:q']) {
      expect(accountOfFunctionArn(bad), String(bad)).to.equal(undefined);
    }
    const access = credentials();
    access.setOwnAccount('123456789012');
    access.setOwnAccount(accountOfFunctionArn('not-an-arn'));
    expect(access.ownAccount).to.equal('123456789012');
  });
});
