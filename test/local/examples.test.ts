import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { classifyEvents } from '../../local/replay/detect';
import { replayerOf } from '../../local/start/kinds';

const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'local', 'examples');

describe('ready examples (local/examples/)', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

  it('cover ACI and ACA writes and ACR pushes in both schemas, a Lambda CreateFunction, a bulk target and AWS security events in each shape', () => {
    const shapes = files.flatMap((file) => classifyEvents(JSON.parse(readFileSync(path.join(DIR, file), 'utf8'))).map((item) => `${item.kind}/${item.shape}`));
    expect(shapes.sort()).to.deep.equal([
      'aws-security-event/cloudtrail',
      'aws-security-event/cloudtrail',
      'aws-security-event/cloudtrail',
      'aws-security-event/eventbridge',
      'container-deployment/cloudevents',
      'container-deployment/cloudevents',
      'container-deployment/eventgrid',
      'container-deployment/eventgrid',
      'image-push/cloudevents',
      'image-push/eventgrid',
      'lambda-deployment/bulk',
      'lambda-deployment/eventbridge',
    ]);
  });

  for (const file of files) {
    it(`${file} passes the stack's own routing (EventBridge rule or Event Grid filter)`, () => {
      for (const item of classifyEvents(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')))) {
        expect(item.kind).to.not.equal('unknown');
        if (item.kind === 'unknown') continue;
        const route = replayerOf(item).route(item);
        expect(route.deliver, route.deliver ? '' : route.reason).to.equal(true);
      }
    });
  }

  it('are each named in the README', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const file of files) expect(readme, file).to.include(`local/examples/${file}`);
  });
});
