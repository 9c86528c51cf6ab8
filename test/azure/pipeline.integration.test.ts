import { expect } from 'chai';
import { offMachineFetches, startStack, type AzureStack } from './support/stack';
import { rowsOf, blobNames } from './support/inspect';
import { odata } from '@azure/data-tables';

interface ScanRowLike {
  rowKey: string;
  Image: string;
  VulnCritical: number;
  VulnHigh: number;
}
import { parseScanResult } from '../../shared/scan-result';
import { parseImageReference } from '../../shared/image-reference';
import { imagePartitionKey } from '../../functions/azure/scan-store';


function partitionFor(ref: string): string {
  const r = parseImageReference(ref);
  return imagePartitionKey({ registry: r.registry, repository: r.repository, tag: r.tag, reference: r.canonical });
}

describe('azure pipeline on Azurite + ARM stub + Qualys simulator', function () {
  this.timeout(120_000);
  let stack: AzureStack;

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('scans an ACI deployment (corpus container group, image nginx) to a blob and a row matching the simulator', async () => {
    const msg = stack.deploy({ kind: 'ACI', name: 'demo1', images: ['nginx'], correlationId: 'corr-aci-1', eventId: 'ev-aci-1' });
    await stack.send(msg);
    await stack.pump.drain(60_000);
    const expected = stack.sim.expectedCounts('docker.io/library/nginx:latest');
    const rows = (await rowsOf(stack)).filter((r) => r.Image === 'docker.io/library/nginx:latest');
    expect(rows).to.have.length(1);
    const row = rows[0]!;
    expect(row).to.include({
      partitionKey: partitionFor('nginx'),
      Status: 'COMPLETED',
      ContainerType: 'ACI',
      VulnCritical: expected.critical,
      VulnHigh: expected.high,
      VulnMedium: expected.medium,
      VulnLow: expected.low,
      VulnInformational: expected.informational,
      VulnTotal: expected.total,
    });
    expect(row.ResourceId).to.match(/\/containerGroups\/demo1$/);
    const blob = stack.blobs.getContainerClient('scan-results').getBlobClient(row.BlobPath);
    const props = await blob.getProperties();
    expect(props.contentType).to.equal('application/json');
    expect(props.metadata).to.include({ scanid: row.rowKey, containertype: 'ACI', image: 'docker.io/library/nginx:latest' });
    const result = parseScanResult(JSON.parse((await blob.downloadToBuffer()).toString()));
    expect(result.scanId).to.equal(row.rowKey);
    expect(result.counts).to.deep.equal(expected);
    expect(result.target.workload).to.include({ type: 'aci', account: '6b1f5a2e-1c7d-4a51-9f3e-2d8c0a7b9e41' });
    // The stack is hermetic: the registry stub resolved the tag to the digest the simulator knows, and the
    // result is filed under the digest, as it would be against Docker Hub. Nothing went off the machine.
    const digest = stack.sim.findImage('docker.io/library/nginx:latest')!.digest;
    expect(row.Digest).to.equal(digest);
    expect(row.BlobPath).to.equal(`docker.io/library/nginx/${digest.replace(':', '-')}/${row.rowKey}.json`);
    expect(stack.arm.requests.some((r) => r.path === '/v2/library/nginx/manifests/latest' && r.status === 200), 'the registry stub answered').to.equal(true);
    expect(offMachineFetches).to.deep.equal([]);
    const scans = stack.telemetry.scans.filter((s) => s.ScanId === row.rowKey);
    expect(scans).to.have.length(1);
    expect(scans[0]).to.include({ EventType: 'ScanCompleted', Status: 'COMPLETED', ContainerType: 'ACI', VulnCritical: String(expected.critical), VulnHigh: String(expected.high) });
    expect(Number(scans[0]!.Duration)).to.be.greaterThan(0);
  });

  it('scans an ACA deployment (corpus container app, container + init container of one image) once, CloudEvents schema', async () => {
    const msg = stack.deploy({ kind: 'ACA', name: 'testcontainerapp0', images: ['repo/testcontainerapp0:v4'], initImages: ['repo/testcontainerapp0:v4'], correlationId: 'corr-aca-1', eventId: 'ev-aca-1', schema: 'cloudevents' });
    await stack.send(msg);
    await stack.pump.drain(60_000);
    const expected = stack.sim.expectedCounts('docker.io/repo/testcontainerapp0:v4');
    const rows = (await rowsOf(stack)).filter((r) => r.Image === 'docker.io/repo/testcontainerapp0:v4');
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ Status: 'COMPLETED', ContainerType: 'ACA', VulnTotal: expected.total, VulnCritical: expected.critical, VulnHigh: expected.high });
    expect(await blobNames(stack, 'docker.io/repo/testcontainerapp0/')).to.have.length(1);
  });

  it('records an unparsable image as FAILED under errors/ and still scans the others of the workload', async () => {
    const msg = stack.deploy({ kind: 'ACI', name: 'mixed', images: ['Not A Valid//Image', 'shipscandemo.azurecr.io/shop/orders-api:1.4.2'], correlationId: 'corr-mixed', eventId: 'ev-mixed' });
    await stack.send(msg);
    await stack.pump.drain(60_000);
    const rows = await rowsOf(stack);
    const bad = rows.filter((r) => r.Image === 'Not A Valid//Image');
    expect(bad).to.have.length(1);
    expect(bad[0]!.Status).to.equal('FAILED');
    expect(bad[0]!.Reason).to.contain('cannot be parsed');
    expect(bad[0]!.BlobPath).to.match(/^errors\/unparsable\//);
    const good = rows.filter((r) => r.Image === 'shipscandemo.azurecr.io/shop/orders-api:1.4.2');
    expect(good).to.have.length(1);
    expect(good[0]!.VulnTotal).to.equal(stack.sim.expectedCounts('shipscandemo.azurecr.io/shop/orders-api:1.4.2').total);
  });

  it('resolves tags to digests through the registry (ACR token exchange) and reuses a scan for another tag of the same digest', async () => {
    const image = stack.sim.registerImage({
      registry: 'shipscandemo.azurecr.io',
      repository: 'shop/catalog',
      tags: ['1.0.0', 'stable'],
      vulns: [
        { qid: 178905, package: 'expat', version: '2.5.0-1' },
        { qid: 179201, package: 'openssl', version: '3.0.11-1' },
      ],
    });
    stack.arm.setManifest('shop/catalog', '1.0.0', image.digest);
    stack.arm.setManifest('shop/catalog', 'stable', image.digest);
    await stack.send(stack.deploy({ kind: 'ACI', name: 'catalog', images: ['shipscandemo.azurecr.io/shop/catalog:1.0.0'], correlationId: 'corr-cat-1', eventId: 'ev-cat-1' }));
    await stack.pump.drain(60_000);
    const rows = (await rowsOf(stack)).filter((r) => r.Image === 'shipscandemo.azurecr.io/shop/catalog:1.0.0');
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ Digest: image.digest, Status: 'COMPLETED', VulnCritical: 1, VulnHigh: 1, VulnTotal: 2 });
    expect(rows[0]!.BlobPath).to.equal(`shipscandemo.azurecr.io/shop/catalog/${image.digest.replace(':', '-')}/${rows[0]!.rowKey}.json`);
    expect(stack.arm.requests.some((r) => r.path === '/oauth2/exchange')).to.equal(true);

    const callsBefore = stack.sim.callLog.length;
    await stack.send(stack.deploy({ kind: 'ACA', name: 'catalog-app', images: ['shipscandemo.azurecr.io/shop/catalog:stable'], correlationId: 'corr-cat-2', eventId: 'ev-cat-2' }));
    await stack.pump.drain(30_000);
    expect(stack.sim.callLog.length, 'no Qualys call for a digest scanned within CACHE_HOURS').to.equal(callsBefore);
    const hit = stack.telemetry.scans.find((s) => s.EventType === 'CacheHit' && s.Image === 'shipscandemo.azurecr.io/shop/catalog:stable');
    expect(hit).to.include({ ScanId: rows[0]!.rowKey, Digest: image.digest, Status: 'CACHED', VulnCritical: '1' });
    // The new workload has a row of its own, under its own image partition, pointing at the reused result.
    const cachedRows = (await rowsOf(stack)).filter((r) => r.Image === 'shipscandemo.azurecr.io/shop/catalog:stable');
    expect(cachedRows).to.have.length(1);
    expect(cachedRows[0]).to.include({
      partitionKey: partitionFor('shipscandemo.azurecr.io/shop/catalog:stable'),
      Status: 'CACHED',
      CacheHit: true,
      SourceScanId: rows[0]!.rowKey,
      BlobPath: rows[0]!.BlobPath,
      Digest: image.digest,
      ContainerType: 'ACA',
      VulnCritical: 1,
      VulnHigh: 1,
      VulnTotal: 2,
    });
    expect(cachedRows[0]!.ResourceId).to.match(/\/containerApps\/catalog-app$/);
    expect(cachedRows[0]!.rowKey).to.not.equal(rows[0]!.rowKey);
    expect(rows[0]!.CacheHit).to.equal(false);
  });

  it("keeps the seed's Table query patterns working: by image partition, recent scans, critical/high filter", async () => {
    const table = stack.table('ScanMetadata');
    const nginx = partitionFor('nginx');
    const byImage: ScanRowLike[] = [];
    for await (const e of table.listEntities<ScanRowLike>({ queryOptions: { filter: odata`PartitionKey eq ${nginx}` } })) byImage.push(e);
    expect(byImage.length).to.equal(1);
    expect(byImage[0]!.Image).to.equal('docker.io/library/nginx:latest');
    const since = new Date(Date.now() - 3600_000);
    const recent: ScanRowLike[] = [];
    for await (const e of table.listEntities<ScanRowLike>({ queryOptions: { filter: odata`Timestamp ge ${since}` } })) recent.push(e);
    const all = await rowsOf(stack);
    expect(recent.length).to.equal(all.length);
    const severe: ScanRowLike[] = [];
    for await (const e of table.listEntities<ScanRowLike>({ queryOptions: { filter: 'VulnCritical gt 0 or VulnHigh gt 0' } })) severe.push(e);
    const expectedSevere = all.filter((r) => r.VulnCritical > 0 || r.VulnHigh > 0).map((r) => r.rowKey).sort();
    expect(expectedSevere.length).to.be.greaterThan(0);
    expect(severe.map((r) => r.rowKey).sort()).to.deep.equal(expectedSevere);
  });
});
