import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CONTAINER_SCAN_EVENT, EXCEPTION_COMPONENT_PROPERTY, HTTP_DEPENDENCY_TYPE } from '../../functions/azure/telemetry-names';

interface Envelope {
  name: string;
  data: { baseType: string; baseData: Record<string, unknown> & { properties?: Record<string, string> } };
}

describe('azure telemetry through the real applicationinsights client', function () {
  this.timeout(60_000);
  let dir: string;
  let envelopes: Envelope[] = [];

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'shipscan-ai-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    if (openssl.status !== 0) throw new Error(`openssl could not make a test certificate: ${openssl.stderr}`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'support', 'appinsights-child.ts'), key, cert], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: cert, APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true' },
      encoding: 'utf8',
      timeout: 50_000,
    });
    if (child.status !== 0) throw new Error(`telemetry child failed: ${child.stderr}`);
    envelopes = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Envelope[];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sends ContainerScan as a custom event with the documented customDimensions', () => {
    const event = envelopes.find((e) => e.data.baseType === 'EventData');
    expect(event?.data.baseData.name).to.equal(CONTAINER_SCAN_EVENT);
    expect(event?.data.baseData.properties).to.deep.include({ EventType: 'ScanCompleted', Image: 'docker.io/library/nginx:latest', ContainerType: 'ACI', ScanId: 'scan-1', Status: 'COMPLETED', VulnCritical: '2', VulnHigh: '3', VulnMedium: '4', VulnLow: '1', Duration: '61000' });
  });

  it('sends a Qualys call as an HTTP dependency named by endpoint family, targeting the gateway host', () => {
    const dep = envelopes.find((e) => e.data.baseType === 'RemoteDependencyData');
    expect(dep?.data.baseData).to.include({ name: 'Qualys images/list', type: HTTP_DEPENDENCY_TYPE, target: 'gateway.qg2.apps.qualys.com', resultCode: '429', success: false });
  });

  it('sends exceptions with Component, and redacted', () => {
    const ex = envelopes.find((e) => e.data.baseType === 'ExceptionData');
    expect(ex?.data.baseData.properties).to.deep.include({ [EXCEPTION_COMPONENT_PROPERTY]: 'pollScan', ScanId: 'scan-1' });
    expect(JSON.stringify(ex)).to.not.contain('abc123secret');
  });
});
