import { expect } from 'chai';
import { startStack, SUBSCRIPTION, RESOURCE_GROUP, type AzureStack } from './support/stack';
import { rowsOf, blobNames, schedulesFor } from './support/inspect';
import { deploymentEventVariant } from '../../local/arm-stub/variants';
import { loadCorpus } from '../support/corpus';

describe('azure duplicate deliveries', function () {
  this.timeout(120_000);
  let stack: AzureStack;

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('one deployment event delivered 3 times produces one scan', async () => {
    // Not orders-api: its digest has a recent Qualys scan, reused without a schedule to count.
    const msg = stack.deploy({ kind: 'ACI', name: 'triple', images: ['docker.io/repo/testcontainerapp0:v4'], correlationId: 'corr-triple', eventId: 'ev-triple' });
    await Promise.all([stack.send(msg), stack.send(msg), stack.send(msg)]);
    await stack.pump.drain(60_000);
    const rows = (await rowsOf(stack)).filter((r) => r.Image === 'docker.io/repo/testcontainerapp0:v4');
    expect(rows).to.have.length(1);
    expect(rows[0]!.Status).to.equal('COMPLETED');
    expect(schedulesFor(stack, 'repo/testcontainerapp0')).to.equal(1);
    expect(await blobNames(stack, 'docker.io/repo/testcontainerapp0/')).to.have.length(1);
    const deliveries = stack.pump.invocations.filter((i) => i.function === 'onDeployment' && JSON.stringify(i.result ?? '').includes('ev-triple'));
    expect(deliveries).to.have.length(3);
    const duplicates = stack.telemetry.events.filter((e) => e.name === 'ContainerDeploymentEvent' && e.properties.Outcome === 'Duplicate' && e.properties.ResourceId?.endsWith('/triple'));
    expect(duplicates).to.have.length(2);
  });

  it('the two-event quirk (temporary /deployments/ URI, then the real one, one correlation id) produces one scan', async () => {
    const real = stack.deploy({ kind: 'ACA', name: 'quirk', images: ['shipscandemo.azurecr.io/shop/web-frontend:2.0.0'], correlationId: 'corr-quirk', eventId: 'ev-quirk-2' });
    const temporary = deploymentEventVariant(loadCorpus('azure/eventgrid-resourcewritesuccess-storage.azuredocs.json'), {
      kind: 'ACA',
      resourceUri: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/deployments/Microsoft.ContainerApp-20260115090000`,
      correlationId: 'corr-quirk',
      eventId: 'ev-quirk-1',
    });
    await stack.send(temporary);
    await stack.send(real);
    await stack.send(real); // at-least-once: the real one again
    await stack.pump.drain(60_000);
    const rows = (await rowsOf(stack)).filter((r) => r.Image === 'shipscandemo.azurecr.io/shop/web-frontend:2.0.0');
    expect(rows).to.have.length(1);
    expect(schedulesFor(stack, 'shop/web-frontend')).to.equal(1);
    const ignored = stack.telemetry.events.filter((e) => e.name === 'ContainerDeploymentEvent' && e.properties.Outcome === 'Ignored');
    expect(ignored.some((e) => e.properties.Count === '1' && e.properties.Reason?.includes('temporary deployment resource'))).to.equal(true);
  });

  it('two workloads deploying the same image at once share one scan; a later deployment is a cache hit', async () => {
    const image = 'shipscandemo.azurecr.io/shop/reports:3.3.1';
    const a = stack.deploy({ kind: 'ACI', name: 'reports-a', images: [image], correlationId: 'corr-ra', eventId: 'ev-ra' });
    const b = stack.deploy({ kind: 'ACA', name: 'reports-b', images: [image], correlationId: 'corr-rb', eventId: 'ev-rb' });
    await Promise.all([stack.send(a), stack.send(b)]);
    await stack.pump.drain(90_000);
    expect(schedulesFor(stack, 'shop/reports')).to.equal(1);
    const skipped = stack.telemetry.scans.filter((s) => s.Image === image && s.EventType === 'DuplicateSkipped');
    expect(skipped).to.have.length(1);
    // The workload that waited is not left without a result: once the shared scan is stored it gets a
    // row of its own (the cache hit), pointing at that scan's result.
    const shared = await rowsOf(stack);
    const scanned = shared.filter((r) => r.Image === image && r.Status === 'COMPLETED');
    expect(scanned).to.have.length(1);
    const waiter = shared.filter((r) => r.Image === image && r.Status === 'CACHED');
    expect(waiter).to.have.length(1);
    expect(waiter[0]).to.include({ CacheHit: true, SourceScanId: scanned[0]!.rowKey, BlobPath: scanned[0]!.BlobPath, VulnTotal: scanned[0]!.VulnTotal });
    expect([scanned[0]!.ResourceId, waiter[0]!.ResourceId].map((id) => id.split('/').pop()).sort()).to.deep.equal(['reports-a', 'reports-b']);
    expect(skipped[0]!.ResourceId).to.equal(waiter[0]!.ResourceId);

    const callsBefore = stack.sim.callLog.length;
    const c = stack.deploy({ kind: 'ACI', name: 'reports-c', images: [image], correlationId: 'corr-rc', eventId: 'ev-rc' });
    await stack.send(c);
    await stack.pump.drain(30_000);
    expect(stack.sim.callLog.length).to.equal(callsBefore);
    const hits = stack.telemetry.scans.filter((s) => s.Image === image && s.EventType === 'CacheHit' && s.ResourceId?.endsWith('/reports-c'));
    expect(hits).to.have.length(1);
    expect(hits[0]!.Status).to.equal('CACHED');
    const rows = (await rowsOf(stack)).filter((r) => r.Image === image);
    expect(rows.map((r) => r.ResourceId.split('/').pop()).sort()).to.deep.equal(['reports-a', 'reports-b', 'reports-c']);
  });
});
