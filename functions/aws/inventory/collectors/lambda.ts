import {
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  ListTagsCommand,
  paginateListFunctions,
  paginateListFunctionUrlConfigs,
  type FunctionConfiguration,
  type GetFunctionConfigurationCommandOutput,
  type GetPolicyCommandOutput,
  type ListTagsCommandOutput,
} from '@aws-sdk/client-lambda';
import { FUNCTION, RESOURCE_TYPES } from '../../../../shared/rules/aws/posture/kinds';
import type { LambdaFunctionShape } from '../../../../shared/rules/aws/posture/shapes';
import { call, errorName, mapLimit, orAbsent, pages } from '../calls';
import { detail, withErrors, type CollectedResource, type CollectorContext, type ServiceCollector } from './types';

/**
 * Lambda: every function of a region (ListFunctions: the configuration), its resource policy, its URLs and
 * its tags (the Shipscan* tags carry the last scan's counts). Not GetFunction: it also hands out a download
 * URL for the code, which the inventory has no business holding.
 */

const NOT_FOUND = ['ResourceNotFoundException'];

async function readFunction(ctx: CollectorContext, fn: FunctionConfiguration): Promise<CollectedResource> {
  const lambda = ctx.clients.get('lambda', ctx.account, ctx.region);
  const c = ctx.counter;
  const arn = fn.FunctionArn!;
  const errors: Record<string, string> = {};
  const urls: LambdaFunctionShape['FunctionUrls'] = [];
  const [policy, tags] = await Promise.all([
    detail(errors, 'GetPolicy', () => orAbsent(() => call<GetPolicyCommandOutput>(c, 'GetPolicy', lambda, new GetPolicyCommand({ FunctionName: arn })), NOT_FOUND, undefined), undefined),
    detail(errors, 'ListTags', () => call<ListTagsCommandOutput>(c, 'ListTags', lambda, new ListTagsCommand({ Resource: arn })), undefined),
    detail(
      errors,
      'ListFunctionUrlConfigs',
      async () => {
        for await (const page of pages(c, 'ListFunctionUrlConfigs', paginateListFunctionUrlConfigs({ client: lambda }, { FunctionName: arn }))) {
          for (const url of page.FunctionUrlConfigs ?? []) urls.push({ FunctionUrl: url.FunctionUrl, AuthType: url.AuthType, FunctionArn: url.FunctionArn });
        }
      },
      undefined,
    ),
  ]);
  const config: LambdaFunctionShape = {
    FunctionName: fn.FunctionName!,
    FunctionArn: arn,
    Runtime: fn.Runtime,
    PackageType: fn.PackageType,
    Handler: fn.Handler,
    Role: fn.Role,
    LastModified: fn.LastModified,
    CodeSha256: fn.CodeSha256,
    Policy: policy?.Policy ?? null,
    FunctionUrls: urls,
    Tags: { ...(tags?.Tags ?? {}) },
  };
  return withErrors({ account: ctx.account, region: ctx.region, type: RESOURCE_TYPES.function, arn, name: config.FunctionName, tags: FUNCTION.tagsOf(config), config }, errors);
}

export const lambdaCollector: ServiceCollector = {
  service: 'lambda',
  scope: 'region',
  async collect(ctx) {
    const lambda = ctx.clients.get('lambda', ctx.account, ctx.region);
    const functions: FunctionConfiguration[] = [];
    for await (const page of pages(ctx.counter, 'ListFunctions', paginateListFunctions({ client: lambda, pageSize: 50 }, {}))) {
      for (const fn of page.Functions ?? []) if (fn.FunctionArn && fn.FunctionName) functions.push(fn);
    }
    return mapLimit(functions, ctx.concurrency, (fn) => readFunction(ctx, fn));
  },
  async describe(ctx, resource) {
    const lambda = ctx.clients.get('lambda', ctx.account, ctx.region);
    try {
      const fn = await call<GetFunctionConfigurationCommandOutput>(ctx.counter, 'GetFunctionConfiguration', lambda, new GetFunctionConfigurationCommand({ FunctionName: resource.arn }));
      return fn.FunctionArn ? await readFunction(ctx, { ...fn, FunctionArn: resource.arn }) : undefined;
    } catch (error) {
      if (NOT_FOUND.includes(errorName(error))) return undefined;
      throw error;
    }
  },
};
