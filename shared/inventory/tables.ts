import type { DynamoTableSchema } from '../findings/tables';

/**
 * The DynamoDB resources table of the inventory, named once for the runtime (functions/aws/inventory/
 * resource-store.ts, runs.ts), the infrastructure (aws/inventory.ts) and the local stack:
 * - resources: `pk` = `<account>#<service>`, `sk` = the resource ARN (posture/kinds.ts ids);
 * - runs: `pk` = `run`, `sk` = the run id (`<UTC time>-<kind>-<random>`, so a Query lists runs in time order);
 * - a run's deletion candidates: `pk` = `run#<run id>`, `sk` = `<shard>#<chunk>`.
 * No index: every read is a Query on one partition. No TTL: run records are the inventory's history.
 */
export const RESOURCES_DYNAMO = { partitionKey: 'pk', sortKey: 'sk' } as const;

export function resourcesTableSchema(): Omit<DynamoTableSchema, 'GlobalSecondaryIndexes'> {
  const { partitionKey, sortKey } = RESOURCES_DYNAMO;
  return {
    AttributeDefinitions: [partitionKey, sortKey].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** Where configurations too large for an item (over ~350 KB of JSON) go, in the results bucket. */
export const LARGE_CONFIG_PREFIX = 'inventory/configs/';
/** DynamoDB items hold at most 400 KB; the rest of the item needs room too. */
export const LARGE_CONFIG_BYTES = 350_000;
