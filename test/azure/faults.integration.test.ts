import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startStack, type AzureStack } from './support/stack';
import { rowsOf, blobNames, readBlobJson, poisonCount } from './support/inspect';
import { loadCorpus } from '../support/corpus';
import { InvocationContext } from '@azure/functions';
import { MAX_DEQUEUE_COUNT } from '../../functions/azure/host-settings';
import { QualysRequestError } from '../../shared/qualys/errors';
import { imagePartitionKey } from '../../functions/azure/scan-store';

const IMAGES = [
  'shipscandemo.azurecr.io/shop/orders-api:1.4.2',
  'shipscandemo.azurecr.io/shop/web-frontend:2.0.0',
  'azcloudconsoleregistry.azurecr.io/aci-helloworld:v1',
  'nginx:1.27',
  'repo/testcontainerapp0:v4',
];

describe('azure runtime under faults', function () {
  this.timeout(180_000);

  describe('Qualys 5xx and a 429 storm', () => {
    let stack: AzureStack;
    before(async () => {
      stack = await startStack({ sim: { faults: { serverErrorRate: 0.2 }, randomSeed: 7 } });
    });
    after(async () => {
      await stack?.stop();
    });

    it('completes every scan with 20% of Qualys calls failing 5xx, a 429 storm and a budget of 4 calls per minute', async () => {
      stack.sim.setRateLimit({ global: { limit: 4, windowSec: 60 } });
      // The client paces itself from the headers, so the storm is injected on top of the tight budget.
      stack.sim.injectFault({ kind: 'status', status: 429, times: 12, path: '/csapi/' });
      for (const [i, image] of IMAGES.entries()) {
        await stack.send(stack.deploy({ kind: i % 2 ? 'ACA' : 'ACI', name: `storm-${i}`, images: [image], correlationId: `corr-storm-${i}`, eventId: `ev-storm-${i}` }));
      }
      await stack.pump.drain(150_000);
      const rows = await rowsOf(stack);
      for (const image of IMAGES) {
        const canonical = image.includes('/') && image.split('/')[0]!.includes('.') ? image : `docker.io/${image.includes('/') ? image : `library/${image}`}`;
        const mine = rows.filter((r) => r.Image === canonical);
        expect(mine, canonical).to.have.length(1);
        expect(mine[0]!.Status, `${canonical}: ${mine[0]!.Reason}`).to.equal('COMPLETED');
        expect(mine[0]!.VulnTotal, canonical).to.equal(stack.sim.expectedCounts(canonical).total);
      }
      const statuses = stack.sim.callLog.map((c) => c.status);
      expect(statuses.filter((s) => s === 429).length, '429s seen').to.be.greaterThan(0);
      expect(statuses.filter((s) => s >= 500).length, '5xx seen').to.be.greaterThan(0);
      expect(await poisonCount(stack, 'deployments')).to.equal(0);
      expect(await poisonCount(stack, 'scan-polls')).to.equal(0);
      // Every Qualys call was reported as a dependency named by its endpoint family.
      const deps = stack.telemetry.dependencies;
      expect(deps.length).to.be.greaterThan(0);
      expect(new Set(deps.map((d) => d.name.split(' ')[0]))).to.deep.equal(new Set(['Qualys']));
      expect(deps.some((d) => d.resultCode === '429' && !d.success)).to.equal(true);
      expect(deps.every((d) => d.target === new URL(stack.sim.url).host)).to.equal(true);
    });
  });

  describe('crashes, bad input, gone workloads and permanent failures', () => {
    let stack: AzureStack;
    let webhook: Server;
    const posts: string[] = [];
    let webhookFailures = 0;

    before(async () => {
      webhook = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          if (webhookFailures > 0) {
            webhookFailures -= 1;
            res.writeHead(500).end();
            return;
          }
          posts.push(body);
          res.writeHead(200).end('1');
        });
      });
      await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
      const port = (webhook.address() as AddressInfo).port;
      stack = await startStack({ env: { MAX_SCAN_MINUTES: '5', ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook/secret-path-9f8e7d`, SEVERITY_THRESHOLD: 'HIGH' } });
    });
    after(async () => {
      await stack?.stop();
      await new Promise((r) => webhook?.close(r));
    });

    it('a crash between check and store is redelivered and ends with exactly one result', async () => {
      const store = stack.app.stores.store;
      const original = store.save.bind(store);
      let crashes = 0;
      store.save = async (req) => {
        if (req.status === 'COMPLETED' && crashes === 0) {
          crashes += 1;
          throw new Error('simulated worker crash after check, before store');
        }
        return original(req);
      };
      try {
        await stack.send(stack.deploy({ kind: 'ACI', name: 'crashy', images: ['nginx:1.27.2'], correlationId: 'corr-crash', eventId: 'ev-crash' }));
        await stack.pump.drain(60_000);
      } finally {
        store.save = original;
      }
      expect(crashes).to.equal(1);
      const rows = (await rowsOf(stack)).filter((r) => r.Image === 'docker.io/library/nginx:1.27.2');
      expect(rows).to.have.length(1);
      expect(rows[0]!.Status).to.equal('COMPLETED');
      // Filed under the digest the (hermetic) registry stub resolved the tag to.
      const digest = stack.sim.findImage('docker.io/library/nginx:1.27.2')!.digest;
      expect(rows[0]!.Digest).to.equal(digest);
      expect(await blobNames(stack, `docker.io/library/nginx/${digest.replace(':', '-')}/`)).to.have.length(1);
      const polls = stack.pump.invocations.filter((i) => i.function === 'pollScan' && JSON.stringify(i.result ?? i.error).includes(rows[0]!.rowKey) || (i.function === 'pollScan' && i.error?.includes('simulated worker crash')));
      expect(polls.some((p) => !p.ok && p.dequeueCount === 1)).to.equal(true);
      expect(polls.some((p) => p.ok && p.dequeueCount === 2)).to.equal(true);
    });

    it('posts an alert for findings at the threshold, and a failing webhook does not lose the result', async () => {
      const before = posts.length;
      await stack.send(stack.deploy({ kind: 'ACA', name: 'alerting', images: ['azcloudconsoleregistry.azurecr.io/aci-helloworld:latest'], correlationId: 'corr-alert', eventId: 'ev-alert' }));
      await stack.pump.drain(60_000);
      const expected = stack.sim.expectedCounts('azcloudconsoleregistry.azurecr.io/aci-helloworld:latest');
      expect(expected.critical + expected.high, 'the simulator image has findings at the threshold').to.be.greaterThan(0);
      expect(posts.length).to.equal(before + 1);
      const text = JSON.parse(posts.at(-1)!).text as string;
      expect(text).to.contain('aci-helloworld');
      expect(text).to.contain(`${expected.critical} critical, ${expected.high} high`);
      webhookFailures = 100;
      // An image with findings whose digest was not scanned here yet (nginx:1.27 is nginx:1.27.2's digest: a cache hit, no alert).
      await stack.send(stack.deploy({ kind: 'ACI', name: 'alert-down', images: ['repo/testcontainerapp0:v4'], correlationId: 'corr-alert-2', eventId: 'ev-alert-2' }));
      await stack.pump.drain(60_000);
      const rows = (await rowsOf(stack)).filter((r) => r.Image === 'docker.io/repo/testcontainerapp0:v4');
      expect(rows).to.have.length(1);
      expect(rows[0]!.Status).to.equal('COMPLETED');
      expect(stack.telemetry.exceptions.some((e) => e.properties.Component === 'alertWebhook')).to.equal(true);
      webhookFailures = 0;
    });

    it('records a malformed message under errors/messages and counts an unrelated event as ignored', async () => {
      await stack.send('this is { not json');
      await stack.send(loadCorpus('azure/eventgrid-resourcewritesuccess-storage.azuredocs.json'));
      await stack.send({ some: 'object', that: 'is no event' });
      await stack.pump.drain(30_000);
      const records = await blobNames(stack, 'errors/messages/');
      expect(records.length).to.equal(2);
      const reasons = await Promise.all(records.map(async (n) => (await readBlobJson(stack, n)).reason as string));
      expect(reasons.some((r) => /not JSON/.test(r))).to.equal(true);
      expect(reasons.some((r) => /neither an Event Grid event/.test(r))).to.equal(true);
      expect(stack.logs.some((l) => l.startsWith('warning') && l.includes('malformed deployment message recorded'))).to.equal(true);
      const ignored = stack.telemetry.events.filter((e) => e.name === 'ContainerDeploymentEvent' && e.properties.Outcome === 'Ignored');
      expect(ignored.map((e) => [e.properties.Count, e.properties.Reason])).to.deep.include(['1', 'operation Microsoft.Storage/storageAccounts/write (1)']);
      expect(stack.logs.some((l) => l.includes('deployment events ignored') && l.includes('operation Microsoft.Storage/storageAccounts/write'))).to.equal(true);
      expect(await poisonCount(stack, 'deployments')).to.equal(0);
    });

    it('decodes string and base64 bodies before keeping them, so identity claims are dropped from them too', async () => {
      const handler = stack.app.functions.find((f) => f.name === 'onDeployment')!.handler;
      // A write event without operationName: malformed, and it carries claims and authorization.
      const event = {
        id: 'ev-claims',
        eventType: 'Microsoft.Resources.ResourceWriteSuccess',
        subject: '/subscriptions/s/resourceGroups/rg',
        eventTime: '2026-01-15T09:00:00Z',
        dataVersion: '',
        data: { resourceUri: '/subscriptions/s/resourceGroups/rg', claims: { name: 'alice@contoso.example', ipaddr: '203.0.113.7' }, authorization: { evidence: { principalId: 'pid-5c3f' } } },
      };
      const json = JSON.stringify([event]);
      const forms = { object: [event], text: json, base64: Buffer.from(json).toString('base64'), buffer: Buffer.from(json) } as const;
      for (const [form, body] of Object.entries(forms)) {
        await handler(body, new InvocationContext({ invocationId: `inv-${form}`, logHandler: () => undefined, triggerMetadata: { id: `claims-${form}`, dequeueCount: 1 } }));
        const names = await blobNames(stack, `errors/messages/claims-${form}`);
        expect(names, form).to.have.length(1);
        const record = await readBlobJson(stack, names[0]!);
        expect(record.reason, form).to.match(/data lacks operationName/);
        const kept = (record.sample as { event: string }[])[0]!.event;
        // Readable (decoded), and without the identity claims.
        expect(kept, form).to.contain('ev-claims');
        expect(kept, form).to.contain('"claims":"[dropped]"');
        for (const secret of ['alice@contoso.example', '203.0.113.7', 'pid-5c3f']) expect(kept, form).to.not.contain(secret);
      }
    });

    it('keeps one record for the malformed events of an array, with a count per reason, even when the events have no id', async () => {
      const handler = stack.app.functions.find((f) => f.name === 'onDeployment')!.handler;
      const result = (await handler([{ no: 'schema' }, { still: 'nothing' }, { eventType: 'Microsoft.Resources.ResourceWriteSuccess', id: 'dup', data: {} }, { eventType: 'Microsoft.Resources.ResourceWriteSuccess', id: 'dup', data: {} }], new InvocationContext({ invocationId: 'inv-array', logHandler: () => undefined, triggerMetadata: { id: 'array-msg', dequeueCount: 1 } }))) as { events: { outcome: string }[] };
      expect(result.events.map((e) => e.outcome)).to.deep.equal(['Malformed', 'Malformed', 'Malformed', 'Malformed']);
      const names = await blobNames(stack, 'errors/messages/array-msg');
      expect(names).to.deep.equal(['errors/messages/array-msg.json']);
      const record = await readBlobJson(stack, names[0]!);
      expect(record).to.include({ events: 4, malformed: 4 });
      const reasons = record.reasons as { reason: string; count: number }[];
      expect(reasons.find((r) => /neither an Event Grid event/.test(r.reason))?.count).to.equal(2);
      expect(reasons.find((r) => /data lacks operationName/.test(r.reason))?.count).to.equal(2);
      const sample = record.sample as { index: number; id?: string }[];
      expect(sample.map((e) => e.index), 'two events with one id are both kept').to.deep.equal([0, 1, 2, 3]);
      expect(sample.filter((e) => e.id === 'dup')).to.have.length(2);
    });

    it('redacts credentials from the Reason of a row, the blob and error records', async () => {
      const password = stack.sim.credentials.password;
      const workflow = stack.app.workflow;
      const original = workflow.submit.bind(workflow);
      workflow.submit = async () => {
        throw new QualysRequestError(`POST /registry/x/schedule: HTTP 400 login ${password} refused; retry with password=${password}`, 400);
      };
      try {
        await stack.send(stack.deploy({ kind: 'ACI', name: 'leaky', images: ['shipscandemo.azurecr.io/shop/web-frontend:2.0.0'], correlationId: 'corr-leaky', eventId: 'ev-leaky' }));
        await stack.pump.drain(30_000);
      } finally {
        workflow.submit = original;
      }
      const row = (await rowsOf(stack)).find((r) => r.partitionKey === imagePartitionKey({ registry: 'shipscandemo.azurecr.io', repository: 'shop/web-frontend', tag: '2.0.0', reference: '' }));
      expect(row?.Status).to.equal('FAILED');
      expect(row!.Reason).to.contain('[redacted]');
      expect(row!.Reason).to.not.contain(password);
      const blob = await readBlobJson(stack, row!.BlobPath);
      expect((blob.error as { message: string }).message).to.contain('[redacted]');
      expect(JSON.stringify(blob)).to.not.contain(password);
      const path = await stack.app.stores.store.saveErrorRecord('messages', 'redaction-check', { reason: `gave up: ${password}`, nested: { body: `Authorization: Bearer ${stack.sim.credentials.accessToken}` } });
      const record = JSON.stringify(await readBlobJson(stack, path));
      expect(record).to.not.contain(password);
      expect(record).to.not.contain(stack.sim.credentials.accessToken);
    });

    it('records a workload deleted before it was read, without retrying', async () => {
      const msg = stack.deploy({ kind: 'ACI', name: 'gone', images: ['nginx'], correlationId: 'corr-gone', eventId: 'ev-gone' });
      stack.arm.remove((msg as { data: { resourceUri: string } }[])[0]!.data.resourceUri);
      await stack.send(msg);
      await stack.pump.drain(30_000);
      const records = await blobNames(stack, 'errors/resources/');
      expect(records).to.have.length(1);
      expect((await readBlobJson(stack, records[0]!)).reason).to.match(/no longer exists \(ARM answered 404\)/);
      expect(stack.pump.invocations.filter((i) => JSON.stringify(i.result ?? '').includes('ev-gone'))).to.have.length(1);
    });

    it('records permanent Qualys failures (registry not onboarded, failed scan) as FAILED rows with the reason', async () => {
      await stack.send(stack.deploy({ kind: 'ACI', name: 'legacy', images: ['notonboarded.azurecr.io/legacy/app:1.0', 'shipscandemo.azurecr.io/shop/payments-worker:3.1.0'], correlationId: 'corr-legacy', eventId: 'ev-legacy' }));
      await stack.pump.drain(60_000);
      const rows = await rowsOf(stack);
      const legacy = rows.find((r) => r.Image === 'notonboarded.azurecr.io/legacy/app:1.0');
      expect(legacy?.Status).to.equal('FAILED');
      expect(legacy?.Reason).to.match(/REGISTRY_NOT_ONBOARDED|not onboarded/);
      expect(legacy?.BlobPath).to.match(/^errors\/notonboarded\.azurecr\.io\/legacy\/app\//);
      const payments = rows.find((r) => r.Image === 'shipscandemo.azurecr.io/shop/payments-worker:3.1.0');
      expect(payments?.Status).to.equal('FAILED');
      expect(payments?.Reason).to.match(/failed/i);
    });

    it('records TIMEOUT when a scan never lands before MAX_SCAN_MINUTES', async () => {
      // The registry is onboarded but holds no such tag: the schedule is accepted, the scan never lands.
      await stack.send(stack.deploy({ kind: 'ACA', name: 'slow', images: ['shipscandemo.azurecr.io/shop/never-pushed:0.0.1'], correlationId: 'corr-slow', eventId: 'ev-slow' }));
      await stack.pump.drain(90_000);
      const row = (await rowsOf(stack)).find((r) => r.Image === 'shipscandemo.azurecr.io/shop/never-pushed:0.0.1');
      expect(row?.Status).to.equal('TIMEOUT');
      expect(row?.BlobPath).to.match(/^errors\//);
      const blob = await readBlobJson(stack, row!.BlobPath);
      expect(blob).to.deep.include({ status: 'FAILED' });
      expect((blob.error as { code: string }).code).to.equal('SCAN_TIMEOUT');
      expect(stack.telemetry.scans.some((s) => s.EventType === 'ScanTimeout' && s.Image === row!.Image)).to.equal(true);
    });

    it('records FAILED on the last delivery when ARM keeps refusing, then the message goes to the poison queue', async () => {
      stack.arm.failNext(1000, 403);
      try {
        await stack.send(stack.deploy({ kind: 'ACI', name: 'forbidden', images: ['nginx'], correlationId: 'corr-403', eventId: 'ev-403' }));
        await stack.pump.drain(60_000);
      } finally {
        stack.arm.failNext(0);
      }
      expect(await poisonCount(stack, 'deployments')).to.equal(1);
      const records = await blobNames(stack, 'errors/events/');
      expect(records).to.have.length(1);
      expect((await readBlobJson(stack, records[0]!)).reason).to.match(new RegExp(`gave up after ${MAX_DEQUEUE_COUNT} deliveries`));
      expect(stack.pump.invocations.filter((i) => i.function === 'onDeployment' && !i.ok).map((i) => i.dequeueCount)).to.deep.equal(Array.from({ length: MAX_DEQUEUE_COUNT }, (_, i) => i + 1));
      expect(stack.logs.some((l) => l.includes("Moving message to queue 'deployments-poison'"))).to.equal(true);
    });

    it('never prints a credential in any captured log line', () => {
      const secrets = [stack.sim.credentials.password, stack.sim.credentials.accessToken, 'secret-path-9f8e7d', 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq'];
      expect(stack.logs.length).to.be.greaterThan(20);
      for (const line of stack.logs) {
        for (const secret of secrets) expect(line, line.slice(0, 200)).to.not.contain(secret);
        expect(line).to.not.match(/Bearer\s+eyJ/);
      }
      for (const e of stack.telemetry.exceptions) expect(String((e.error as Error).message)).to.not.contain('secret-path-9f8e7d');
    });
  });
});
