import { expect } from 'chai';
import * as path from 'node:path';
import { runPlan, runPlanDetailed, PlanError, SECRET_MASK, summaryTable, type PlanResult } from '../../local/plan';
import { toProgramConfig, PlanConfigError } from '../../local/plan/config';

const program = path.join(__dirname, 'support', 'fixture-program.ts');
const TOKEN = 'fixture-token-6f1c2a';

describe('offline plan tool (local/plan.ts)', function () {
  let plan: PlanResult;

  before(async function () {
    plan = await runPlanDetailed({ program, stack: 'fixture', config: { 'aws:region': 'eu-west-1', 'shipscan:fixture': { token: { secret: TOKEN } } } });
  });

  it('lists every resource with type, name, urn and parent', function () {
    const types = plan.resources.map((r) => r.type).sort();
    expect(types).to.deep.equal([
      'aws:secretsmanager/secret:Secret',
      'aws:secretsmanager/secretVersion:SecretVersion',
      'aws:sqs/queue:Queue',
      'aws:ssm/parameter:Parameter',
      'shipscan:test:Box',
    ]);
    const box = plan.resources.find((r) => r.type === 'shipscan:test:Box');
    const queue = plan.resources.find((r) => r.type === 'aws:sqs/queue:Queue');
    expect(box?.custom).to.equal(false);
    expect(box?.parent).to.equal(undefined);
    expect(queue?.parent).to.equal(box?.urn);
    expect(queue?.urn).to.equal('urn:pulumi:fixture::shipscan::shipscan:test:Box$aws:sqs/queue:Queue::box-queue');
    expect(queue?.inputs).to.deep.include({ messageRetentionSeconds: 600 });
  });

  it('masks secret inputs and outputs and never carries the plaintext', function () {
    const version = plan.resources.find((r) => r.type === 'aws:secretsmanager/secretVersion:SecretVersion');
    expect(version?.inputs['secretString']).to.equal(SECRET_MASK);
    expect(plan.outputs['tokenOut']).to.equal(SECRET_MASK);
    expect(JSON.stringify(plan)).not.to.include(TOKEN);
  });

  it('returns provider-like outputs: ARNs in the configured region, queue URLs, ids that feed other inputs', function () {
    expect(plan.outputs['queueUrl']).to.match(/^https:\/\/sqs\.eu-west-1\.amazonaws\.com\/123456789012\/box-queue-[0-9a-f]{7}$/);
    expect(plan.outputs['secretArn']).to.match(/^arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-/);
    const version = plan.resources.find((r) => r.type === 'aws:secretsmanager/secretVersion:SecretVersion');
    expect(version?.inputs['secretId']).to.equal(plan.outputs['secretArn']);
  });

  it('is deterministic, so plans can be diffed', async function () {
    const again = await runPlanDetailed({ program, stack: 'fixture', config: { 'aws:region': 'eu-west-1', 'shipscan:fixture': { token: { secret: TOKEN } } } });
    expect(again).to.deep.equal(plan);
  });

  it('reports a secret that reaches a plain output, naming the place but not the value', async function () {
    const error = await runPlan({ program, config: { 'shipscan:fixture': { fault: 'leak', token: { secret: TOKEN } } } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(PlanError);
    expect((error as Error).message).to.include('secret config shipscan:fixture.token appears unmasked in stack outputs/tokenOut');
    expect((error as Error).message).not.to.include(TOKEN);
  });

  it('passes the program error through', async function () {
    const error = await runPlan({ program, config: { 'shipscan:fixture': { fault: 'throw', token: 'x' } } }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(PlanError);
    expect((error as Error).message).to.include('fixture refuses to run');
  });

  it('names a provider call that has no mock', async function () {
    const error = await runPlan({ program, config: { 'shipscan:fixture': { fault: 'unmocked-call', token: 'x' } } }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(PlanError);
    expect((error as Error).message).to.include('no plan mock for provider call(s) aws:ec2/getVpc:getVpc');
  });

  it('reports Outputs that can never resolve', async function () {
    const error = await runPlan({ program, config: { 'shipscan:fixture': { fault: 'pending', token: 'x' } } }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(PlanError);
    expect((error as Error).message).to.include('the program stopped with Outputs still pending');
  });

  it('gives up on a program that never finishes', async function () {
    const error = await runPlan({ program, timeoutMs: 4000, config: { 'shipscan:fixture': { fault: 'hang', token: 'x' } } }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(PlanError);
    expect((error as Error).message).to.match(/did not finish within 4000 ms/);
  });

  it('summarises counts by type', function () {
    const table = summaryTable(plan.resources);
    expect(table).to.match(/aws:sqs\/queue:Queue\s+1/);
    expect(table).to.match(/total\s+5$/);
  });
});

describe('plan config conversion (local/plan/config.ts)', function () {
  it('passes objects as JSON text and marks keys holding secrets', function () {
    const converted = toProgramConfig({
      'aws:region': 'us-east-1',
      'shipscan:aws': { enabled: true, cacheTtlDays: 30 },
      'shipscan:qualys': { pod: 'US2', accessToken: { secure: 'v1:AAAA' } },
    });
    expect(converted.config['aws:region']).to.equal('us-east-1');
    expect(JSON.parse(converted.config['shipscan:aws'] ?? '')).to.deep.equal({ enabled: true, cacheTtlDays: 30 });
    const qualys = JSON.parse(converted.config['shipscan:qualys'] ?? '') as { accessToken: string };
    expect(qualys.accessToken).to.match(/^plan-secret-[0-9a-f]{8}$/);
    expect(converted.secretKeys).to.deep.equal(['shipscan:qualys']);
    expect(converted.secretValues).to.deep.equal([{ path: 'shipscan:qualys.accessToken', value: qualys.accessToken }]);
  });

  it('keeps URL-shaped placeholders for URL keys and plaintext for {secret}', function () {
    const converted = toProgramConfig({ 'shipscan:azure': { alertWebhookUrl: { secure: 'v1:x' }, other: { secret: 'p' } } });
    const azure = JSON.parse(converted.config['shipscan:azure'] ?? '') as Record<string, string>;
    expect(azure['alertWebhookUrl']).to.match(/^https:\/\/plan-secret-[0-9a-f]{8}\.invalid\/$/);
    expect(azure['other']).to.equal('p');
  });

  it('rejects keys without a namespace', function () {
    expect(() => toProgramConfig({ region: 'x' })).to.throw(PlanConfigError, 'config key "region" is not of the form <namespace>:<name>');
  });
});
