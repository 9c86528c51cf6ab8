import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { classifyEvents } from '../../local/replay/detect';
import { readArmFiles } from '../../local/start/arm-resources';
import { replayerOf } from '../../local/start/kinds';
import { parseObjectEvent } from '../../functions/aws/artifacts/object-event';

const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'local', 'examples');

describe('ready examples (local/examples/)', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

  it('cover ACI and ACA writes and ACR pushes in both schemas, a Lambda CreateFunction, a bulk target, AWS and Azure security events in each shape, and S3 object writes (raw, envelope, trail file, Object Created)', () => {
    const shapes = files.flatMap((file) => classifyEvents(JSON.parse(readFileSync(path.join(DIR, file), 'utf8'))).map((item) => `${item.kind}/${item.shape}`));
    expect(shapes.sort()).to.deep.equal([
      'aws-security-event/cloudtrail',
      'aws-security-event/cloudtrail',
      'aws-security-event/cloudtrail',
      'aws-security-event/eventbridge',
      'azure-security-event/cloudevents',
      'azure-security-event/eventgrid',
      'azure-security-event/eventgrid',
      'container-deployment/cloudevents',
      'container-deployment/cloudevents',
      'container-deployment/eventgrid',
      'container-deployment/eventgrid',
      'image-push/cloudevents',
      'image-push/eventgrid',
      'lambda-deployment/bulk',
      'lambda-deployment/eventbridge',
      's3-object/cloudtrail',
      's3-object/cloudtrail',
      's3-object/cloudtrail',
      's3-object/eventbridge',
      's3-object/eventbridge',
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
    for (const file of readdirSync(path.join(DIR, 'objects'))) expect(readme, file).to.include(`local/examples/objects/${file}`);
  });

  it('name only objects that a file in local/examples/objects/ stands for (matched by the key\'s last segment)', () => {
    const objects = readdirSync(path.join(DIR, 'objects'));
    for (const file of files) {
      for (const item of classifyEvents(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')))) {
        if (item.kind !== 's3-object') continue;
        const parsed = parseObjectEvent(item.event);
        expect(parsed.kind, file).to.equal('object');
        if (parsed.kind === 'object') expect(objects, `${file}: ${parsed.request.key}`).to.include(parsed.request.key.split('/').pop());
      }
    }
  });

  it('each security example has the GET body of the resource its event names in arm/ (for --arm)', () => {
    const security = files.flatMap((file) =>
      classifyEvents(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')))
        .filter((item) => item.kind === 'azure-security-event')
        .map((item) => ({ file, item })),
    );
    expect(security).to.have.length(3);
    for (const { file, item } of security) {
      const body = readArmFiles([path.join(DIR, 'arm', file.replace(/\.(eventgrid|cloudevents)\.json$/, '.json'))]);
      const data = item.event.data as { resourceUri: string };
      expect(body.map((r) => r.id.toLowerCase()), file).to.deep.equal([data.resourceUri.toLowerCase()]);
    }
  });
});
