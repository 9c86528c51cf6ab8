import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { classifyEvents, type ItemOfKind } from '../../local/replay/detect';
import { replayerOf } from '../../local/start/kinds';
import { awsSecurityEventLabel, LOCAL_SECURITY_RULE_NAME, routeAwsSecurityEvent } from '../../local/start/kinds/aws-security-event';
import { renderText } from '../../local/start/output/text';
import { emptySummary } from '../../local/start/summary';
import { derive, failed, sample, type Json } from '../rules/aws/support/records';
import { loadCorpus } from '../support/corpus';

/**
 * The AWS security-event kind of `npm start`: which events it takes (every shape `--event` accepts), the
 * stack's own rules in front of it (a failed call is dropped, naming the field), its labels, and how the
 * run prints findings and the emails written to the run folder. The end-to-end replay is in
 * test/e2e/npm-start-security-aws.test.ts.
 */

function only(input: unknown): ItemOfKind<'aws-security-event'> {
  const items = classifyEvents(input);
  expect(items).to.have.length(1);
  const [item] = items;
  if (item?.kind !== 'aws-security-event') throw new Error(`classified as ${String(item?.kind)}`);
  return item;
}

describe('npm start: AWS security events (local/start/kinds/aws-security-event.ts)', () => {
  describe('classification', () => {
    it('takes the calls a detector handles in every shape: raw record, array, trail file, EventBridge envelope', () => {
      const raw = loadCorpus<Json[]>('aws/cloudtrail-raw-AuthorizeSecurityGroupIngress.stratus.json');
      expect(classifyEvents(raw).map((i) => `${i.kind}/${i.shape}`)).to.deep.equal(['aws-security-event/cloudtrail']);
      expect(classifyEvents(raw[0]).map((i) => `${i.kind}/${i.shape}`)).to.deep.equal(['aws-security-event/cloudtrail']);
      const trail = { Records: [...loadCorpus<Json[]>('aws/cloudtrail-raw-StopLogging.stratus.json'), ...loadCorpus<Json[]>('aws/cloudtrail-raw-CreateAccessKey.stratus.json')] };
      expect(classifyEvents(trail).map((i) => `${i.kind}/${i.shape}`)).to.deep.equal(['aws-security-event/cloudtrail', 'aws-security-event/cloudtrail']);
      expect(classifyEvents(loadCorpus('aws/eventbridge-cloudtrail-s3-PutBucketPolicy.cloud-buddy.json')).map((i) => `${i.kind}/${i.shape}`)).to.deep.equal(['aws-security-event/eventbridge']);
      // The dated Lambda name is the detector's too.
      expect(classifyEvents(loadCorpus('aws/cloudtrail-raw-lambda-AddPermission20150331v2.stratus.json')).map((i) => i.kind)).to.deep.equal(['aws-security-event']);
    });

    it('leaves deployments and calls no detector handles to the deployment replayer (and its rule)', () => {
      for (const file of ['cloudtrail-raw-lambda-CreateFunction20150331.elastic.json', 'cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json', 'eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json']) {
        expect(classifyEvents(loadCorpus(`aws/${file}`)).map((i) => i.kind), file).to.deep.equal(['lambda-deployment']);
      }
      // An object write is neither: it goes to the object scanner (aws.artifacts).
      expect(classifyEvents(loadCorpus('aws/cloudtrail-raw-s3-PutObject-dataevent.elastic.json')).map((i) => i.kind)).to.deep.equal(['s3-object']);
    });
  });

  describe('routing through the rules rendered from the registry', () => {
    it('delivers the envelope EventBridge would deliver, also for a raw record', () => {
      const raw = sample('sgShorthand');
      const route = routeAwsSecurityEvent(only(raw));
      expect(route.deliver).to.equal(true);
      if (!route.deliver) return;
      expect(route.body).to.deep.include({ 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ec2', account: '032092706103', detail: raw });
      const envelope = sample('bucketPolicy');
      expect(routeAwsSecurityEvent(only(envelope))).to.deep.equal({ deliver: true, body: envelope });
    });

    it('drops a failed call as the rule does, naming the field that stopped it', () => {
      const route = routeAwsSecurityEvent(only(failed(sample('stopLogging'))));
      expect(route).to.deep.include({ deliver: false, by: `EventBridge rule ${LOCAL_SECURITY_RULE_NAME}` });
      expect(route.deliver ? '' : route.reason).to.match(/detail\.errorCode/);
    });

    it('uses the replayer the registry of kinds lists for these events', () => {
      const item = only(sample('accessKey'));
      expect(replayerOf(item).cloud).to.equal('aws');
      expect(replayerOf(item).route(item).deliver).to.equal(true);
    });
  });

  it('labels an event by call, caller and where', () => {
    expect(awsSecurityEventLabel(only(sample('sgShorthand')))).to.equal('AuthorizeSecurityGroupIngress by christophe (032092706103, us-northeast-1r)');
    const root = derive('bucketPolicy', (record) => {
      record.userIdentity = { type: 'Root', arn: 'arn:aws:iam::012345678901:root', accountId: '012345678901' };
    });
    expect(awsSecurityEventLabel(only(root))).to.equal('PutBucketPolicy by root (012345678901, us-east-1)');
  });

  it('the ready examples hold security events of each shape, and each passes the rules', () => {
    const dir = path.resolve(__dirname, '..', '..', 'local', 'examples');
    const shapes: string[] = [];
    for (const file of ['sg-open-ssh.cloudtrail.json', 's3-public-policy.eventbridge.json', 'stop-logging-and-access-key.trail.json']) {
      for (const item of classifyEvents(JSON.parse(readFileSync(path.join(dir, file), 'utf8')))) {
        if (item.kind !== 'aws-security-event') throw new Error(`${file}: ${item.kind}`);
        shapes.push(item.shape);
        expect(routeAwsSecurityEvent(item).deliver, file).to.equal(true);
      }
    }
    expect(shapes).to.deep.equal(['cloudtrail', 'eventbridge', 'cloudtrail', 'cloudtrail']);
  });

  it('prints each finding with its actor and where each email was written', () => {
    const summary = { ...emptySummary(), resultsDir: '/home/u/shipscan/.shipscan/runs/20261203T101010000Z-abcdef' };
    summary.findings.push({ cloud: 'aws', ruleId: 'aws.ec2.sg-open-ingress', category: 'activity', severity: 'CRITICAL', state: 'ACTIVE', resourceId: 'arn:aws:ec2:us-east-1:123456789012:security-group/sg-1', actor: 'arn:aws:iam::123456789012:user/deployer' });
    summary.emails.push({ cloud: 'aws', channel: 'email', to: ['secops@example.com'], subject: '[shipscan] CRITICAL opened: Security group sg-1 open to the internet', findingId: 'f'.repeat(64), transition: 'open', eml: 'mail/x-critical-open-ffff.eml', html: 'mail/x-critical-open-ffff.html' });
    // --wide: one line per finding, whatever its length (the default wraps at 120 columns).
    const text = renderText(summary, { wide: true, cwd: '/home/u/shipscan' });
    expect(text).to.include('CRITICAL aws.ec2.sg-open-ingress ACTIVE arn:aws:ec2:us-east-1:123456789012:security-group/sg-1 by arn:aws:iam::123456789012:user/deployer');
    expect(text).to.include('emails (1, written to the run folder instead of sent):');
    expect(text).to.include('secops@example.com: [shipscan] CRITICAL opened: Security group sg-1 open to the internet');
    expect(text).to.include(path.join('.shipscan/runs/20261203T101010000Z-abcdef', 'mail/x-critical-open-ffff.eml'));
  });

  it('keeps the email lines within 120 columns when the run folder is far from the working directory', () => {
    // An --out under /tmp, as the end-to-end tests use: the run folder line fits, the email's path would not.
    const summary = { ...emptySummary(), resultsDir: '/tmp/shipscan-e2e-PHUZ2b/out/runs/20261203T183012692Z-00b9e5' };
    const eml = `mail/20261203182827000-critical-open-${'d'.repeat(16)}.eml`;
    summary.emails.push({ cloud: 'aws', channel: 'email', to: ['secops@example.com'], subject: 'x', findingId: 'd'.repeat(64), transition: 'open', eml, html: eml.replace(/eml$/, 'html') });
    const lines = renderText(summary, { wide: false, cwd: '/home/u/shipscan' }).split('\n');
    for (const line of lines) expect(line.length, line).to.be.at.most(120);
    // Too long whole: the path inside the run folder, which the footer names.
    expect(lines).to.include(`    ${eml}`);
    expect(renderText(summary, { wide: true }).split('\n')).to.include(`    ${summary.resultsDir}/${eml}`);
  });
});
