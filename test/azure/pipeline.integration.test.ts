import { expect } from 'chai';
import { startStack, type AzureStack } from './support/stack';
import type { ScanRow } from '../../functions/azure/scan-store';
import { parseScanResult } from '../../shared/scan-result';
import { parseImageReference } from '../../shared/image-reference';
import { imagePartitionKey } from '../../functions/azure/scan-store';

async function rowsOf(stack: AzureStack, table = 'ScanMetadata'): Promise<ScanRow[]> {
  const out: ScanRow[] = [];
  for await (const e of stack.table(table).listEntities<ScanRow>()) out.push(e as ScanRow);
  return out;
}

async function blobNames(stack: AzureStack, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  for await (const b of stack.blobs.getContainerClient('scan-results').listBlobsFlat({ prefix })) names.push(b.name);
  return names;
}

function partitionFor(ref: string): string {
  const r = parseImageReference(ref);
  return imagePartitionKey({ registry: r.registry, repository: r.repository, tag: r.tag, reference: r.canonical });
}

describe('azure pipeline on Azurite + ARM stub + Qualys simulator', function () {
  this.timeout(120_000);
  let stack: AzureStack;

  before(async () => {
    stack = await startStack();
    stack.app.settings.registryEndpoints['docker.io'] = stack.arm.endpoint;
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
    expect(row.BlobPath).to.match(/^docker\.io\/library\/nginx\/latest\/[0-9a-f-]+\.json$/);
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
});
