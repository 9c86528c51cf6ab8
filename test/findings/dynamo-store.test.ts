import { expect } from 'chai';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { startDynalite, type RunningEmulator } from '../../local/emulators/dynalite';
import { DynamoFindingStore, fitKey, type DynamoFindingStoreOptions } from '../../functions/aws/findings-store';
import { findingsTableSchema } from '../../shared/findings/tables';
import { FindingConflictError, FindingKeyCollisionError, type FindingStore } from '../../shared/findings/store';
import { findingStoreContract, keyOf, opened } from './support/store-contract';
import { observation } from './support/observations';

/**
 * DynamoFindingStore on dynalite: the store contract, pagination, long keys. Each test gets its own table;
 * every handle has its own client (own connections), as separate Lambda instances would.
 */

let dynalite: RunningEmulator;
let tables = 0;
const clients: DynamoDBClient[] = [];

function client(counter?: { queries: number }): DynamoDBDocumentClient {
  const raw = new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  clients.push(raw);
  if (counter) {
    raw.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand') counter.queries += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countQueries' },
    );
  }
  return DynamoDBDocumentClient.from(raw);
}

async function newTable(): Promise<string> {
  const name = `findings-${++tables}`;
  await client().send(new CreateTableCommand({ TableName: name, ...findingsTableSchema() }));
  return name;
}

async function storeOn(options: DynamoFindingStoreOptions = {}): Promise<{ store: DynamoFindingStore; connect: () => FindingStore; table: string }> {
  const table = await newTable();
  return { table, store: new DynamoFindingStore(client(), table, options), connect: () => new DynamoFindingStore(client(), table, options) };
}

describe('findings on DynamoDB (dynalite)', function () {
before(async () => {
  dynalite = await startDynalite();
});
after(async () => {
  for (const c of clients) c.destroy();
  await dynalite?.stop();
});

describe('findings store contract: DynamoDB (dynalite)', function () {
  this.timeout(30_000);
  findingStoreContract(() => storeOn());
});

describe('DynamoFindingStore on dynalite', function () {
  this.timeout(60_000);

  it('lists all 1,200 findings of one resource through small pages, and all of them through 1 MB pages', async () => {
    const counter = { queries: 0 };
    const table = await newTable();
    const writer = new DynamoFindingStore(client(), table);
    const observations = Array.from({ length: 1200 }, (_, i) => observation({ subject: `tcp/${i} from 0.0.0.0/0`, evidence: { port: i, note: 'n'.repeat(900) } }));
    for (let i = 0; i < observations.length; i += 40) {
      await Promise.all(observations.slice(i, i + 40).map((o) => writer.put(keyOf(o), opened(o), { absent: true })));
    }
    const small = new DynamoFindingStore(client(counter), table, { pageSize: 100 });
    const started = Date.now();
    const listed = await small.listByResource(keyOf().partition);
    const elapsed = Date.now() - started;
    expect(listed).to.have.length(1200);
    expect(new Set(listed.map((r) => r.finding.subject)).size).to.equal(1200);
    // 12 full pages, and a 13th that finds the end.
    expect(counter.queries).to.be.within(12, 13);
    const pagesOf1MB = { queries: 0 };
    const whole = await new DynamoFindingStore(client(pagesOf1MB), table).listByResource(keyOf().partition);
    expect(whole).to.have.length(1200);
    // Each item is about 2 KB, so 1,200 of them take more than one 1 MB page.
    expect(pagesOf1MB.queries).to.be.greaterThan(1);
    // Printed, not asserted: emulator speed depends on the machine.
    console.log(`      listByResource of 1,200 findings in pages of 100: ${elapsed} ms`);
  });

  it('pages through an index query and stops at the limit, across severities and with a cloud filter', async () => {
    const counter = { queries: 0 };
    const table = await newTable();
    const writer = new DynamoFindingStore(client(), table);
    const severities = ['LOW', 'CRITICAL', 'MEDIUM'] as const;
    const observations = Array.from({ length: 90 }, (_, i) =>
      observation({ subject: `s${String(i).padStart(3, '0')}`, severity: severities[i % 3]!, observedAt: new Date(Date.parse('2026-12-01T10:00:00Z') + i * 1000).toISOString() }),
    );
    await Promise.all(observations.map((o) => writer.put(keyOf(o), opened(o), { absent: true })));
    const store = new DynamoFindingStore(client(counter), table, { pageSize: 7 });
    const all = await store.query({ state: 'ACTIVE' });
    expect(all.map((r) => r.finding.severity)).to.deep.equal([...Array(30).fill('CRITICAL'), ...Array(30).fill('MEDIUM'), ...Array(30).fill('LOW')]);
    // Within a severity, the longest open first.
    const critical = all.filter((r) => r.finding.severity === 'CRITICAL').map((r) => r.finding.firstSeenAt);
    expect(critical).to.deep.equal([...critical].sort());
    counter.queries = 0;
    const first = await store.query({ state: 'ACTIVE', limit: 10 });
    expect(first.map((r) => r.finding.subject)).to.deep.equal(all.slice(0, 10).map((r) => r.finding.subject));
    // Pages of 7: two pages of CRITICAL are enough; HIGH and below are never read.
    expect(counter.queries).to.equal(2);
    const byRule = await store.query({ state: 'ACTIVE', ruleId: observation().ruleId, severity: 'MEDIUM', limit: 25 });
    expect(byRule).to.have.length(25);
    expect(byRule.every((r) => r.finding.severity === 'MEDIUM')).to.equal(true);
    expect(await store.query({ state: 'ACTIVE', cloud: 'azure', limit: 5 })).to.deep.equal([]);
    expect(await store.query({ state: 'ACTIVE', cloud: 'aws', limit: 45 })).to.have.length(45);
  });

  it('writes the item the table expects: keys, index keys, readable columns, the notice outbox', async () => {
    const { store, table } = await storeOn();
    await store.put(keyOf(), opened(), { absent: true });
    const { Item } = await client().send(new GetCommand({ TableName: table, Key: { pk: keyOf().partition, sk: keyOf().sort } }));
    const f = opened().finding;
    expect(Item).to.deep.include({
      pk: 'aws|123456789012/us-east-1|arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abc',
      sk: 'aws.ec2.open-ingress#tcp/22 from 0.0.0.0/0',
      gsi1pk: 'ACTIVE#CRITICAL',
      gsi1sk: `2026-12-01T10:00:00.000Z#${f.id}`,
      gsi2pk: 'aws.ec2.open-ingress',
      gsi2sk: `ACTIVE#0#2026-12-01T10:00:00.000Z#${f.id}`,
      version: 1,
      findingState: 'ACTIVE',
      severity: 'CRITICAL',
      cloud: 'aws',
      notifyVersion: 1,
      notifyState: 'PENDING',
      notifyTransition: 'open',
    });
    expect(JSON.parse(String(Item?.['finding']))).to.deep.equal(f);
  });

  it('stores findings whose keys exceed DynamoDB key limits, each under its own shortened key', async () => {
    const { store } = await storeOn();
    const longId = `arn:aws:s3:::bucket/${'k'.repeat(3000)}`;
    const a = observation({ resource: { type: 'AWS::S3::Object', id: `${longId}-a`, name: 'a' }, subject: `${'s'.repeat(1500)}-1` });
    const b = observation({ resource: { type: 'AWS::S3::Object', id: `${longId}-b`, name: 'b' }, subject: `${'s'.repeat(1500)}-2` });
    await store.put(keyOf(a), opened(a), { absent: true });
    await store.put(keyOf(b), opened(b), { absent: true });
    expect((await store.get(keyOf(a)))?.finding.resource.name).to.equal('a');
    expect((await store.get(keyOf(b)))?.finding.resource.name).to.equal('b');
    expect((await store.listByResource(keyOf(a).partition)).map((r) => r.finding.resource.name)).to.deep.equal(['a']);
    expect(Buffer.byteLength(fitKey(keyOf(a).partition, 2048))).to.be.at.most(2048);
    expect(Buffer.byteLength(fitKey(keyOf(a).sort, 1024))).to.be.at.most(1024);
  });

  it('cuts a long key between characters, never inside a surrogate pair', () => {
    const key = fitKey('\u{1F6A8}'.repeat(600), 1024);
    expect(Buffer.byteLength(key)).to.be.at.most(1024);
    expect(key).to.match(/^(\u{1F6A8})+#h:[0-9a-f]{64}$/u);
  });

  it('refuses to read a shortened key that holds another finding, or to write over it', async () => {
    const { store } = await storeOn();
    const a = observation({ subject: `${'s'.repeat(1100)}-a` });
    await store.put(keyOf(a), opened(a), { absent: true });
    // Someone crafts a key equal to a's shortened one: the store must not answer with a's record.
    const crafted = { partition: keyOf(a).partition, sort: fitKey(keyOf(a).sort, 1024) };
    let error: unknown;
    try {
      await store.get(crafted);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(FindingKeyCollisionError);
    // Nor does a write of another finding under a's key replace a's record.
    const b = observation({ subject: 'b' });
    error = undefined;
    try {
      await store.put(keyOf(a), { ...opened(b), version: 2 }, { version: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(FindingConflictError);
    expect((await store.get(keyOf(a)))?.finding.subject).to.equal(a.subject);
  });
});
});
