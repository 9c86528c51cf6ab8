import { expect } from 'chai';
import { loadCorpus } from '../support/corpus';
import { parseScanInput } from '../../functions/aws/scanner/scan-request';

type Json = Record<string, any>; // corpus events are free-form JSON

const options = { selfFunctionNames: new Set<string>() };
const DIGEST = `sha256:${'ab12'.repeat(16)}`;

function pushEvent(detail: Json = {}): Json {
  const sample = structuredClone(loadCorpus<Json>('aws/eventbridge-ecr-image-push.awsdocs.json'));
  sample.detail = { ...sample.detail, 'image-digest': DIGEST, ...detail };
  return sample;
}

describe('ECR push scan requests (trigger ecr-push)', () => {
  it('the published sample carries a shortened digest (60 hex): unrecognised with the reason, never scanned by tag', () => {
    const parsed = parseScanInput(loadCorpus('aws/eventbridge-ecr-image-push.awsdocs.json'), options);
    expect(parsed.kind).to.equal('unrecognised');
    expect((parsed as { reason: string }).reason).to.include('without a sha256 image digest');
  });

  it('a PUSH with SUCCESS becomes an image request by digest, in the account and region of the event', () => {
    const parsed = parseScanInput(pushEvent(), options);
    expect(parsed).to.deep.equal({
      kind: 'image',
      request: {
        account: '123456789012',
        region: 'us-west-2',
        repository: 'my-repository-name',
        digest: DIGEST,
        tag: 'latest',
        trigger: 'ecr-push',
        eventId: '13cde686-328b-6117-af20-0e5566167482',
        eventTime: '2019-11-16T01:54:34Z',
      },
    });
  });

  it('a digest-only push has no tag; nested repository names are kept', () => {
    const event = pushEvent({ 'repository-name': 'team/api/orders' });
    delete event.detail['image-tag'];
    const parsed = parseScanInput(event, options);
    expect(parsed.kind).to.equal('image');
    if (parsed.kind !== 'image') return;
    expect(parsed.request.tag).to.equal(undefined);
    expect(parsed.request.repository).to.equal('team/api/orders');
  });

  it('skips deletes and failed pushes; refuses bad repositories and accounts', () => {
    expect(parseScanInput(pushEvent({ 'action-type': 'DELETE' }), options)).to.deep.equal({ kind: 'skip', reason: 'ECR image action DELETE is not a push' });
    expect(parseScanInput(pushEvent({ result: 'FAILURE' }), options)).to.deep.equal({ kind: 'skip', reason: 'ECR push ended FAILURE' });
    expect(parseScanInput(pushEvent({ 'repository-name': '../Evil' }), options).kind).to.equal('unrecognised');
    expect(parseScanInput({ ...pushEvent(), account: '12345' }, options).kind).to.equal('unrecognised');
  });
});
