import { expect } from 'chai';
import { readdirSync } from 'node:fs';
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

  it('unwraps a trail file ({ Records: [...] }) and arrays', () => {
    const record = (loadCorpus('aws/cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json') as unknown[])[0];
    expect(classifyEvents({ Records: [record, record] }).map((i) => i.shape)).to.deep.equal(['cloudtrail', 'cloudtrail']);
  });

  it('recognises bulk targets and names what it expected for anything else', () => {
    expect(classifyEvents({ functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', reason: 'bulk' })[0]?.shape).to.equal('bulk');
    const [unknown] = classifyEvents({ hello: 'world' });
    expect(unknown?.cloud).to.equal('unknown');
    expect(unknown && 'reason' in unknown ? unknown.reason : '').to.include('CloudTrail record');
    expect(classifyEvents(42)[0]?.cloud).to.equal('unknown');
  });
});
