import type { AwsPostureRule } from '../types';
import { notApplicable, passes } from '../types';
import { SECURITY_GROUP } from '../kinds';
import type { SecurityGroupShape } from '../shapes';
import { failing, failure } from './common';

export const ec2DefaultSecurityGroup: AwsPostureRule<SecurityGroupShape> = {
  id: 'aws.ec2.default-security-group-has-rules',
  title: 'Default security group allows traffic',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 'ec2',
  risk: 'Resources launched without a security group land in the VPC default group; rules on it silently open them to each other or the internet (CIS: the default group restricts all traffic).',
  remediation: {
    text: 'Remove every inbound and outbound rule of the default security group and give resources purpose-made groups.',
    url: 'https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html',
  },
  resourceType: SECURITY_GROUP.type,
  triggers: SECURITY_GROUP.triggers,
  evaluate(config) {
    if (config.GroupName !== 'default') return notApplicable('not a default security group');
    const inbound = config.IpPermissions?.length ?? 0;
    const outbound = config.IpPermissionsEgress?.length ?? 0;
    if (inbound + outbound === 0) return passes();
    return failing([
      failure('default-group-rules', { inboundRules: inbound, outboundRules: outbound, vpcId: config.VpcId ?? null }, { title: `Default security group ${config.GroupId}${config.VpcId ? ` of ${config.VpcId}` : ''} has ${inbound} inbound and ${outbound} outbound rules` }),
    ]);
  },
};
