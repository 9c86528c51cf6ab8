import type { AwsPostureRule } from '../types';
import { notApplicable, passes } from '../types';
import { INSTANCE } from '../kinds';
import type { Ec2InstanceShape } from '../shapes';
import { failing, failure } from './common';

const GONE = new Set(['terminated', 'shutting-down']);

export const ec2InstanceImdsv1: AwsPostureRule<Ec2InstanceShape> = {
  id: 'aws.ec2.instance-imdsv1-allowed',
  title: 'EC2 instance accepts IMDSv1',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 'ec2',
  risk: 'With HttpTokens optional the instance metadata service answers IMDSv1 requests, so a server-side request forgery in any application on the instance can read its role credentials.',
  remediation: {
    text: 'Require IMDSv2 (aws ec2 modify-instance-metadata-options --http-tokens required), after checking the instance software uses an SDK version that speaks IMDSv2; set it as the account default for new instances.',
    url: 'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html',
  },
  resourceType: INSTANCE.type,
  triggers: INSTANCE.triggers,
  evaluate(config) {
    const state = config.State?.Name;
    if (state !== undefined && GONE.has(state)) return notApplicable(`the instance is ${state}`);
    const options = config.MetadataOptions;
    if (!options) return notApplicable('DescribeInstances returned no MetadataOptions');
    if (options.HttpEndpoint === 'disabled' || options.HttpTokens === 'required') return passes();
    return failing([
      failure('metadata-options', { httpTokens: options.HttpTokens ?? null, httpEndpoint: options.HttpEndpoint ?? null }, { title: `EC2 instance ${config.InstanceId} accepts IMDSv1 (HttpTokens ${options.HttpTokens ?? 'unset'})` }),
    ]);
  },
};
