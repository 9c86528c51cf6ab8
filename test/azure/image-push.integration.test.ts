import { expect } from 'chai';
import { parseImageReference } from '../../shared/image-reference';
import { parseScanResult } from '../../shared/scan-result';
import { imagePushEvent, registryId } from '../../local/demo/artifact-events';
import { startStack, SUBSCRIPTION, type AzureStack } from './support/stack';
import { blobNames, readBlobJson, rowsOf, schedulesFor } from './support/inspect';

/**
 * ACR pushes end to end on loopback: the event (Event Grid schema or CloudEvents, `data` as an object or as a
 * JSON string) on the `image-pushes` queue, onImagePush, the Container Security API simulator, pollScan, and
 * the result in Blob + Table storage. The simulator holds the pushed image under the event's digest.
 */
describe('azure registry pushes (onImagePush) on Azurite and the Qualys simulator', function () {
  this.timeout(180_000);
  let stack: AzureStack;
  const REGISTRY = registryId(SUBSCRIPTION, 'rg-registries', 'shipscandemo');
  const HOST = 'shipscandemo.azurecr.io';

  /** The image exists at Qualys under the digest the push announces, with a few findings. */
  function known(repository: string, tag: string): string {
    const image = stack.sim.registerImage({ registry: HOST, repository, tags: [tag], vulns: [{ qid: 178905, package: 'libexpat1', version: '2.5.0-1' }, { qid: 179201, package: 'libssl3', version: '3.0.13-1' }] });
    return image.digest;
  }
  const send = async (event: unknown) => {
    await stack.queues.getQueueClient('image-pushes').sendMessage(Buffer.from(JSON.stringify(event)).toString('base64'));
  };

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  for (const [schema, dataAsString] of [
    ['eventgrid', false],
    ['cloudevents', false],
    ['eventgrid', true],
    ['cloudevents', true],
  ] as const) {
    it(`a push (${schema}, data ${dataAsString ? 'as a JSON string' : 'as an object'}) is scanned through the CS API and stored with the repository as its workload`, async () => {
      const repository = `shop/push-${schema}-${dataAsString ? 'text' : 'object'}`;
      const digest = known(repository, '1.0.0');
      await send(imagePushEvent({ registryId: REGISTRY, host: HOST, repository, tag: '1.0.0', digest, schema, dataAsString }));
      await stack.pump.drain(90_000);
      const rows = (await rowsOf(stack)).filter((r) => r.Image.startsWith(`${HOST}/${repository}`));
      expect(rows, JSON.stringify(rows)).to.have.length(1);
      expect(rows[0]).to.include({ Status: 'COMPLETED', ContainerType: 'ACR', Digest: digest, ResourceId: `${REGISTRY}/repositories/${repository}` });
      // Never scanned at Qualys before: one on-demand registry schedule for it.
      expect(schedulesFor(stack, repository)).to.equal(1);
      const stored = parseScanResult(await readBlobJson(stack, rows[0]!.BlobPath));
      expect(stored.target).to.deep.include({ cloud: 'azure', kind: 'container-image' });
      expect(stored.target.image).to.deep.include({ registry: HOST, repository, tag: '1.0.0', digest });
      expect(stored.target.workload).to.deep.equal({ resourceId: `${REGISTRY}/repositories/${repository}`, type: 'registry', account: SUBSCRIPTION, region: 'unknown', resourceGroup: 'rg-registries' });
      expect(stored.counts).to.deep.equal(stack.sim.expectedCounts(`${HOST}/${repository}:1.0.0`));
      const events = stack.telemetry.scans.filter((s) => s.ContainerType === 'ACR' && s.Image?.includes(repository));
      expect(events.map((e) => e.EventType)).to.deep.equal(['ScanCompleted']);
    });
  }

  it('a duplicate delivery of one push is scanned once; a deployment of the pushed image afterwards is a cache hit', async () => {
    const repository = 'shop/checkout';
    const digest = known(repository, '2.1.0');
    const event = imagePushEvent({ registryId: REGISTRY, host: HOST, repository, tag: '2.1.0', digest, pushId: 'push-checkout-1' });
    await Promise.all([send(event), send(event)]);
    await stack.pump.drain(90_000);
    expect(schedulesFor(stack, repository)).to.equal(1);
    const pushRows = (await rowsOf(stack)).filter((r) => r.Image.startsWith(`${HOST}/${repository}`));
    expect(pushRows.map((r) => r.Status)).to.deep.equal(['COMPLETED']);
    expect(await blobNames(stack, `${HOST}/${repository}/`)).to.have.length(1);
    const duplicates = stack.telemetry.events.filter((e) => e.name === 'ContainerDeploymentEvent' && e.properties.Outcome === 'Duplicate' && e.properties.OperationName === 'Microsoft.ContainerRegistry.ImagePushed');
    expect(duplicates).to.have.length(1);

    // Deployed later by digest: no second scan, a row of its own that reuses the push's result.
    const reference = parseImageReference(`${HOST}/${repository}@${digest}`).canonical;
    await stack.send(stack.deploy({ kind: 'ACI', name: 'checkout', images: [reference], correlationId: 'corr-checkout', eventId: 'ev-checkout' }));
    await stack.pump.drain(90_000);
    expect(schedulesFor(stack, repository)).to.equal(1);
    const deployed = (await rowsOf(stack)).filter((r) => r.ContainerType === 'ACI' && r.Digest === digest);
    expect(deployed.map((r) => r.Status)).to.deep.equal(['CACHED']);
    expect(deployed[0]!.SourceScanId).to.equal(pushRows[0]!.rowKey);
  });
});
