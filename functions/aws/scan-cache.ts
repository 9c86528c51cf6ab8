import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SeverityCounts } from '../../shared/severity';
import type { ScanStatus } from '../../shared/scan-result';

/**
 * Scan cache and in-flight lock in one DynamoDB table (partition key `pk` (S), TTL attribute
 * `expiresAt`, epoch seconds). One item per content + scan profile holds either a lock or a result:
 *   lock:   { pk, lockOwner, lockUntil (epoch ms), expiresAt }
 *   result: { pk, scanId, status, resultKey, counts, completedAt, functionArn, policyVerdict?, expiresAt }
 * TTL deletion is lazy (up to days late), so every read also checks expiresAt itself.
 */

/** Key schema the infrastructure creates (TTL on `expiresAt` is enabled there; emulators lack it). */
export const CACHE_TABLE_SCHEMA = {
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }],
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }],
  BillingMode: 'PAY_PER_REQUEST' as const,
};
export const CACHE_TTL_ATTRIBUTE = 'expiresAt';

export interface CachedResult {
  pk: string;
  scanId: string;
  status: ScanStatus;
  resultKey: string;
  counts: SeverityCounts;
  completedAt: string;
  /** The function whose scan produced this result. */
  functionArn: string;
  policyVerdict?: 'ALLOW' | 'DENY' | 'AUDIT';
  expiresAt: number;
}

export type LockOutcome =
  | { kind: 'acquired'; owner: string }
  | { kind: 'cached'; result: CachedResult }
  /** Another invocation scans the same content right now. */
  | { kind: 'busy'; lockUntil: number };

export function cacheKey(contentKey: string, profile: string): string {
  return `${contentKey}#${profile}`;
}

export class ScanCache {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  private nowSec(): number {
    return Math.floor(this.now() / 1000);
  }

  async get(pk: string): Promise<CachedResult | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }));
    if (!Item || typeof Item.resultKey !== 'string') return undefined;
    if (typeof Item.expiresAt === 'number' && Item.expiresAt <= this.nowSec()) return undefined;
    return Item as CachedResult;
  }

  /**
   * Takes the in-flight lock unless a live result or a live lock exists. The condition admits: no
   * item, an expired lock, or an expired result.
   */
  async lock(pk: string, owner: string, ttlMs: number): Promise<LockOutcome> {
    const hit = await this.get(pk);
    if (hit) return { kind: 'cached', result: hit };
    const nowMs = this.now();
    const lockUntil = nowMs + ttlMs;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk, lockOwner: owner, lockUntil, expiresAt: Math.ceil(lockUntil / 1000) + 86_400 },
          ConditionExpression: 'attribute_not_exists(pk) OR lockUntil < :nowMs OR (attribute_exists(resultKey) AND expiresAt <= :nowSec)',
          ExpressionAttributeValues: { ':nowMs': nowMs, ':nowSec': this.nowSec() },
        }),
      );
      return { kind: 'acquired', owner };
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }));
    if (Item && typeof Item.resultKey === 'string') return { kind: 'cached', result: Item as CachedResult };
    return { kind: 'busy', lockUntil: typeof Item?.lockUntil === 'number' ? Item.lockUntil : nowMs + ttlMs };
  }

  /** Stores the result over the lock (whoever holds it: results of the same content are equivalent). */
  async store(result: Omit<CachedResult, 'expiresAt'>, ttlSec: number): Promise<CachedResult> {
    const item: CachedResult = { ...result, expiresAt: this.nowSec() + ttlSec };
    await this.doc.send(new PutCommand({ TableName: this.table, Item: item }));
    return item;
  }

  /** Drops our lock so a retry can scan at once; someone else's lock or a result stays. */
  async release(pk: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk },
          ConditionExpression: 'lockOwner = :owner AND attribute_not_exists(resultKey)',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}
