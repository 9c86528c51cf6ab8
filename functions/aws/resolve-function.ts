import { GetFunctionCommand, type GetFunctionCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { parseImageReference } from '../../shared/image-reference';
import type { FunctionId } from './function-arn';

/**
 * What a function runs: the zip's codeSha256 or the container image's digest. Content, not names,
 * keys the cache, so two functions with the same code are scanned once.
 */

export type ResolvedContent =
  | {
      packageType: 'Zip';
      codeSha256: string;
      /** Versioned layer ARNs from Configuration.Layers; omitted when the function has none. */
      layerArns?: string[];
    }
  | {
      packageType: 'Image';
      /** `sha256:<64 hex>` */
      digest: string;
      /** Digest-pinned reference handed to qscanner. */
      imageRef: string;
      registry: string;
      repository: string;
      tag?: string;
    };

export type ResolvedFunction = {
  fn: FunctionId;
  runtime?: string;
  tags: Record<string, string>;
  content: ResolvedContent;
};

export type ResolveOutcome =
  | { kind: 'resolved'; function: ResolvedFunction }
  /** Still Pending / InProgress after the bounded wait: try again later. */
  | { kind: 'not-ready'; reason: string }
  /** Gone or failed to deploy: nothing to scan. */
  | { kind: 'gone'; reason: string };

export class ResolveError extends Error {
  override readonly name = 'ResolveError';
  constructor(readonly functionArn: string, reason: string) {
    super(`cannot resolve ${functionArn}: ${reason}`);
  }
}

export interface ResolveOptions {
  lambda: LambdaClient;
  ecr: ECRClient;
  /** Total bounded wait for State=Active (or Inactive) and LastUpdateStatus=Successful. */
  maxWaitMs: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type Readiness =
  | { kind: 'ready' }
  /** Being created or updated: GetFunction again after a pause. */
  | { kind: 'wait' }
  /** The deployment failed: there is no code to scan. */
  | { kind: 'failed'; reason: string };

/**
 * Whether GetFunction's answer describes code that can be scanned now:
 * - State Active, or Inactive (idle for weeks: GetFunction still returns the code, and bulk scans
 *   meet many such functions), with LastUpdateStatus Successful -> ready;
 * - State Pending, or LastUpdateStatus InProgress -> wait;
 * - State Failed, or LastUpdateStatus Failed -> failed.
 * Older API responses (and some samples) omit both fields: absent counts as Active / Successful.
 */
export function readiness(configuration: GetFunctionCommandOutput['Configuration']): Readiness {
  const state = configuration?.State;
  const update = configuration?.LastUpdateStatus;
  if (state === 'Failed') return { kind: 'failed', reason: `State=Failed (${configuration?.StateReasonCode ?? 'no code'}: ${configuration?.StateReason ?? ''})` };
  if (update === 'Failed') {
    return { kind: 'failed', reason: `LastUpdateStatus=Failed (${configuration?.LastUpdateStatusReasonCode ?? 'no code'}: ${configuration?.LastUpdateStatusReason ?? ''})` };
  }
  const stateOk = state === undefined || state === 'Active' || state === 'Inactive';
  const updateOk = update === undefined || update === 'Successful';
  return stateOk && updateOk ? { kind: 'ready' } : { kind: 'wait' };
}

async function digestForTag(ecr: ECRClient, registry: string, repository: string, tag: string, arn: string): Promise<string> {
  const registryId = /^([0-9]{12})\.dkr\.ecr\./.exec(registry)?.[1];
  const response = await ecr.send(new DescribeImagesCommand({ registryId, repositoryName: repository, imageIds: [{ imageTag: tag }] }));
  const digest = response.imageDetails?.[0]?.imageDigest;
  if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) throw new ResolveError(arn, `ECR returned no sha256 digest for ${registry}/${repository}:${tag}`);
  return digest;
}

async function imageContent(output: GetFunctionCommandOutput, ecr: ECRClient, arn: string): Promise<ResolvedContent> {
  const uri = output.Code?.ResolvedImageUri ?? output.Code?.ImageUri;
  if (!uri) throw new ResolveError(arn, 'an Image function without Code.ImageUri');
  const reference = parseImageReference(uri);
  const digest = reference.digest ?? (await digestForTag(ecr, reference.registry, reference.repository, reference.tag ?? 'latest', arn));
  const tagged = output.Code?.ImageUri ? parseImageReference(output.Code.ImageUri) : reference;
  return {
    packageType: 'Image',
    digest,
    imageRef: `${reference.registry}/${reference.repository}@${digest}`,
    registry: reference.registry,
    repository: reference.repository,
    ...(tagged.tag ? { tag: tagged.tag } : {}),
  };
}

/** GetFunction in the function's own account, waiting (bounded) until it can be scanned. */
export async function resolveFunction(fn: FunctionId, options: ResolveOptions): Promise<ResolveOutcome> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const deadline = now() + options.maxWaitMs;
  let delay = 1000;
  for (;;) {
    let output: GetFunctionCommandOutput;
    try {
      output = await options.lambda.send(new GetFunctionCommand({ FunctionName: fn.arn }));
    } catch (error) {
      if ((error as { name?: string }).name === 'ResourceNotFoundException') return { kind: 'gone', reason: `function ${fn.arn} no longer exists` };
      throw error;
    }
    const ready = readiness(output.Configuration);
    if (ready.kind === 'failed') return { kind: 'gone', reason: `function ${fn.arn} failed to deploy: ${ready.reason}` };
    if (ready.kind === 'ready') {
      const configuration = output.Configuration ?? {};
      const packageType = configuration.PackageType ?? 'Zip';
      let content: ResolvedContent;
      if (packageType === 'Image') {
        content = await imageContent(output, options.ecr, fn.arn);
      } else {
        if (!configuration.CodeSha256) throw new ResolveError(fn.arn, 'GetFunction returned no CodeSha256');
        const layerArns = (configuration.Layers ?? []).map((layer) => layer.Arn).filter((arn): arn is string => typeof arn === 'string' && arn.length > 0);
        content = { packageType: 'Zip', codeSha256: configuration.CodeSha256, ...(layerArns.length ? { layerArns } : {}) };
      }
      return {
        kind: 'resolved',
        function: { fn, ...(configuration.Runtime ? { runtime: configuration.Runtime } : {}), tags: output.Tags ?? {}, content },
      };
    }
    const remaining = deadline - now();
    if (remaining <= 0) {
      const c = output.Configuration;
      return { kind: 'not-ready', reason: `function ${fn.arn} still State=${c?.State ?? '?'} LastUpdateStatus=${c?.LastUpdateStatus ?? '?'}` };
    }
    await sleep(Math.min(delay, remaining));
    delay = Math.min(delay * 2, 10_000);
  }
}
