import { expect } from 'chai';
import {
  GetFunctionCommand,
  LambdaClient,
  ListTagsCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  paginateListFunctions,
} from '@aws-sdk/client-lambda';
import { startLambdaApiStub, type LambdaApiStub } from '../../local/lambda-api-stub';

describe('Lambda API stub (real AWS SDK client over loopback)', () => {
  let stub: LambdaApiStub;
  let client: LambdaClient;

  before(async () => {
    stub = await startLambdaApiStub();
    client = new LambdaClient({
      endpoint: stub.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });
  after(async () => {
    client.destroy();
    await stub.stop();
  });

  it('answers GetFunction by name, partial ARN and qualified ARN, with the zip code hash', async () => {
    const arn = stub.putFunction({ name: 'orders-api', codeSha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=' });
    for (const name of ['orders-api', '123456789012:function:orders-api', `${arn}:7`]) {
      const out = await client.send(new GetFunctionCommand({ FunctionName: name }));
      expect(out.Configuration?.FunctionArn).to.equal(arn);
      expect(out.Configuration?.CodeSha256).to.equal('n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=');
      expect(out.Code?.RepositoryType).to.equal('S3');
    }
  });

  it('reports Pending before Active when asked to', async () => {
    stub.putFunction({ name: 'slow-start', pendingReads: 1 });
    const first = await client.send(new GetFunctionCommand({ FunctionName: 'slow-start' }));
    const second = await client.send(new GetFunctionCommand({ FunctionName: 'slow-start' }));
    expect([first.Configuration?.State, second.Configuration?.State]).to.deep.equal(['Pending', 'Active']);
    expect(second.Configuration?.LastUpdateStatus).to.equal('Successful');
  });

  it('returns image URIs for container functions', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    stub.putFunction({
      name: 'image-fn',
      packageType: 'Image',
      imageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0',
      resolvedImageUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${digest}`,
    });
    const out = await client.send(new GetFunctionCommand({ FunctionName: 'image-fn' }));
    expect(out.Configuration?.PackageType).to.equal('Image');
    expect(out.Code?.ResolvedImageUri).to.match(new RegExp(`@${digest}$`));
  });

  it('raises the typed ResourceNotFoundException for unknown functions', async () => {
    const error = await client.send(new GetFunctionCommand({ FunctionName: 'nope' })).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ResourceNotFoundException);
  });

  it('paginates ListFunctions and stores tags from TagResource', async () => {
    for (let i = 0; i < 120; i += 1) stub.putFunction({ name: `bulk-${String(i).padStart(3, '0')}`, region: 'eu-west-1' });
    const eu = new LambdaClient({
      endpoint: stub.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    });
    const names: string[] = [];
    for await (const page of paginateListFunctions({ client: eu }, {})) names.push(...(page.Functions ?? []).map((f) => f.FunctionName ?? ''));
    eu.destroy();
    expect(names).to.have.length(120);
    expect(new Set(names).size).to.equal(120);

    const arn = stub.putFunction({ name: 'tag-me' });
    await client.send(new TagResourceCommand({ Resource: arn, Tags: { ShipscanStatus: 'COMPLETED' } }));
    const tags = await client.send(new ListTagsCommand({ Resource: arn }));
    expect(tags.Tags).to.deep.equal({ ShipscanStatus: 'COMPLETED' });
  });
});
