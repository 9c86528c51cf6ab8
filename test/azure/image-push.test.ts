import { expect } from 'chai';
import { InvocationContext } from '@azure/functions';
import { parseImageReference, type ImageReference } from '../../shared/image-reference';
import type { ScanTicket } from '../../shared/qualys/contracts';
import { classifyImagePush, IMAGE_PUSHED } from '../../functions/azure/image-push-event';
import { createOnDeployment, type DeploymentOutcome, type ScanEventDeps } from '../../functions/azure/on-deployment';
import { createOnImagePush } from '../../functions/azure/on-image-push';
import { parsePollMessage } from '../../functions/azure/poll-message';
import { MemoryTelemetry } from '../../functions/azure/telemetry';
import { imagePushEvent, registryId } from '../../local/demo/artifact-events';
import { memoryStores, type MemoryStores } from '../support/memory-storage';

const SUB = '6b1f5a2e-1c7d-4a51-9f3e-2d8c0a7b9e41';
const REGISTRY = registryId(SUB, 'rg-registries', 'shipscandemo');
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const push = (over: Partial<Parameters<typeof imagePushEvent>[0]> = {}) =>
  imagePushEvent({ registryId: REGISTRY, host: 'shipscandemo.azurecr.io', repository: 'shop/orders-api', tag: '1.5.0', digest: DIGEST, ...over });

describe('ACR ImagePushed events', () => {
  it('builds the image reference from host, repository, tag and digest (Event Grid schema)', () => {
    const c = classifyImagePush(push({ pushId: 'push-1' }));
    expect(c.kind).to.equal('deployment');
    if (c.kind !== 'deployment') return;
    expect(c.event.image).to.equal(`shipscandemo.azurecr.io/shop/orders-api:1.5.0@${DIGEST}`);
    expect(c.event).to.include({ containerType: 'ACR', subscriptionId: SUB, resourceGroup: 'rg-registries', operationName: IMAGE_PUSHED, correlationId: 'push-1' });
    expect(c.event.resourceId).to.equal(`${REGISTRY}/repositories/shop/orders-api`);
  });

  it('reads CloudEvents (source = the registry) and data sent as a JSON string', () => {
    for (const schema of ['eventgrid', 'cloudevents'] as const) {
      const c = classifyImagePush(push({ schema, dataAsString: true }));
      expect(c.kind, schema).to.equal('deployment');
      if (c.kind === 'deployment') expect(c.event.image).to.equal(`shipscandemo.azurecr.io/shop/orders-api:1.5.0@${DIGEST}`);
    }
  });

  it('a digest-only push scans the digest', () => {
    const c = classifyImagePush(push({ tag: undefined }));
    expect(c.kind === 'deployment' && c.event.image).to.equal(`shipscandemo.azurecr.io/shop/orders-api@${DIGEST}`);
  });

  it('ignores other registry events and pushes that are not images', () => {
    const deleted = { ...push(), eventType: 'Microsoft.ContainerRegistry.ImageDeleted' };
    expect(classifyImagePush(deleted)).to.deep.include({ kind: 'ignored', reason: 'event type Microsoft.ContainerRegistry.ImageDeleted' });
    const chart = classifyImagePush(push({ mediaType: 'application/vnd.cncf.helm.config.v1+json' }));
    expect(chart.kind).to.equal('ignored');
    const signature = classifyImagePush(push({ tag: `sha256-${'cd'.repeat(32)}.sig` }));
    expect(signature).to.deep.include({ kind: 'ignored' });
    expect(classifyImagePush(push({ mediaType: 'application/vnd.oci.image.index.v1+json' })).kind).to.equal('deployment');
  });

  it('refuses what cannot name an image or a registry', () => {
    const badDigest = classifyImagePush(push({ digest: 'sha256:xyz' }));
    expect(badDigest.kind).to.equal('malformed');
    const noTopic = push();
    delete noTopic.topic;
    expect(classifyImagePush(noTopic)).to.deep.include({ kind: 'malformed' });
    const badHost = push({ host: 'evil host/../x' });
    expect(classifyImagePush(badHost).kind).to.equal('malformed');
    const notARegistry = { ...push(), topic: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x` };
    expect(classifyImagePush(notARegistry).kind).to.equal('malformed');
  });
});

interface Harness {
  stores: MemoryStores;
  telemetry: MemoryTelemetry;
  submitted: ImageReference[];
  armReads: string[];
  onImagePush: ReturnType<typeof createOnImagePush>;
  onDeployment: ReturnType<typeof createOnDeployment>;
}

function harness(): Harness {
  const stores = memoryStores();
  const telemetry = new MemoryTelemetry();
  const submitted: ImageReference[] = [];
  const armReads: string[] = [];
  const deps: ScanEventDeps = {
    workflow: {
      async submit(image: ImageReference): Promise<ScanTicket> {
        submitted.push(image);
        return { v: 1, image: image.canonical, registry: image.registry, repository: image.repository, ...(image.tag ? { tag: image.tag } : {}), ...(image.digest ? { digest: image.digest } : {}), reused: false, submittedAt: new Date().toISOString() };
      },
    },
    digests: {
      resolve: async (ref) => {
        // A push carries its digest: the registry is never asked.
        if (!ref.digest) throw new Error(`registry lookup for ${ref.canonical}`);
        return { digest: ref.digest, note: 'digest in the reference' };
      },
    },
    store: stores.store,
    locks: stores.locks,
    dedupe: stores.dedupe,
    polls: stores.polls,
    pollDelay: () => 10,
    telemetry,
    parseImage: parseImageReference,
    cacheHours: 24,
    maxScanMinutes: 30,
    maxDequeueCount: 8,
  };
  const onDeployment = createOnDeployment({
    ...deps,
    workloads: {
      read: async (event) => {
        armReads.push(event.resourceId);
        return { kind: 'found', workload: { resourceId: event.resourceId, containerType: event.containerType, containers: [{ name: 'app', image: `shipscandemo.azurecr.io/shop/orders-api@${DIGEST}`, init: false }], registryServers: [] } };
      },
    },
  });
  return { stores, telemetry, submitted, armReads, onImagePush: createOnImagePush(deps), onDeployment };
}

let invocation = 0;
function context(id: string): InvocationContext {
  invocation += 1;
  return new InvocationContext({ invocationId: `inv-${invocation}`, triggerMetadata: { id, dequeueCount: 1 }, logHandler: () => undefined });
}

describe('onImagePush', () => {
  it('submits the pushed image to the Container Security API path with the repository as its workload', async () => {
    const h = harness();
    const out = (await h.onImagePush(Buffer.from(JSON.stringify(push({ dataAsString: true }))).toString('base64'), context('m1'))) as DeploymentOutcome;
    expect(out.events[0]!.outcome).to.equal('Accepted');
    expect(out.events[0]!.images).to.have.length(1);
    expect(out.events[0]!.images![0]).to.include({ kind: 'submitted' });
    expect(h.submitted.map((r) => r.canonical)).to.deep.equal([`shipscandemo.azurecr.io/shop/orders-api:1.5.0@${DIGEST}`]);
    expect(h.armReads).to.deep.equal([]);
    const poll = parsePollMessage(JSON.parse(Buffer.from(h.stores.pollQueue.messages[0]!.body, 'base64').toString('utf8')));
    expect(poll.containerType).to.equal('ACR');
    expect(poll.workload).to.deep.include({ resourceId: `${REGISTRY}/repositories/shop/orders-api`, subscriptionId: SUB, resourceGroup: 'rg-registries' });
    expect(poll.contentKey).to.equal(DIGEST);
  });

  it('a duplicate delivery of one push is handled once', async () => {
    const h = harness();
    const event = push({ pushId: 'push-dup' });
    await h.onImagePush(event, context('m1'));
    const again = (await h.onImagePush(event, context('m2'))) as DeploymentOutcome;
    expect(again.events[0]!.outcome).to.equal('Duplicate');
    expect(h.submitted).to.have.length(1);
    const dup = h.telemetry.events.filter((e) => e.name === 'ContainerDeploymentEvent' && e.properties.Outcome === 'Duplicate');
    expect(dup).to.have.length(1);
    expect(dup[0]!.properties.OperationName).to.equal(IMAGE_PUSHED);
  });

  it('shares the lock with deployments: a deployment of the digest while the push scan runs does not submit again', async () => {
    const h = harness();
    await h.onImagePush(push(), context('m1'));
    const message = {
      id: 'ev-dep',
      topic: `/subscriptions/${SUB}`,
      subject: `/subscriptions/${SUB}/resourceGroups/rg-shop/providers/Microsoft.ContainerInstance/containerGroups/orders`,
      eventType: 'Microsoft.Resources.ResourceWriteSuccess',
      data: { operationName: 'Microsoft.ContainerInstance/containerGroups/write', resourceUri: `/subscriptions/${SUB}/resourceGroups/rg-shop/providers/Microsoft.ContainerInstance/containerGroups/orders`, correlationId: 'corr-1' },
    };
    const out = (await h.onDeployment(message, context('m2'))) as DeploymentOutcome;
    expect(out.events[0]!.images![0]!.kind).to.equal('in-flight');
    expect(h.submitted).to.have.length(1);
  });

  it('records malformed pushes instead of throwing, and ignores other event types', async () => {
    const h = harness();
    const out = (await h.onImagePush([push({ digest: 'nope' }), { ...push(), eventType: 'Microsoft.ContainerRegistry.ChartPushed' }], context('m1'))) as DeploymentOutcome;
    expect(out.events.map((e) => e.outcome)).to.deep.equal(['Malformed', 'Ignored']);
    expect(h.submitted).to.have.length(0);
    expect([...h.stores.results.blobs.keys()].some((k) => k.startsWith('errors/messages/'))).to.equal(true);
  });
});
