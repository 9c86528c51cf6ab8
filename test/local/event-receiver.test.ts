import { expect } from 'chai';
import { request } from 'undici';
import { startEventReceiver, type EventReceiver } from '../../local/serve/event-receiver';
import type { ReplayItem } from '../../local/replay/detect';
import { loadCorpus } from '../support/corpus';

describe('--serve event receiver (real HTTP)', () => {
  let receiver: EventReceiver;
  const azure: ReplayItem[] = [];
  const aws: ReplayItem[] = [];

  before(async () => {
    receiver = await startEventReceiver({
      azure: async (items) => void azure.push(...items),
      aws: async (items) => void aws.push(...items),
    });
  });
  after(() => receiver.stop());

  it('completes the Event Grid subscription validation handshake with the published sample', async () => {
    const response = await request(`${receiver.url}/eventgrid`, {
      method: 'POST',
      headers: { 'aeg-event-type': 'SubscriptionValidation', 'content-type': 'application/json' },
      body: JSON.stringify(loadCorpus('azure/eventgrid-subscriptionvalidationevent.azuredocs.json')),
    });
    expect(response.statusCode).to.equal(200);
    expect(await response.body.json()).to.deep.equal(loadCorpus('azure/eventgrid-subscriptionvalidation-response.azuredocs.json'));
    expect(azure).to.have.length(0);
  });

  it('answers the CloudEvents abuse-protection OPTIONS request', async () => {
    const response = await request(`${receiver.url}/eventgrid`, { method: 'OPTIONS', headers: { 'webhook-request-origin': 'eventgrid.azure.net' } });
    expect(response.statusCode).to.equal(200);
    expect(response.headers['webhook-allowed-origin']).to.equal('eventgrid.azure.net');
    await response.body.dump();
  });

  it('delivers Event Grid and CloudEvents notifications to the Azure pipeline', async () => {
    for (const file of ['azure/eventgrid-resourcewritesuccess-storage.azuredocs.json', 'azure/cloudevents-resourcewritesuccess.azure-sdk-for-go-test.json']) {
      const response = await request(`${receiver.url}/eventgrid`, { method: 'POST', body: JSON.stringify(loadCorpus(file)) });
      expect(response.statusCode).to.equal(202);
      await response.body.dump();
    }
    expect(azure.map((item) => item.shape)).to.deep.equal(['eventgrid', 'cloudevents']);
  });

  it('delivers CloudTrail records to the AWS pipeline and rejects the wrong cloud with a reason', async () => {
    const ok = await request(`${receiver.url}/eventbridge`, {
      method: 'POST',
      body: JSON.stringify(loadCorpus('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json')),
    });
    expect(ok.statusCode).to.equal(202);
    await ok.body.dump();
    expect(aws.map((item) => item.shape)).to.deep.equal(['cloudtrail']);

    const wrong = await request(`${receiver.url}/eventbridge`, {
      method: 'POST',
      body: JSON.stringify(loadCorpus('azure/eventgrid-resourcewritesuccess-storage.azuredocs.json')),
    });
    expect(wrong.statusCode).to.equal(400);
    expect(((await wrong.body.json()) as { error: string }).error).to.include('EventBridge');
    const junk = await request(`${receiver.url}/eventgrid`, { method: 'POST', body: 'not json' });
    expect(junk.statusCode).to.equal(400);
    await junk.body.dump();
  });
});
