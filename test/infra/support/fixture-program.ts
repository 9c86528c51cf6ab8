/**
 * A tiny Pulumi program for the plan tool's own tests: one component with children, a secret
 * input, provider calls and stack outputs. `shipscan:fixture` selects deliberate faults.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';

const config = new pulumi.Config('shipscan');
const fixture = config.getObject<{ fault?: 'throw' | 'leak' | 'unmocked-call' | 'pending' | 'hang'; token: string }>('fixture') ?? { token: 'unset' };

if (fixture.fault === 'throw') throw new Error('fixture refuses to run');

class Box extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super('shipscan:test:Box', name, {}, opts);
    this.queue = new aws.sqs.Queue(`${name}-queue`, { messageRetentionSeconds: 600 }, { parent: this });
    this.registerOutputs({ queueUrl: this.queue.url });
  }
}

const box = new Box('box');
const identity = aws.getCallerIdentityOutput();
const token = fixture.fault === 'leak' ? pulumi.output(fixture.token) : pulumi.secret(fixture.token);
const secret = new aws.secretsmanager.Secret('token', { description: 'fixture' });
new aws.secretsmanager.SecretVersion('token', { secretId: secret.id, secretString: token });
new aws.ssm.Parameter('account', { type: 'String', value: identity.accountId });
if (fixture.fault === 'unmocked-call') aws.ec2.getVpcOutput({ default: true });

export const queueUrl = box.queue.url;
export const secretArn = secret.arn;
export const tokenOut = token;
// An Output that never resolves, as an unmocked provider output would during a preview.
export const pending =
  fixture.fault === 'pending' || fixture.fault === 'hang' ? pulumi.output(new Promise<string>(() => undefined)) : undefined;
// A timer keeps the process alive, so only the plan's own time limit ends it.
if (fixture.fault === 'hang') setInterval(() => undefined, 1000);
