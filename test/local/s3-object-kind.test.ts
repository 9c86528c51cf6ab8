import { expect } from 'chai';
import { classifyEvents, type ItemOfKind } from '../../local/replay/detect';
import { assignObjectFiles, objectFileFor, routeS3Object, s3ObjectLabel } from '../../local/start/kinds/s3-object';
import { RESULTS_BUCKET } from '../../local/stack/aws-stack';
import { objectCreatedEvent, s3CloudTrailEnvelope, s3WriteRecordVariant } from '../../local/demo/objects';
import { loadCorpus } from '../support/corpus';

type Json = Record<string, unknown>;

const sample = () => loadCorpus<Json>('aws/cloudtrail-raw-s3-PutObject-dataevent.elastic.json');
const target = { account: '123456789012', region: 'us-east-1', bucket: 'shop-releases', key: 'api/app 1.zip' };

function item(document: unknown): ItemOfKind<'s3-object'> {
  const [first] = classifyEvents(document);
  if (first?.kind !== 's3-object') throw new Error(`not an object event: ${first?.kind}`);
  return first;
}

describe('npm start: S3 object events (local/start/kinds/s3-object.ts)', () => {
  describe('routing through the stack\'s artifact rules', () => {
    it('wraps a raw data event in its envelope and delivers it; an envelope and Object Created pass their own rules', () => {
      const raw = s3WriteRecordVariant(sample(), target);
      const routed = routeS3Object(item(raw));
      expect(routed.deliver).to.equal(true);
      if (routed.deliver) expect(routed.body).to.include({ source: 'aws.s3', 'detail-type': 'AWS API Call via CloudTrail', account: '123456789012' });
      expect(routeS3Object(item(s3CloudTrailEnvelope(s3WriteRecordVariant(sample(), target, 'CompleteMultipartUpload')))).deliver).to.equal(true);
      expect(routeS3Object(item(objectCreatedEvent(target))).deliver).to.equal(true);
    });

    it('drops the stack\'s own bucket and failed calls with the rule that dropped them and why', () => {
      const own = routeS3Object(item(s3WriteRecordVariant(sample(), { ...target, bucket: RESULTS_BUCKET })));
      expect(own).to.deep.include({ deliver: false, by: 'EventBridge rule shipscan-local-objects' });
      if (!own.deliver) expect(own.reason).to.include(RESULTS_BUCKET);
      const ownCreated = routeS3Object(item(objectCreatedEvent({ ...target, bucket: RESULTS_BUCKET })));
      expect(ownCreated).to.deep.include({ deliver: false, by: 'EventBridge rule shipscan-local-objects-created' });
      const failed = s3WriteRecordVariant(sample(), target);
      failed.errorCode = 'AccessDenied';
      const verdict = routeS3Object(item(failed));
      expect(verdict.deliver).to.equal(false);
      if (!verdict.deliver) expect(verdict.reason).to.include('errorCode');
    });

    it('hands S3 notification records to the queue as S3 does (no rule in between)', () => {
      const record = { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', awsRegion: 'us-east-1', recipientAccountId: '123456789012', s3: { bucket: { name: 'b-one' }, object: { key: 'a+b.zip' } } };
      expect(routeS3Object(item(record))).to.deep.equal({ deliver: true, body: record });
    });

    it('labels an event by call, object and account, with the key decoded as its source encodes it', () => {
      expect(s3ObjectLabel(item(objectCreatedEvent(target)))).to.equal('PutObject s3://shop-releases/api/app 1.zip (123456789012, us-east-1)');
      expect(s3ObjectLabel(item(s3WriteRecordVariant(sample(), target, 'CopyObject')))).to.equal('CopyObject s3://shop-releases/api/app 1.zip (123456789012, us-east-1)');
    });
  });

  describe('--object files for the objects the events name', () => {
    const slots = [
      { bucket: 'a-bucket', key: 'x/app.zip' },
      { bucket: 'a-bucket', key: 'y/lib.jar' },
      { bucket: 'b-bucket', key: 'x/app.zip' },
      { bucket: 'a-bucket', key: 'x/app.zip' },
      { bucket: 'c-bucket', key: 'z/other.bin' },
    ];

    it('matches a file by the key\'s last segment, then hands out the unclaimed files in order', () => {
      const files = assignObjectFiles(slots, ['/tmp/first.bin', '/data/app.zip', '/tmp/second.bin']);
      expect(slots.map((slot) => objectFileFor(files, slot))).to.deep.equal(['/data/app.zip', '/tmp/first.bin', '/data/app.zip', '/data/app.zip', '/tmp/second.bin']);
    });

    it('lets one file stand for every object, and leaves objects without a file when the files run out', () => {
      const one = assignObjectFiles(slots, ['/tmp/only.bin']);
      expect(slots.map((slot) => objectFileFor(one, slot))).to.deep.equal(Array(5).fill('/tmp/only.bin'));
      const few = assignObjectFiles(slots, ['/tmp/p.bin', '/tmp/q.bin']);
      expect(slots.map((slot) => objectFileFor(few, slot))).to.deep.equal(['/tmp/p.bin', '/tmp/q.bin', undefined, '/tmp/p.bin', undefined]);
      expect(assignObjectFiles(slots, []).size).to.equal(0);
    });
  });
});
