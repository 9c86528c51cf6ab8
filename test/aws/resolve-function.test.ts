import { expect } from 'chai';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { GetFunctionCommand, LambdaClient, type LastUpdateStatus, type State } from '@aws-sdk/client-lambda';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { loadCorpus } from '../support/corpus';
import { readiness, resolveFunction, ResolveError } from '../../functions/aws/resolve-function';
import { parseFunctionArn } from '../../functions/aws/function-arn';
import { contentOf } from '../../functions/aws/scanner/pipeline';

type Json = Record<string, any>; // corpus API responses are free-form JSON

describe('AWS function resolution (GetFunction, ECR)', () => {
  let lambdaMock: AwsClientStub<LambdaClient>;
  let ecrMock: AwsClientStub<ECRClient>;
  const lambda = () => new LambdaClient({ region: 'us-west-2' });
  const ecr = () => new ECRClient({ region: 'us-west-2' });

  beforeEach(() => {
    lambdaMock = mockClient(LambdaClient);
    ecrMock = mockClient(ECRClient);
  });
  afterEach(() => {
    lambdaMock.restore();
    ecrMock.restore();
  });

  it('zip (awscli sample without State fields): resolved to its codeSha256', async () => {
    const sample = loadCorpus<Json>('aws/api-lambda-GetFunction-zip.awscli-example.json');
    lambdaMock.on(GetFunctionCommand).resolves(sample);
    const fn = parseFunctionArn(sample.Configuration.FunctionArn);
    const outcome = await resolveFunction(fn, { lambda: lambda(), ecr: ecr(), maxWaitMs: 0 });
    expect(outcome).to.deep.include({ kind: 'resolved' });
    if (outcome.kind !== 'resolved') return;
    expect(outcome.function.content).to.deep.equal({ packageType: 'Zip', codeSha256: '5tT2qgzYUHoqwR616pZ2dpkn/0J1FrzJmlKidWaaCgk=' });
    expect(outcome.function.runtime).to.equal('nodejs22.x');
  });

  it('zip with layers (variant of the awscli sample): versioned layer ARNs carried; the content key hashes them order-independently', async () => {
    const sample = loadCorpus<Json>('aws/api-lambda-GetFunction-zip.awscli-example.json');
    const fnArn = sample.Configuration.FunctionArn as string;
    const layerBase = fnArn.replace(/:function:.*$/, ':layer:');
    const layerArns = [`${layerBase}deps:3`, `${layerBase}ext:1`];
    lambdaMock.on(GetFunctionCommand).resolves({ ...sample, Configuration: { ...sample.Configuration, Layers: layerArns.map((Arn) => ({ Arn, CodeSize: 10 })) } });
    const fn = parseFunctionArn(fnArn);
    const outcome = await resolveFunction(fn, { lambda: lambda(), ecr: ecr(), maxWaitMs: 0 });
    if (outcome.kind !== 'resolved') throw new Error(`expected resolved, got ${outcome.kind}`);
    expect(outcome.function.content).to.deep.equal({ packageType: 'Zip', codeSha256: sample.Configuration.CodeSha256, layerArns });

    const sha = sample.Configuration.CodeSha256 as string;
    const keyOf = (layers?: string[]) => contentOf({ fn, tags: {}, content: { packageType: 'Zip', codeSha256: sha, ...(layers ? { layerArns: layers } : {}) } }).contentKey;
    expect(keyOf()).to.equal(`zip#${sha}`);
    expect(keyOf([])).to.equal(`zip#${sha}`);
    expect(keyOf(layerArns)).to.match(/#layers=[0-9a-f]{12}$/);
    expect(keyOf([...layerArns].reverse())).to.equal(keyOf(layerArns));
    expect(keyOf([`${layerBase}deps:4`, `${layerBase}ext:1`])).not.to.equal(keyOf(layerArns));
  });

  it('image known only by tag (variant of the corpus image GetFunction): digest from ECR DescribeImages (corpus)', async () => {
    const sample = loadCorpus<Json>('aws/api-lambda-GetFunction-image.c7n-placebo.json').data;
    const variant = {
      ...sample,
      Configuration: { ...sample.Configuration, LastUpdateStatus: 'Successful' },
      Code: { RepositoryType: 'ECR', ImageUri: '012345678910.dkr.ecr.us-west-2.amazonaws.com/cluster-autoscaler:v1.13.6' },
    };
    lambdaMock.on(GetFunctionCommand).resolves(variant);
    ecrMock.on(DescribeImagesCommand).resolves(loadCorpus('aws/api-ecr-DescribeImages.awscli-example.json'));
    const outcome = await resolveFunction(parseFunctionArn(sample.Configuration.FunctionArn), { lambda: lambda(), ecr: ecr(), maxWaitMs: 0 });
    if (outcome.kind !== 'resolved') throw new Error(`expected resolved, got ${outcome.kind}`);
    const digest = 'sha256:4a1c6567c38904384ebc64e35b7eeddd8451110c299e3368d2210066487d97e5';
    expect(outcome.function.content).to.deep.equal({
      packageType: 'Image',
      digest,
      imageRef: `012345678910.dkr.ecr.us-west-2.amazonaws.com/cluster-autoscaler@${digest}`,
      registry: '012345678910.dkr.ecr.us-west-2.amazonaws.com',
      repository: 'cluster-autoscaler',
      tag: 'v1.13.6',
    });
    expect(ecrMock.commandCalls(DescribeImagesCommand)[0]!.args[0].input).to.deep.equal({
      registryId: '012345678910',
      repositoryName: 'cluster-autoscaler',
      imageIds: [{ imageTag: 'v1.13.6' }],
    });
  });

  it('ECR without a digest for the tag is a ResolveError naming the image', async () => {
    const sample = loadCorpus<Json>('aws/api-lambda-GetFunction-image.c7n-placebo.json').data;
    lambdaMock.on(GetFunctionCommand).resolves({ ...sample, Configuration: { ...sample.Configuration, LastUpdateStatus: 'Successful' }, Code: { ImageUri: '012345678910.dkr.ecr.us-west-2.amazonaws.com/app:v1' } });
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [] });
    let error: unknown;
    try {
      await resolveFunction(parseFunctionArn(sample.Configuration.FunctionArn), { lambda: lambda(), ecr: ecr(), maxWaitMs: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ResolveError);
    expect((error as Error).message).to.include('012345678910.dkr.ecr.us-west-2.amazonaws.com/app:v1');
  });

  it('deleted or failed functions are "gone"; the wait is bounded', async () => {
    const fn = parseFunctionArn('arn:aws:lambda:us-west-2:123456789012:function:f');
    lambdaMock.on(GetFunctionCommand).rejectsOnce(Object.assign(new Error('nope'), { name: 'ResourceNotFoundException' }));
    expect((await resolveFunction(fn, { lambda: lambda(), ecr: ecr(), maxWaitMs: 0 })).kind).to.equal('gone');
    lambdaMock.on(GetFunctionCommand).resolves({ Configuration: { State: 'Failed', StateReasonCode: 'InvalidZipFileException' } });
    const failed = await resolveFunction(fn, { lambda: lambda(), ecr: ecr(), maxWaitMs: 0 });
    expect(failed).to.deep.include({ kind: 'gone' });
    expect((failed as { reason: string }).reason).to.include('InvalidZipFileException');
    lambdaMock.on(GetFunctionCommand).resolves({ Configuration: { State: 'Active', LastUpdateStatus: 'InProgress', CodeSha256: 'x' } });
    let clock = 0;
    const sleeps: number[] = [];
    const pending = await resolveFunction(fn, { lambda: lambda(), ecr: ecr(), maxWaitMs: 30_000, now: () => clock, sleep: async (ms) => void (sleeps.push(ms), (clock += ms)) });
    expect(pending.kind).to.equal('not-ready');
    expect(sleeps.reduce((a, b) => a + b, 0)).to.equal(30_000);
    expect(sleeps.slice(0, 4)).to.deep.equal([1000, 2000, 4000, 8000]);
  });

  describe('readiness: State x LastUpdateStatus (GetFunction through the resolver, bounded wait 3 s)', () => {
    // Expected per cell, written out rather than derived: scan now, keep waiting (then retry later), or nothing to scan.
    const table: [state: State | undefined, update: LastUpdateStatus | undefined, expected: 'resolved' | 'not-ready' | 'gone'][] = [
      ['Pending', 'InProgress', 'not-ready'],
      ['Pending', 'Successful', 'not-ready'],
      ['Pending', 'Failed', 'gone'],
      ['Pending', undefined, 'not-ready'],
      ['Active', 'InProgress', 'not-ready'],
      ['Active', 'Successful', 'resolved'],
      ['Active', 'Failed', 'gone'],
      ['Active', undefined, 'resolved'],
      // Idle functions: GetFunction still returns their code.
      ['Inactive', 'InProgress', 'not-ready'],
      ['Inactive', 'Successful', 'resolved'],
      ['Inactive', 'Failed', 'gone'],
      ['Inactive', undefined, 'resolved'],
      ['Failed', 'InProgress', 'gone'],
      ['Failed', 'Successful', 'gone'],
      ['Failed', 'Failed', 'gone'],
      [undefined, undefined, 'resolved'],
    ];
    const fn = parseFunctionArn('arn:aws:lambda:us-west-2:123456789012:function:f');
    for (const [state, update, expected] of table) {
      it(`State=${state ?? '(absent)'} LastUpdateStatus=${update ?? '(absent)'} -> ${expected}`, async () => {
        const fields = { ...(state ? { State: state } : {}), ...(update ? { LastUpdateStatus: update } : {}) };
        lambdaMock.on(GetFunctionCommand).resolves({ Configuration: { CodeSha256: 'c29tZS1jb2Rl', PackageType: 'Zip', ...fields } });
        let clock = 0;
        const outcome = await resolveFunction(fn, { lambda: lambda(), ecr: ecr(), maxWaitMs: 3_000, now: () => clock, sleep: async (ms) => void (clock += ms) });
        expect(outcome.kind).to.equal(expected);
        // Only "wait" cells poll again; the others decide on the first answer.
        expect(lambdaMock.commandCalls(GetFunctionCommand).length > 1).to.equal(expected === 'not-ready');
        const verdict = readiness(fields);
        expect(verdict.kind).to.equal({ resolved: 'ready', 'not-ready': 'wait', gone: 'failed' }[expected]);
        if (expected === 'gone') expect((outcome as { reason: string }).reason).to.match(/State=Failed|LastUpdateStatus=Failed/);
      });
    }
  });
});
