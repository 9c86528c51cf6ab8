import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { imagePushEvent } from '../../local/demo/artifact-events';
import { classifyEvents } from '../../local/replay/detect';
import { corpusPath, loadCorpus } from '../support/corpus';

describe('replay: event shape detection', () => {
  const expected: Record<string, string> = {
    'eventgrid-': 'azure/eventgrid',
    'cloudevents-': 'azure/cloudevents',
    'eventbridge-': 'aws/eventbridge',
    'cloudtrail-raw-': 'aws/cloudtrail',
  };

  for (const folder of ['aws', 'azure']) {
    for (const file of readdirSync(corpusPath(folder)).filter((f) => !f.startsWith('api-') && !f.includes('subscriptionvalidation-response'))) {
      const prefix = Object.keys(expected).find((p) => file.startsWith(p));
      it(`classifies ${folder}/${file} as ${prefix ? expected[prefix] : '?'}`, () => {
        const items = classifyEvents(loadCorpus(`${folder}/${file}`));
        expect(items.length).to.be.greaterThan(0);
        for (const item of items) expect(`${item.cloud}/${item.shape}`).to.equal(expected[prefix ?? '']);
      });
    }
  }

  it('tells ACR pushes (either schema, any case of the type) from ARM events; other Event Grid types stay ARM events for the filter to drop', () => {
    const push = { registryId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r', host: 'r.azurecr.io', repository: 'a/b', tag: '1', digest: `sha256:${'0'.repeat(64)}` };
    const eventGrid = imagePushEvent(push);
    const cloudEvent = imagePushEvent({ ...push, schema: 'cloudevents', dataAsString: true });
    expect(classifyEvents([eventGrid, cloudEvent]).map((i) => `${i.kind}/${i.shape}`)).to.deep.equal(['image-push/eventgrid', 'image-push/cloudevents']);
    expect(classifyEvents({ ...eventGrid, eventType: 'microsoft.containerregistry.imagepushed' })[0]?.kind).to.equal('image-push');
    expect(classifyEvents({ ...eventGrid, eventType: 'Microsoft.ContainerRegistry.ImageDeleted' })[0]?.kind).to.equal('container-deployment');
  });

  it('unwraps a trail file ({ Records: [...] }) and arrays', () => {
    const record = (loadCorpus('aws/cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json') as unknown[])[0];
    expect(classifyEvents({ Records: [record, record] }).map((i) => i.shape)).to.deep.equal(['cloudtrail', 'cloudtrail']);
  });

  it('tells S3 object writes apart: data events raw, in their envelope and in a trail file, Object Created, notification records', () => {
    const record = loadCorpus<Record<string, unknown>>('aws/cloudtrail-raw-s3-PutObject-dataevent.elastic.json');
    const envelope = { version: '0', id: 'e', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.s3', account: '123456789012', region: 'us-east-1', time: 't', resources: [], detail: record };
    const lambda = (loadCorpus('aws/cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json') as unknown[])[0];
    const kinds = (document: unknown) => classifyEvents(document).map((item) => `${item.kind}/${item.shape}`);
    expect(kinds(record)).to.deep.equal(['s3-object/cloudtrail']);
    expect(kinds(envelope)).to.deep.equal(['s3-object/eventbridge']);
    expect(kinds({ Records: [record, lambda, { ...record, eventName: 'CompleteMultipartUpload' }, { ...record, eventName: 'CopyObject' }] })).to.deep.equal([
      's3-object/cloudtrail',
      'lambda-deployment/cloudtrail',
      's3-object/cloudtrail',
      's3-object/cloudtrail',
    ]);
    expect(kinds({ ...envelope, 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: { key: 'k' } } })).to.deep.equal(['s3-object/eventbridge']);
    expect(kinds({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', awsRegion: 'us-east-1', s3: { bucket: { name: 'b' }, object: { key: 'a+b' } } }] })).to.deep.equal(['s3-object/notification']);
    // Other S3 calls stay deployment events: the deployment rule drops them with its reason.
    expect(kinds({ ...record, eventName: 'DeleteObject' })).to.deep.equal(['lambda-deployment/cloudtrail']);
    expect(kinds(loadCorpus('aws/eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json'))).to.deep.equal(['lambda-deployment/eventbridge']);
    expect(kinds({ eventSource: 'aws:s3', eventName: 'ObjectRemoved:Delete', s3: {} })).to.deep.equal(['lambda-deployment/cloudtrail']);
  });

  it('recognises bulk targets and names what it expected for anything else', () => {
    expect(classifyEvents({ functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', reason: 'bulk' })[0]?.shape).to.equal('bulk');
    const [unknown] = classifyEvents({ hello: 'world' });
    expect(unknown?.cloud).to.equal('unknown');
    expect(unknown && 'reason' in unknown ? unknown.reason : '').to.include('CloudTrail record');
    expect(classifyEvents(42)[0]?.cloud).to.equal('unknown');
  });
});
