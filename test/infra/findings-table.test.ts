import { expect } from 'chai';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { runPlanDetailed, type PlanResult, type PlannedResource } from '../../local/plan';
import { startDynalite, type RunningEmulator } from '../../local/emulators/dynalite';
import { DynamoFindingStore } from '../../functions/aws/findings-store';
import { FINDINGS_DYNAMO, findingsTableSchema } from '../../shared/findings/tables';
import { checkAwsInvariants } from './support/aws-invariants';
import { keyOf, opened } from '../findings/support/store-contract';
import { observation } from '../findings/support/observations';

interface PlannedTable {
  billingMode?: string;
  hashKey?: string;
  rangeKey?: string;
  attributes?: { name: string; type: string }[];
  globalSecondaryIndexes?: { name: string; keySchemas?: { attributeName: string; keyType: string }[]; projectionType: string; hashKey?: string; rangeKey?: string }[];
  deletionProtectionEnabled?: boolean;
  ttl?: unknown;
}

/** The planned table in CreateTable's terms: what a deployment would create. */
function asCreateTable(table: PlannedResource, name: string): CreateTableCommandInput {
  const t = table.inputs as PlannedTable;
  return {
    TableName: name,
    BillingMode: t.billingMode as 'PAY_PER_REQUEST',
    AttributeDefinitions: (t.attributes ?? []).map((a) => ({ AttributeName: a.name, AttributeType: a.type as 'S' })),
    KeySchema: [
      { AttributeName: String(t.hashKey), KeyType: 'HASH' },
      ...(t.rangeKey ? [{ AttributeName: t.rangeKey, KeyType: 'RANGE' as const }] : []),
    ],
    GlobalSecondaryIndexes: (t.globalSecondaryIndexes ?? []).map((g) => ({
      IndexName: g.name,
      KeySchema: (g.keySchemas ?? []).map((k) => ({ AttributeName: k.attributeName, KeyType: k.keyType as 'HASH' | 'RANGE' })),
      Projection: { ProjectionType: g.projectionType as 'ALL' },
    })),
  };
}

describe('AWS findings table (aws/findings-table.ts) under the Pulumi mocks', function () {
  this.timeout(180_000);
  let plan: PlanResult;
  let table: PlannedResource;
  let unprotected: PlannedResource;

  before(async () => {
    plan = await runPlanDetailed({ program: path.join(__dirname, 'support', 'findings-table-program.ts'), stack: 'prod', config: { 'aws:region': 'us-east-1' } });
    const tables = plan.resources.filter((r) => r.type === 'aws:dynamodb/table:Table');
    table = tables.find((r) => r.name === 'shipscan-findings')!;
    unprotected = tables.find((r) => r.name === 'shipscan-findings-unprotected')!;
  });

  it('holds the AWS security invariants (stack CMK, point-in-time recovery, reviewed types)', () => {
    expect(table, 'the findings table').to.not.equal(undefined);
    expect(checkAwsInvariants(plan, { spokeRoleArns: [], hubRoleArns: [], notInOutputs: [], accessLogging: false, objectReads: [] })).to.deep.equal([]);
  });

  it('declares exactly the keys and indexes the store uses, on demand, protected from deletion, without TTL', () => {
    const schema = findingsTableSchema();
    const t = table.inputs as PlannedTable;
    expect(asCreateTable(table, 'x')).to.deep.equal({ TableName: 'x', ...schema, BillingMode: 'PAY_PER_REQUEST' });
    expect(t.hashKey).to.equal(FINDINGS_DYNAMO.partitionKey);
    expect(t.rangeKey).to.equal(FINDINGS_DYNAMO.sortKey);
    expect((t.globalSecondaryIndexes ?? []).map((g) => g.name).sort()).to.deep.equal([FINDINGS_DYNAMO.byRule.indexName, FINDINGS_DYNAMO.byStateSeverity.indexName].sort());
    // keySchemas, not the deprecated hashKey/rangeKey of an index.
    for (const g of t.globalSecondaryIndexes ?? []) expect(g).to.not.have.any.keys('hashKey', 'rangeKey');
    expect(t.deletionProtectionEnabled).to.equal(true);
    expect(t.ttl).to.equal(undefined);
    expect((unprotected.inputs as PlannedTable).deletionProtectionEnabled).to.equal(false);
  });

  describe('the planned table on dynalite', () => {
    let dynalite: RunningEmulator;
    let client: DynamoDBClient;
    before(async () => {
      dynalite = await startDynalite();
      client = new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    });
    after(async () => {
      client?.destroy();
      await dynalite?.stop();
    });

    it('serves every store operation the way a deployed table would', async () => {
      await client.send(new CreateTableCommand(asCreateTable(table, 'planned-findings')));
      const store = new DynamoFindingStore(DynamoDBDocumentClient.from(client), 'planned-findings');
      const high = observation({ subject: 'high', severity: 'HIGH' });
      for (const o of [observation(), high]) await store.put(keyOf(o), opened(o), { absent: true });
      expect(await store.listByResource(keyOf().partition)).to.have.length(2);
      expect((await store.query({ state: 'ACTIVE' })).map((r) => r.finding.subject)).to.deep.equal(['tcp/22 from 0.0.0.0/0', 'high']);
      expect((await store.query({ state: 'ACTIVE', ruleId: high.ruleId, severity: 'HIGH' })).map((r) => r.finding.subject)).to.deep.equal(['high']);
      expect(await store.claimNotification(keyOf(), 1, new Date(), new Date(Date.now() + 60_000))).to.equal(true);
    });

    it('and a table with another index name fails the store (the check above can fail)', async () => {
      const renamed = asCreateTable(table, 'renamed-findings');
      renamed.GlobalSecondaryIndexes = renamed.GlobalSecondaryIndexes?.map((g) => ({ ...g, IndexName: `${g.IndexName}2` }));
      await client.send(new CreateTableCommand(renamed));
      const store = new DynamoFindingStore(DynamoDBDocumentClient.from(client), 'renamed-findings');
      let error: unknown;
      try {
        await store.query({ state: 'ACTIVE' });
      } catch (e) {
        error = e;
      }
      expect(String(error)).to.match(/index/i);
    });
  });
});
