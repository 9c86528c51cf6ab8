import { expect } from 'chai';
import * as path from 'node:path';
import { runPlan, runPlanDetailed, PlanError, SECRET_MASK, summaryTable, type PlanResult } from '../../local/plan';
import { toProgramConfig, PlanConfigError } from '../../local/plan/config';

const program = path.join(__dirname, 'support', 'fixture-program.ts');
const TOKEN = 'fixture-token-6f1c2a';

describe('offline plan tool (local/plan.ts)', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  let plan: PlanResult;
  let again: PlanResult;
  let failures: Record<'leak' | 'throw' | 'unmocked' | 'pending' | 'hang', unknown>;
  const config = { 'aws:region': 'eu-west-1', 'shipscan:fixture': { token: { secret: TOKEN } } };
  const failure = (fault: string, timeoutMs?: number) =>
    runPlan({ program, ...(timeoutMs ? { timeoutMs } : {}), config: { 'shipscan:fixture': { fault, token: { secret: TOKEN } } } }).then(
      () => new Error(`the ${fault} plan succeeded`),
      (error: unknown) => error,
    );

  before(async function () {
    // Independent child processes, started together.
    const [first, second, leak, thrown, unmocked, pending, hang] = await Promise.all([
      runPlanDetailed({ program, stack: 'fixture', config }),
      runPlanDetailed({ program, stack: 'fixture', config }),
      failure('leak'),
      failure('throw'),
      failure('unmocked-call'),
      failure('pending'),
      failure('hang', 6000),
    ]);
    plan = first;
    again = second;
    failures = { leak, throw: thrown, unmocked, pending, hang };
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

  it('is deterministic, so plans can be diffed', function () {
    expect(again).to.deep.equal(plan);
  });

  it('reports a secret that reaches a plain output, naming the place but not the value', function () {
    expect(failures.leak).to.be.instanceOf(PlanError);
    expect((failures.leak as Error).message).to.include('secret config shipscan:fixture.token appears unmasked in stack outputs/tokenOut');
    expect((failures.leak as Error).message).not.to.include(TOKEN);
  });

  it('passes the program error through', function () {
    expect(failures.throw).to.be.instanceOf(PlanError);
    expect((failures.throw as Error).message).to.include('fixture refuses to run');
  });

  it('names a provider call that has no mock', function () {
    expect(failures.unmocked).to.be.instanceOf(PlanError);
    expect((failures.unmocked as Error).message).to.include('no plan mock for provider call(s) aws:ec2/getVpc:getVpc');
  });

  it('reports Outputs that can never resolve', function () {
    expect(failures.pending).to.be.instanceOf(PlanError);
    expect((failures.pending as Error).message).to.include('the program stopped with Outputs still pending');
  });

  it('gives up on a program that never finishes', function () {
    expect(failures.hang).to.be.instanceOf(PlanError);
    expect((failures.hang as Error).message).to.match(/did not finish within 6000 ms/);
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
