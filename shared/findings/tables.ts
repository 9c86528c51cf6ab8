/**
 * Where findings are stored, named once for the runtimes (functions/aws/findings-store.ts,
 * functions/azure/findings-store.ts) and the infrastructure (aws/findings-table.ts), so the table a stack
 * creates is the table the store queries. Plain constants: no cloud SDK here.
 */

/**
 * DynamoDB `findings`:
 * - `pk` = the resource key (findingKey().partition), `sk` = `ruleId#subject` (findingKey().sort): every
 *   finding of a resource is one Query.
 * - `byStateSeverity`: `gsi1pk` = `<state>#<severity>`, `gsi1sk` = `<firstSeenAt>#<id>`. "Most severe first"
 *   is one Query per severity in order; the partition key carries the severity too, so the writes of a
 *   burst of new findings spread over five index partitions instead of one per state.
 * - `byRule`: `gsi2pk` = ruleId, `gsi2sk` = `<state>#<severity rank>#<firstSeenAt>#<id>`: a rule's findings
 *   in a state (and severity) are a `begins_with` on the sort key, in query order.
 * Both indexes project every attribute: a query answers with whole records, no second read.
 */
export const FINDINGS_DYNAMO = {
  partitionKey: 'pk',
  sortKey: 'sk',
  byStateSeverity: { indexName: 'byStateSeverity', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  byRule: { indexName: 'byRule', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
} as const;

export interface DynamoKeyElement {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

/** The table in CreateTable's terms (what the store expects; the infra test holds the Pulumi table to it). */
export interface DynamoTableSchema {
  AttributeDefinitions: { AttributeName: string; AttributeType: 'S' }[];
  KeySchema: DynamoKeyElement[];
  GlobalSecondaryIndexes: { IndexName: string; KeySchema: DynamoKeyElement[]; Projection: { ProjectionType: 'ALL' } }[];
  BillingMode: 'PAY_PER_REQUEST';
}

function keySchema(partitionKey: string, sortKey: string): DynamoKeyElement[] {
  return [
    { AttributeName: partitionKey, KeyType: 'HASH' },
    { AttributeName: sortKey, KeyType: 'RANGE' },
  ];
}

export function findingsTableSchema(): DynamoTableSchema {
  const { partitionKey, sortKey, byStateSeverity, byRule } = FINDINGS_DYNAMO;
  const keys = [partitionKey, sortKey, byStateSeverity.partitionKey, byStateSeverity.sortKey, byRule.partitionKey, byRule.sortKey];
  return {
    AttributeDefinitions: keys.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: keySchema(partitionKey, sortKey),
    GlobalSecondaryIndexes: [byStateSeverity, byRule].map((index) => ({
      IndexName: index.indexName,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection: { ProjectionType: 'ALL' },
    })),
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** Azure Table `Findings`: PartitionKey safeTableKey(resource key), RowKey safeTableKey(`ruleId#subject`). */
export const FINDINGS_TABLE = 'Findings';
/**
 * Azure Table `FindingsByState`: Table storage has no secondary indexes, so query() reads this one (see
 * functions/azure/findings-store.ts): PartitionKey `<state>_<severity>`, RowKey `<firstSeenAt ms>_<id>`.
 */
export const FINDINGS_INDEX_TABLE = 'FindingsByState';
