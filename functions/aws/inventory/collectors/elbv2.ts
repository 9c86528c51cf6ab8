import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  paginateDescribeListeners,
  paginateDescribeLoadBalancers,
  type DescribeLoadBalancersCommandOutput,
  type DescribeTagsCommandOutput,
  type LoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { LOAD_BALANCER, RESOURCE_TYPES } from '../../../../shared/rules/aws/posture/kinds';
import type { ListenerShape, LoadBalancerShape, TagShape } from '../../../../shared/rules/aws/posture/shapes';
import { call, errorName, mapLimit, pages } from '../calls';
import type { CollectedResource, CollectorContext, ServiceCollector } from './types';

/** ELBv2: load balancers of a region with their listeners (DescribeListeners) and tags (DescribeTags, 20 at a time). */

const TAGS_PER_CALL = 20;

async function listenersOf(ctx: CollectorContext, arn: string): Promise<ListenerShape[]> {
  const elb = ctx.clients.get('elbv2', ctx.account, ctx.region);
  const out: ListenerShape[] = [];
  for await (const page of pages(ctx.counter, 'DescribeListeners', paginateDescribeListeners({ client: elb }, { LoadBalancerArn: arn }))) {
    for (const l of page.Listeners ?? []) {
      out.push({
        ListenerArn: l.ListenerArn,
        Port: l.Port,
        Protocol: l.Protocol,
        DefaultActions: (l.DefaultActions ?? []).map((a) => ({
          Type: a.Type,
          Order: a.Order,
          ...(a.RedirectConfig ? { RedirectConfig: { Protocol: a.RedirectConfig.Protocol, Port: a.RedirectConfig.Port, StatusCode: a.RedirectConfig.StatusCode } } : {}),
        })),
      });
    }
  }
  return out;
}

async function tagsOf(ctx: CollectorContext, arns: string[]): Promise<Map<string, TagShape[]>> {
  const elb = ctx.clients.get('elbv2', ctx.account, ctx.region);
  const out = new Map<string, TagShape[]>();
  for (let i = 0; i < arns.length; i += TAGS_PER_CALL) {
    const answer = await call<DescribeTagsCommandOutput>(ctx.counter, 'DescribeTags', elb, new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + TAGS_PER_CALL) }));
    for (const d of answer.TagDescriptions ?? []) if (d.ResourceArn) out.set(d.ResourceArn, (d.Tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value })));
  }
  return out;
}

async function resourcesOf(ctx: CollectorContext, balancers: LoadBalancer[]): Promise<CollectedResource[]> {
  const arns = balancers.map((lb) => lb.LoadBalancerArn!);
  const tags = arns.length > 0 ? await tagsOf(ctx, arns) : new Map<string, TagShape[]>();
  return mapLimit(balancers, ctx.concurrency, async (lb) => {
    const config: LoadBalancerShape = {
      LoadBalancerArn: lb.LoadBalancerArn!,
      LoadBalancerName: lb.LoadBalancerName,
      DNSName: lb.DNSName,
      Scheme: lb.Scheme,
      Type: lb.Type,
      State: { Code: lb.State?.Code },
      Listeners: await listenersOf(ctx, lb.LoadBalancerArn!),
      Tags: tags.get(lb.LoadBalancerArn!) ?? [],
    };
    return { account: ctx.account, region: ctx.region, type: RESOURCE_TYPES.loadBalancer, arn: config.LoadBalancerArn, name: LOAD_BALANCER.nameOf(config), tags: LOAD_BALANCER.tagsOf(config), config };
  });
}

export const elbv2Collector: ServiceCollector = {
  service: 'elbv2',
  scope: 'region',
  async collect(ctx) {
    const elb = ctx.clients.get('elbv2', ctx.account, ctx.region);
    const balancers: LoadBalancer[] = [];
    for await (const page of pages(ctx.counter, 'DescribeLoadBalancers', paginateDescribeLoadBalancers({ client: elb, pageSize: 400 }, {}))) {
      for (const lb of page.LoadBalancers ?? []) if (lb.LoadBalancerArn) balancers.push(lb);
    }
    return resourcesOf(ctx, balancers);
  },
  async describe(ctx, resource) {
    const elb = ctx.clients.get('elbv2', ctx.account, ctx.region);
    try {
      const answer = await call<DescribeLoadBalancersCommandOutput>(ctx.counter, 'DescribeLoadBalancers', elb, new DescribeLoadBalancersCommand({ LoadBalancerArns: [resource.arn] }));
      const found = (answer.LoadBalancers ?? []).filter((lb) => lb.LoadBalancerArn === resource.arn);
      return (await resourcesOf(ctx, found))[0];
    } catch (error) {
      if (/^LoadBalancerNotFound(Exception)?$/.test(errorName(error))) return undefined;
      throw error;
    }
  },
};
