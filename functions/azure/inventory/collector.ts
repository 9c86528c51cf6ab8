import { isArmResource, isObject, parseArmId, textAt, type ArmResource } from '../../../shared/rules/azure/arm';
import { inventoryQuery, RESOURCE_GRAPH_MAX_PAGE, RESOURCE_GRAPH_MAX_SUBSCRIPTIONS } from '../../../shared/rules/azure/resource-graph';
import { GraphError, type GraphPage, type QuotaState, type ResourceGraph } from './resource-graph';

/**
 * Collects the inventory from Resource Graph: one query per (batch of at most 300 subscriptions x resource type),
 * each followed page by page along its skipToken. The queries run one after the other: they all spend the same
 * identity's quota (about 15 queries per 5 seconds), so running them side by side would only trade waits for 429s.
 *
 * Throttling: every answer carries `x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after`; when the
 * remaining quota falls to the reserve, the next query waits for the window to reset instead of spending the
 * last query on a 429. A 429 waits what it says (Retry-After, else the reset time, else a back-off) and is
 * retried; so are 5xx answers and network errors, up to `attempts` per page. A query that still fails, or whose
 * answer cannot be trusted to be whole (truncated without a token, a token that repeats, too many pages), fails
 * its shard: the run is then incomplete and deletes nothing.
 */

export interface Shard {
  /** Position in the plan (stable, for logs and the run record). */
  index: number;
  type: string;
  subscriptions: string[];
}

/** A resource as the inventory keeps it: the ARM shape the rules read, plus its tags and subscription. */
export interface CollectedResource {
  subscriptionId: string;
  type: string;
  resource: ArmResource & { tags?: Record<string, string> };
}

export type ShardOutcome =
  | { shard: Shard; status: 'complete'; rows: number; pages: number; skipped: number }
  | { shard: Shard; status: 'failed'; rows: number; pages: number; skipped: number; error: string };

export interface CollectStats {
  /** Shards (one query each, however many pages). */
  queries: number;
  /** Pages received (each a Resource Graph call that answered 200). */
  pages: number;
  /** Calls made, successful or not. */
  calls: number;
  retries: number;
  /** 429 answers. */
  throttled: number;
  /** Waits taken before a call because the quota was at the reserve. */
  quotaPauses: number;
  waitedMs: number;
  rows: number;
  skipped: number;
}

export interface CollectResult {
  outcomes: ShardOutcome[];
  stats: CollectStats;
  complete: boolean;
}

export interface CollectorOptions {
  graph: ResourceGraph;
  /** Rows per page, at most 1000 (Resource Graph's maximum). */
  pageSize?: number;
  /** Pages one query may take before it is given up as runaway (default 5,000: five million rows). */
  maxPages?: number;
  /** Calls per page before the shard fails (default 5). */
  attempts?: number;
  /** First back-off when an answer names no wait (default 1 s, doubling, at most maxDelayMs). */
  baseDelayMs?: number;
  /** Longest single wait, whatever an answer asks (default 60 s). */
  maxDelayMs?: number;
  /** Queries kept in hand: at or below this many remaining, wait for the window to reset (default 1). */
  quotaReserve?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Receives each page's resources as they arrive (the store writes them); a throw fails the shard. */
  onPage?: (shard: Shard, resources: CollectedResource[]) => Promise<void>;
}

/** Every (subscription batch x type) of a run, subscriptions in batches of at most `batchSize`. */
export function planShards(subscriptions: readonly string[], types: readonly string[], batchSize = RESOURCE_GRAPH_MAX_SUBSCRIPTIONS): Shard[] {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > RESOURCE_GRAPH_MAX_SUBSCRIPTIONS) {
    throw new RangeError(`batchSize must be 1-${RESOURCE_GRAPH_MAX_SUBSCRIPTIONS}, got ${batchSize}`);
  }
  const unique = [...new Set(subscriptions.map((s) => s.toLowerCase()))].sort();
  const batches: string[][] = [];
  for (let i = 0; i < unique.length; i += batchSize) batches.push(unique.slice(i, i + batchSize));
  const shards: Shard[] = [];
  for (const type of types) for (const batch of batches) shards.push({ index: shards.length, type: type.toLowerCase(), subscriptions: batch });
  return shards;
}

/** Remembers the quota the last answer reported and makes the next call wait when it is spent. */
export class QuotaGate {
  private remaining: number | undefined;
  private resetsAt: number | undefined;

  constructor(
    private readonly reserve: number,
    private readonly now: () => number,
  ) {}

  note(quota: QuotaState): void {
    const at = this.now();
    if (quota.remaining !== undefined) this.remaining = quota.remaining;
    if (quota.resetsAfterMs !== undefined) this.resetsAt = at + quota.resetsAfterMs;
  }

  /** Milliseconds to wait before the next call (0 when the quota allows it now). */
  waitMs(): number {
    if (this.remaining === undefined || this.remaining > this.reserve || this.resetsAt === undefined) return 0;
    const wait = this.resetsAt - this.now();
    if (wait <= 0) {
      // The window has reset: until the next answer says otherwise, assume the quota is back.
      this.remaining = undefined;
      return 0;
    }
    return wait;
  }

  /** After waiting out the window the quota is unknown again (the next answer tells). */
  waited(): void {
    this.remaining = undefined;
    this.resetsAt = undefined;
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A row as the inventory keeps it, or the reason it cannot be kept. */
export function resourceOfRow(row: unknown, shard: Shard): CollectedResource | string {
  if (!isArmResource(row)) return 'not an ARM resource row (id, and object properties when present)';
  const parsed = parseArmId(row.id);
  if (!parsed) return `id ${JSON.stringify(row.id.slice(0, 200))} is not an ARM resource id`;
  const type = (textAt(row.type) ?? parsed.type).toLowerCase();
  if (type !== shard.type || parsed.type !== shard.type) return `type ${type} is not the queried ${shard.type}`;
  const declared = isObject(row) ? textAt((row as Record<string, unknown>).subscriptionId) : undefined;
  const subscriptionId = (declared ?? parsed.subscriptionId)?.toLowerCase();
  // Assignments inherited from a management group or the tenant root carry no subscription of their own: the
  // subscription scope of the query does not own them, and keeping them would tie them to one batch arbitrarily.
  if (!subscriptionId || !shard.subscriptions.includes(subscriptionId)) return `outside the queried subscriptions (${subscriptionId ?? 'no subscription'})`;
  const raw = row as unknown as Record<string, unknown>;
  const tags = isObject(raw.tags) ? Object.fromEntries(Object.entries(raw.tags).filter((e): e is [string, string] => typeof e[1] === 'string')) : undefined;
  const resource: CollectedResource['resource'] = { id: row.id, type };
  if (textAt(row.name)) resource.name = row.name!;
  if (textAt(row.location)) resource.location = row.location!;
  if (isObject(row.properties)) resource.properties = row.properties;
  if (tags && Object.keys(tags).length > 0) resource.tags = tags;
  return { subscriptionId, type, resource };
}

export class Collector {
  private readonly pageSize: number;
  private readonly maxPages: number;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly gate: QuotaGate;
  readonly stats: CollectStats = { queries: 0, pages: 0, calls: 0, retries: 0, throttled: 0, quotaPauses: 0, waitedMs: 0, rows: 0, skipped: 0 };

  constructor(private readonly options: CollectorOptions) {
    this.pageSize = Math.min(RESOURCE_GRAPH_MAX_PAGE, Math.max(1, options.pageSize ?? RESOURCE_GRAPH_MAX_PAGE));
    this.maxPages = options.maxPages ?? 5_000;
    this.attempts = Math.max(1, options.attempts ?? 5);
    this.baseDelayMs = options.baseDelayMs ?? 1_000;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.sleep = options.sleep ?? realSleep;
    this.gate = new QuotaGate(options.quotaReserve ?? 1, options.now ?? Date.now);
  }

  async collect(shards: readonly Shard[]): Promise<CollectResult> {
    const outcomes: ShardOutcome[] = [];
    for (const shard of shards) outcomes.push(await this.collectShard(shard));
    return { outcomes, stats: { ...this.stats }, complete: outcomes.every((o) => o.status === 'complete') };
  }

  private async wait(ms: number): Promise<void> {
    const bounded = Math.min(Math.max(0, ms), this.maxDelayMs);
    if (bounded <= 0) return;
    this.stats.waitedMs += bounded;
    await this.sleep(bounded);
  }

  /** One page, with the quota pause before and the retries of throttled and transient failures. */
  private async page(shard: Shard, skipToken: string | undefined): Promise<GraphPage> {
    const query = inventoryQuery(shard.type);
    for (let attempt = 1; ; attempt++) {
      const pause = this.gate.waitMs();
      if (pause > 0) {
        this.stats.quotaPauses += 1;
        await this.wait(pause);
        this.gate.waited();
      }
      this.stats.calls += 1;
      try {
        const page = await this.options.graph.query({ subscriptions: shard.subscriptions, query, top: this.pageSize, ...(skipToken ? { skipToken } : {}) });
        this.gate.note(page.quota);
        return page;
      } catch (error) {
        const e = error instanceof GraphError ? error : new GraphError(messageOf(error), undefined, {}, true);
        this.gate.note(e.quota);
        if (e.status === 429) this.stats.throttled += 1;
        if (!e.retryable || attempt >= this.attempts) throw e;
        this.stats.retries += 1;
        const backoff = this.baseDelayMs * 2 ** (attempt - 1);
        // A 429 says when to come back; the reset time is the next best answer; otherwise back off.
        const asked = e.status === 429 ? (e.quota.retryAfterMs ?? e.quota.resetsAfterMs) : undefined;
        await this.wait(asked ?? backoff);
        if (e.status === 429) this.gate.waited();
      }
    }
  }

  private async collectShard(shard: Shard): Promise<ShardOutcome> {
    this.stats.queries += 1;
    let rows = 0;
    let pages = 0;
    let skipped = 0;
    const tokens = new Set<string>();
    const failed = (error: string): ShardOutcome => ({ shard, status: 'failed', rows, pages, skipped, error });
    let skipToken: string | undefined;
    try {
      do {
        if (pages >= this.maxPages) return failed(`more than ${this.maxPages} pages: given up as runaway paging`);
        const page = await this.page(shard, skipToken);
        pages += 1;
        this.stats.pages += 1;
        const resources: CollectedResource[] = [];
        for (const row of page.rows) {
          const kept = resourceOfRow(row, shard);
          if (typeof kept === 'string') skipped += 1;
          else resources.push(kept);
        }
        this.stats.skipped += page.rows.length - resources.length;
        if (resources.length > 0 && this.options.onPage) await this.options.onPage(shard, resources);
        rows += resources.length;
        this.stats.rows += resources.length;
        if (page.resultTruncated && !page.skipToken) return failed('Resource Graph truncated the result and gave no skipToken to continue');
        skipToken = page.skipToken;
        if (skipToken !== undefined) {
          if (tokens.has(skipToken)) return failed('Resource Graph repeated a skipToken: paging would not end');
          tokens.add(skipToken);
        }
      } while (skipToken !== undefined);
    } catch (error) {
      return failed(messageOf(error));
    }
    return { shard, status: 'complete', rows, pages, skipped };
  }
}
