/**
 * Child process of appinsights.test.ts: sends telemetry through the real applicationinsights client
 * to a loopback HTTPS ingestion endpoint (the exporter insists on TLS; the test trusts the throwaway
 * certificate through NODE_EXTRA_CA_CERTS) and prints the envelopes it received as JSON.
 */
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { AppInsightsTelemetry } from '../../../functions/azure/telemetry';

async function main(): Promise<void> {
  const [keyFile, certFile] = process.argv.slice(2) as [string, string];
  const envelopes: unknown[] = [];
  const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      envelopes.push(...(JSON.parse(body.toString('utf8')) as unknown[]));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const telemetry = new AppInsightsTelemetry(`InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=https://127.0.0.1:${port}/`);
  telemetry.containerScan({ EventType: 'ScanCompleted', Image: 'docker.io/library/nginx:latest', ContainerType: 'ACI', ScanId: 'scan-1', Status: 'COMPLETED', VulnCritical: 2, VulnHigh: 3, VulnMedium: 4, VulnLow: 1, Duration: 61000 });
  telemetry.dependency({ name: 'Qualys images/list', target: 'gateway.qg2.apps.qualys.com', data: 'GET /csapi/v1.3/images', durationMs: 12, resultCode: '429', success: false });
  telemetry.exception(new Error('check failed with token=abc123secret'), 'pollScan', { ScanId: 'scan-1' });
  await telemetry.flush();
  for (let i = 0; i < 50 && envelopes.filter((e) => !JSON.stringify(e).includes('MetricData')).length < 3; i += 1) await new Promise((r) => setTimeout(r, 100));
  process.stdout.write(`${JSON.stringify(envelopes)}\n`);
  server.close();
  process.exit(0);
}

void main();
