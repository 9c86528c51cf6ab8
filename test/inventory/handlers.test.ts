import { expect } from 'chai';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
// The handlers read their environment at first use (below, once ENV is set), not at import.
import * as handlers from '../../functions/aws/inventory/from-env';

/**
 * The inventory Lambdas' entry points (functions/aws/inventory/from-env.ts) over mocked AWS clients: the
 * collector reports a shard failed only on its last delivery (then the run can never complete and deletes
 * nothing), hands every failure back to SQS, and drops a malformed message; the planner enqueues its shards in
 * batches of 10.
 */

const ENV = {
  RESOURCES_TABLE: 'resources',
  FINDINGS_TABLE: 'findings',
  RESULTS_BUCKET: 'results-bucket',
  REGIONS: '["us-east-1","eu-west-1"]',
  SERVICES: '["s3","ec2"]',
  SHARD_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/shards',
  MAX_RECEIVES: '3',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'test-secret',
};
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:shipscan-prod-inventory-collector';
const RUN = { pk: 'run', sk: 'run-1', kind: 'inventory', status: 'incomplete', scope: '{"service":"all"}', trigger: 'schedule', startedAt: '2026-01-01T00:00:00Z', expected: 4, reported: 1, failed: 1 };

function record(body: string, receives: number, messageId = `m-${receives}`): SQSRecord {
  return { messageId, receiptHandle: 'r', body, attributes: { ApproximateReceiveCount: String(receives), SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:shards', awsRegion: 'us-east-1' };
}

const shard = JSON.stringify({ v: 1, runId: 'run-1', account: '123456789012', region: 'us-east-1', homeRegion: 'us-east-1', service: 's3', shard: 'global' });

describe('inventory Lambda entry points (mocked clients)', function () {
  this.timeout(30_000);
  const saved: Record<string, string | undefined> = {};
  // Made when the tests start (not at load), so the other files' mocks of the same classes are restored by then.
  let doc: AwsClientStub<DynamoDBDocumentClient>;
  let s3: AwsClientStub<S3Client>;
  let sqs: AwsClientStub<SQSClient>;
  // The handlers log JSON lines (CloudWatch); here they are kept and read instead of printed.
  const logged: string[] = [];
  const original = { log: console.log, error: console.error };

  before(() => {
    doc = mockClient(DynamoDBDocumentClient);
    s3 = mockClient(S3Client);
    sqs = mockClient(SQSClient);
    for (const [key, value] of Object.entries(ENV)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
  });
  after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    for (const m of [doc, s3, sqs]) m.restore();
  });
  afterEach(() => {
    console.log = original.log;
    console.error = original.error;
  });
  beforeEach(() => {
    logged.length = 0;
    console.log = (line: unknown) => void logged.push(String(line));
    console.error = (line: unknown) => void logged.push(String(line));
    for (const m of [doc, s3, sqs]) m.reset();
    s3.on(ListBucketsCommand).rejects(Object.assign(new Error('Please reduce your request rate.'), { name: 'ServiceUnavailable', $fault: 'server', $metadata: {} }));
    doc.on(UpdateCommand).resolves({ Attributes: RUN });
  });

  it('an early delivery that fails is handed back without touching the run', async () => {
    const answer = await handlers.collector({ Records: [record(shard, 1)] } as SQSEvent, { invokedFunctionArn: FUNCTION_ARN });
    expect(answer.batchItemFailures).to.deep.equal([{ itemIdentifier: 'm-1' }]);
    expect(doc.commandCalls(UpdateCommand)).to.have.length(0);
  });

  it('the last delivery that fails reports the shard failed (the run becomes incomplete) and is handed back for the DLQ', async () => {
    const answer = await handlers.collector({ Records: [record(shard, 3)] } as SQSEvent, { invokedFunctionArn: FUNCTION_ARN });
    expect(answer.batchItemFailures).to.deep.equal([{ itemIdentifier: 'm-3' }]);
    const updates = doc.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates).to.have.length(1);
    expect(updates[0]!.Key).to.deep.equal({ pk: 'run', sk: 'run-1' });
    expect(updates[0]!.ExpressionAttributeValues?.[':incomplete']).to.equal('incomplete');
    expect(String(updates[0]!.ExpressionAttributeValues?.[':reason'])).to.match(/^shard 123456789012\/global\/s3 failed: ServiceUnavailable/);
  });

  it('a malformed message is dropped: not handed back, nothing read or written', async () => {
    const answer = await handlers.collector({ Records: [record('{"v":2}', 1), record('not json', 1, 'm-x')] } as SQSEvent, { invokedFunctionArn: FUNCTION_ARN });
    expect(answer.batchItemFailures).to.deep.equal([]);
    expect(s3.commandCalls(ListBucketsCommand)).to.have.length(0);
    expect(doc.commandCalls(UpdateCommand)).to.have.length(0);
    expect(logged.filter((line) => line.includes('malformed shard message dropped'))).to.have.length(2);
  });

  it('the planner records the run and enqueues one message per account x region x service in batches of 10', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const planned = await handlers.planner({ service: 'all' }, { invokedFunctionArn: FUNCTION_ARN });
    // One account (no spokes): s3 once, ec2 in each of the two regions.
    expect(planned.shards).to.equal(3);
    const batches = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(batches.flat().map((e) => (JSON.parse(e.MessageBody!) as { service: string; shard: string }).shard).sort()).to.deep.equal(['eu-west-1', 'global', 'us-east-1']);
  });
});
