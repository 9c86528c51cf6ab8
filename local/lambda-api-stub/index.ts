/**
 * A loopback stand-in for the parts of the AWS Lambda API that shipscan calls (GetFunction,
 * ListFunctions, TagResource, ListTags), speaking the same REST-JSON protocol so the real AWS SDK
 * client runs against it unchanged. Used by `npm start` and the burst benchmark; unit tests of the
 * runtime mock the SDK instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubFunctionSpec {
  name: string;
  account?: string;
  region?: string;
  partition?: string;
  packageType?: 'Zip' | 'Image';
  runtime?: string;
  /** base64 SHA-256 of the zip; derived from the name when absent. */
  codeSha256?: string;
  /** Image functions: the URI as deployed (may be a tag). */
  imageUri?: string;
  /** Image functions: the digest-pinned URI. */
  resolvedImageUri?: string;
  tags?: Record<string, string>;
  /** GetFunction answers State=Pending this many times before Active (exercises the bounded wait). */
  pendingReads?: number;
}

interface StubFunction extends Required<Omit<StubFunctionSpec, 'imageUri' | 'resolvedImageUri' | 'runtime'>> {
  imageUri?: string;
  resolvedImageUri?: string;
  runtime?: string;
  arn: string;
  reads: number;
}

export interface LambdaApiStub {
  endpoint: string;
  /** Adds or replaces a function; returns its unqualified ARN. */
  putFunction(spec: StubFunctionSpec): string;
  has(arnOrName: string, region?: string): boolean;
  tagsOf(arn: string): Record<string, string>;
  readonly calls: readonly { operation: string; target: string }[];
  stop(): Promise<void>;
}

export interface LambdaApiStubOptions {
  defaultAccount?: string;
  defaultRegion?: string;
}

const FUNCTION_ARN = /^arn:(aws|aws-cn|aws-us-gov):lambda:([a-z0-9-]+):([0-9]{12}):function:([A-Za-z0-9_.-]+)(?::[A-Za-z0-9_$-]+)?$/;
const PARTIAL_ARN = /^([0-9]{12}):function:([A-Za-z0-9_.-]+)(?::[A-Za-z0-9_$-]+)?$/;
const NAME = /^([A-Za-z0-9_.-]{1,64})(?::[A-Za-z0-9_$-]+)?$/;

class ApiError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

function signingRegion(request: IncomingMessage, fallback: string): string {
  const auth = request.headers.authorization ?? '';
  const match = /Credential=[^/]+\/[0-9]{8}\/([a-z0-9-]+)\/lambda\//.exec(auth);
  return match?.[1] ?? fallback;
}

function key(account: string, region: string, name: string): string {
  return `${account}/${region}/${name}`;
}

export async function startLambdaApiStub(options: LambdaApiStubOptions = {}): Promise<LambdaApiStub> {
  const defaultAccount = options.defaultAccount ?? '123456789012';
  const defaultRegion = options.defaultRegion ?? 'us-east-1';
  const functions = new Map<string, StubFunction>();
  const byArn = new Map<string, StubFunction>();
  const calls: { operation: string; target: string }[] = [];

  function locate(identifier: string, region: string): StubFunction {
    const decoded = decodeURIComponent(identifier);
    const full = FUNCTION_ARN.exec(decoded);
    if (full) {
      const found = functions.get(key(full[3]!, full[2]!, full[4]!));
      if (found) return found;
    } else {
      const partial = PARTIAL_ARN.exec(decoded);
      const plain = partial ? undefined : NAME.exec(decoded);
      const account = partial ? partial[1]! : defaultAccount;
      const name = partial ? partial[2]! : plain?.[1];
      if (name === undefined) throw new ApiError(400, 'InvalidParameterValueException', `1 validation error detected: Value '${decoded}' at 'functionName' failed to satisfy constraint`);
      const found = functions.get(key(account, region, name));
      if (found) return found;
    }
    throw new ApiError(404, 'ResourceNotFoundException', `Function not found: ${decoded}`);
  }

  function configuration(fn: StubFunction, pending: boolean): Record<string, unknown> {
    return {
      FunctionName: fn.name,
      FunctionArn: fn.arn,
      Runtime: fn.packageType === 'Zip' ? fn.runtime ?? 'nodejs22.x' : undefined,
      Role: `arn:${fn.partition}:iam::${fn.account}:role/${fn.name}-role`,
      Handler: fn.packageType === 'Zip' ? 'index.handler' : undefined,
      CodeSize: 1024,
      CodeSha256: fn.codeSha256,
      Version: '$LATEST',
      PackageType: fn.packageType,
      State: pending ? 'Pending' : 'Active',
      LastUpdateStatus: pending ? 'InProgress' : 'Successful',
      LastModified: new Date().toISOString().replace('Z', '+0000'),
      Architectures: ['x86_64'],
    };
  }

  async function readBody(request: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function route(request: IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const url = new URL(request.url ?? '/', 'http://stub');
    const region = signingRegion(request, defaultRegion);
    const getFunction = /^\/2015-03-31\/functions\/([^/]+)$/.exec(url.pathname);
    if (request.method === 'GET' && getFunction) {
      const fn = locate(getFunction[1]!, region);
      calls.push({ operation: 'GetFunction', target: fn.arn });
      fn.reads += 1;
      const pending = fn.reads <= fn.pendingReads;
      const code =
        fn.packageType === 'Image'
          ? { RepositoryType: 'ECR', ImageUri: fn.imageUri, ResolvedImageUri: fn.resolvedImageUri }
          : { RepositoryType: 'S3', Location: `https://awslambda-${region}-tasks.s3.${region}.amazonaws.com/snapshots/${fn.account}/${fn.name}-${randomBytes(8).toString('hex')}` };
      return { status: 200, body: { Configuration: configuration(fn, pending), Code: code, Tags: fn.tags } };
    }
    if (request.method === 'GET' && /^\/2015-03-31\/functions\/?$/.test(url.pathname)) {
      calls.push({ operation: 'ListFunctions', target: region });
      const all = [...functions.values()].filter((fn) => fn.region === region).sort((a, b) => a.name.localeCompare(b.name));
      const start = Number(url.searchParams.get('Marker') ?? '0');
      const size = Math.min(Number(url.searchParams.get('MaxItems') ?? '50'), 50);
      const page = all.slice(start, start + size);
      const next = start + size < all.length ? String(start + size) : undefined;
      return { status: 200, body: { Functions: page.map((fn) => configuration(fn, false)), NextMarker: next } };
    }
    const tags = /^\/2017-03-31\/tags\/(.+)$/.exec(url.pathname);
    if (tags) {
      const arn = decodeURIComponent(tags[1]!);
      const fn = byArn.get(arn);
      if (!fn) throw new ApiError(404, 'ResourceNotFoundException', `Function not found: ${arn}`);
      if (request.method === 'POST') {
        calls.push({ operation: 'TagResource', target: arn });
        const body = JSON.parse((await readBody(request)) || '{}') as { Tags?: Record<string, string> };
        Object.assign(fn.tags, body.Tags ?? {});
        return { status: 204 };
      }
      if (request.method === 'GET') {
        calls.push({ operation: 'ListTags', target: arn });
        return { status: 200, body: { Tags: fn.tags } };
      }
    }
    throw new ApiError(404, 'UnknownOperationException', `${request.method} ${url.pathname} is not part of this stub`);
  }

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    route(request).then(
      ({ status, body }) => {
        response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomBytes(16).toString('hex') });
        response.end(body === undefined ? undefined : JSON.stringify(body));
      },
      (error: unknown) => {
        const apiError = error instanceof ApiError ? error : new ApiError(500, 'ServiceException', (error as Error).message);
        response.writeHead(apiError.status, { 'content-type': 'application/json', 'x-amzn-errortype': apiError.type });
        response.end(JSON.stringify({ Type: 'User', message: apiError.message }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    putFunction(spec: StubFunctionSpec): string {
      const account = spec.account ?? defaultAccount;
      const region = spec.region ?? defaultRegion;
      const partition = spec.partition ?? 'aws';
      const arn = `arn:${partition}:lambda:${region}:${account}:function:${spec.name}`;
      const fn: StubFunction = {
        name: spec.name,
        account,
        region,
        partition,
        packageType: spec.packageType ?? 'Zip',
        runtime: spec.runtime,
        codeSha256: spec.codeSha256 ?? createHash('sha256').update(spec.name).digest('base64'),
        imageUri: spec.imageUri,
        resolvedImageUri: spec.resolvedImageUri,
        tags: { ...(spec.tags ?? {}) },
        pendingReads: spec.pendingReads ?? 0,
        arn,
        reads: 0,
      };
      functions.set(key(account, region, spec.name), fn);
      byArn.set(arn, fn);
      return arn;
    },
    has(arnOrName: string, region = defaultRegion): boolean {
      try {
        locate(arnOrName, region);
        return true;
      } catch {
        return false;
      }
    },
    tagsOf(arn: string): Record<string, string> {
      return { ...(byArn.get(arn)?.tags ?? {}) };
    },
    stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
