import {
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  paginateDescribeInstances,
  paginateDescribeSecurityGroups,
  type DescribeInstancesCommandOutput,
  type DescribeSecurityGroupsCommandOutput,
  type Instance,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { ids, INSTANCE, RESOURCE_TYPES, SECURITY_GROUP } from '../../../../shared/rules/aws/posture/kinds';
import type { Ec2InstanceShape, IpPermissionShape, SecurityGroupShape } from '../../../../shared/rules/aws/posture/shapes';
import { call, errorName, iso, pages } from '../calls';
import type { CollectedResource, CollectorContext, ServiceCollector } from './types';

/** EC2: security groups and instances of one region (DescribeSecurityGroups, DescribeInstances). */

/** Instances on their way out are gone for the rules (DescribeInstances still lists them for about an hour). */
const GONE = new Set(['terminated', 'shutting-down']);

function permission(p: IpPermission): IpPermissionShape {
  return {
    IpProtocol: p.IpProtocol,
    FromPort: p.FromPort,
    ToPort: p.ToPort,
    IpRanges: (p.IpRanges ?? []).map((r) => ({ CidrIp: r.CidrIp, Description: r.Description })),
    Ipv6Ranges: (p.Ipv6Ranges ?? []).map((r) => ({ CidrIpv6: r.CidrIpv6, Description: r.Description })),
    PrefixListIds: (p.PrefixListIds ?? []).map((r) => ({ PrefixListId: r.PrefixListId, Description: r.Description })),
    UserIdGroupPairs: (p.UserIdGroupPairs ?? []).map((r) => ({ GroupId: r.GroupId, UserId: r.UserId, Description: r.Description })),
  };
}

export function securityGroupShape(g: SecurityGroup): SecurityGroupShape {
  return {
    GroupId: g.GroupId!,
    GroupName: g.GroupName,
    Description: g.Description,
    VpcId: g.VpcId,
    OwnerId: g.OwnerId,
    SecurityGroupArn: g.SecurityGroupArn,
    IpPermissions: (g.IpPermissions ?? []).map(permission),
    IpPermissionsEgress: (g.IpPermissionsEgress ?? []).map(permission),
    Tags: (g.Tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value })),
  };
}

export function instanceShape(i: Instance): Ec2InstanceShape {
  const m = i.MetadataOptions;
  return {
    InstanceId: i.InstanceId!,
    InstanceType: i.InstanceType,
    ImageId: i.ImageId,
    LaunchTime: iso(i.LaunchTime),
    State: { Name: i.State?.Name },
    PublicIpAddress: i.PublicIpAddress,
    ...(m ? { MetadataOptions: { HttpTokens: m.HttpTokens, HttpEndpoint: m.HttpEndpoint, HttpPutResponseHopLimit: m.HttpPutResponseHopLimit, State: m.State } } : {}),
    Tags: (i.Tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value })),
  };
}

function groupResource(ctx: CollectorContext, g: SecurityGroup): CollectedResource {
  const config = securityGroupShape(g);
  return { account: ctx.account, region: ctx.region, type: RESOURCE_TYPES.securityGroup, arn: ids.securityGroup(ctx, config.GroupId), name: SECURITY_GROUP.nameOf(config), tags: SECURITY_GROUP.tagsOf(config), config };
}

function instanceResource(ctx: CollectorContext, i: Instance): CollectedResource {
  const config = instanceShape(i);
  return { account: ctx.account, region: ctx.region, type: RESOURCE_TYPES.instance, arn: ids.instance(ctx, config.InstanceId), name: INSTANCE.nameOf(config), tags: INSTANCE.tagsOf(config), config };
}

function idOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

export const ec2Collector: ServiceCollector = {
  service: 'ec2',
  scope: 'region',
  async collect(ctx) {
    const ec2 = ctx.clients.get('ec2', ctx.account, ctx.region);
    const out: CollectedResource[] = [];
    for await (const page of pages(ctx.counter, 'DescribeSecurityGroups', paginateDescribeSecurityGroups({ client: ec2, pageSize: 1000 }, {}))) {
      for (const g of page.SecurityGroups ?? []) if (g.GroupId) out.push(groupResource(ctx, g));
    }
    for await (const page of pages(ctx.counter, 'DescribeInstances', paginateDescribeInstances({ client: ec2, pageSize: 1000 }, {}))) {
      for (const reservation of page.Reservations ?? []) {
        for (const i of reservation.Instances ?? []) if (i.InstanceId && !GONE.has(i.State?.Name ?? '')) out.push(instanceResource(ctx, i));
      }
    }
    return out;
  },
  async describe(ctx, resource) {
    const ec2 = ctx.clients.get('ec2', ctx.account, ctx.region);
    const id = idOf(resource.arn);
    try {
      if (resource.type === RESOURCE_TYPES.securityGroup) {
        const answer = await call<DescribeSecurityGroupsCommandOutput>(ctx.counter, 'DescribeSecurityGroups', ec2, new DescribeSecurityGroupsCommand({ GroupIds: [id] }));
        const group = answer.SecurityGroups?.find((g) => g.GroupId === id);
        return group ? groupResource(ctx, group) : undefined;
      }
      const answer = await call<DescribeInstancesCommandOutput>(ctx.counter, 'DescribeInstances', ec2, new DescribeInstancesCommand({ InstanceIds: [id] }));
      const instance = (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
      return instance && !GONE.has(instance.State?.Name ?? '') ? instanceResource(ctx, instance) : undefined;
    } catch (error) {
      if (/^Invalid(Group|InstanceID)\.(NotFound|Malformed)$/.test(errorName(error))) return undefined;
      throw error;
    }
  },
};
