import { randomUUID } from 'node:crypto';
import { InvocationContext, type LogHandler } from '@azure/functions';
import type { QueueServiceClient, QueueClient, DequeuedMessageItem } from '@azure/storage-queue';

/**
 * Drives queue-triggered handlers from real (Azurite) queues the way the Functions host's queue
 * listener does: fetch a batch with a lease (visibility timeout), decode the body (base64 by
 * default), invoke the handler with the trigger metadata (id, dequeueCount, popReceipt...), delete
 * on success, make the message visible again after `retryVisibilitySec` on failure, and move it to
 * `<queue>-poison` once it has failed `maxDequeueCount` times.
 */

export interface PumpFunction {
  name: string;
  queueName: string;
  handler: (message: unknown, context: InvocationContext) => Promise<unknown>;
}

export interface QueuePumpOptions {
  queues: QueueServiceClient;
  functions: PumpFunction[];
  maxDequeueCount: number;
  /** Visibility after a failed invocation (host.json `visibilityTimeout`). */
  retryVisibilitySec?: number;
  /** Lease while an invocation runs (the host renews its lease; one generous lease is enough here). */
  leaseSec?: number;
  batchSize?: number;
  /** Longest pause between two empty polls (host.json `maxPollingInterval`). */
  maxPollIntervalMs?: number;
  messageEncoding?: 'base64' | 'none';
  /** Receives every log line of every invocation (and the pump's own poison warnings). */
  logHandler?: LogHandler;
}

export interface PumpStats {
  invocations: number;
  succeeded: number;
  failed: number;
  poisoned: number;
  /** Wall time of each invocation in ms, per function. */
  durations: Record<string, number[]>;
}

export interface InvocationRecord {
  function: string;
  messageId: string;
  dequeueCount: number;
  ok: boolean;
  error?: string;
  result?: unknown;
  ms: number;
}

export function poisonQueueName(queue: string): string {
  return `${queue}-poison`;
}

/** The host's text for a poisoned message (the KQL poison alert matches it). */
export function poisonMessageText(maxDequeueCount: number, poisonQueue: string): string {
  return `Message has reached MaxDequeueCount of ${maxDequeueCount}. Moving message to queue '${poisonQueue}'.`;
}

export class MessageDecodeError extends Error {
  override readonly name = 'MessageDecodeError';
}

function decode(text: string, encoding: 'base64' | 'none'): unknown {
  // The host refuses to bind a body that is not base64 when messageEncoding is base64.
  if (encoding === 'base64' && (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text))) {
    throw new MessageDecodeError('The input is not a valid Base-64 string (host.json messageEncoding is base64)');
  }
  const body = encoding === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text;
  // The Node worker hands JSON bodies over parsed, anything else as a string.
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export class QueuePump {
  readonly stats: PumpStats = { invocations: 0, succeeded: 0, failed: 0, poisoned: 0, durations: {} };
  readonly invocations: InvocationRecord[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private inFlight = 0;
  private wake?: () => void;

  constructor(private readonly options: QueuePumpOptions) {}

  private get log(): LogHandler {
    return this.options.logHandler ?? (() => undefined);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const fn of this.options.functions) {
      const queue = this.options.queues.getQueueClient(fn.queueName);
      const poison = this.options.queues.getQueueClient(poisonQueueName(fn.queueName));
      await queue.createIfNotExists();
      await poison.createIfNotExists();
      this.loops.push(this.loop(fn, queue, poison));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Resolves when every pumped queue is empty (visible or not) and no invocation runs. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (this.inFlight === 0) {
        const counts = await Promise.all(
          this.options.functions.map(async (fn) => (await this.options.queues.getQueueClient(fn.queueName).getProperties()).approximateMessagesCount ?? 0),
        );
        if (this.inFlight === 0 && counts.every((c) => c === 0)) return;
      }
      if (Date.now() > until) throw new Error(`queue pump did not drain within ${timeoutMs} ms (${this.inFlight} invocations running)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async loop(fn: PumpFunction, queue: QueueClient, poison: QueueClient): Promise<void> {
    const maxInterval = this.options.maxPollIntervalMs ?? 200;
    let idle = 25;
    while (this.running) {
      let items: DequeuedMessageItem[] = [];
      try {
        const answer = await queue.receiveMessages({ numberOfMessages: this.options.batchSize ?? 16, visibilityTimeout: this.options.leaseSec ?? 120 });
        items = answer.receivedMessageItems;
      } catch (error) {
        if (!this.running) break;
        this.log('error', `queue pump: receive from ${fn.queueName} failed: ${(error as Error).message}`);
      }
      if (items.length === 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, idle);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        idle = Math.min(maxInterval, idle * 2);
        continue;
      }
      idle = 25;
      this.inFlight += items.length;
      await Promise.all(items.map((item) => this.dispatch(fn, queue, poison, item).finally(() => (this.inFlight -= 1))));
    }
  }

  private async dispatch(fn: PumpFunction, queue: QueueClient, poison: QueueClient, item: DequeuedMessageItem): Promise<void> {
    const max = this.options.maxDequeueCount;
    if (item.dequeueCount > max) {
      await this.toPoison(fn, queue, poison, item);
      return;
    }
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: fn.name,
      logHandler: this.log,
      triggerMetadata: {
        id: item.messageId,
        dequeueCount: item.dequeueCount,
        insertionTime: item.insertedOn.toISOString(),
        expirationTime: item.expiresOn.toISOString(),
        nextVisibleTime: item.nextVisibleOn.toISOString(),
        popReceipt: item.popReceipt,
        queueTrigger: item.messageText,
      },
      options: { trigger: { type: 'queueTrigger', name: 'queueItem', queueName: fn.queueName, connection: 'AzureWebJobsStorage' } },
    });
    const started = performance.now();
    this.stats.invocations += 1;
    let ok = true;
    let failure: unknown;
    let result: unknown;
    try {
      result = await fn.handler(decode(item.messageText, this.options.messageEncoding ?? 'base64'), context);
    } catch (error) {
      ok = false;
      failure = error;
    }
    const ms = performance.now() - started;
    (this.stats.durations[fn.name] ??= []).push(ms);
    this.invocations.push({ function: fn.name, messageId: item.messageId, dequeueCount: item.dequeueCount, ok, ms, result, ...(ok ? {} : { error: (failure as Error)?.message ?? String(failure) }) });
    if (ok) {
      this.stats.succeeded += 1;
      await queue.deleteMessage(item.messageId, item.popReceipt);
      return;
    }
    this.stats.failed += 1;
    this.log('error', `Executed '${fn.name}' (Failed, Id=${context.invocationId}): ${(failure as Error)?.message ?? String(failure)}`);
    if (item.dequeueCount >= max) {
      await this.toPoison(fn, queue, poison, item);
      return;
    }
    await queue.updateMessage(item.messageId, item.popReceipt, undefined, this.options.retryVisibilitySec ?? 30);
  }

  private async toPoison(fn: PumpFunction, queue: QueueClient, poison: QueueClient, item: DequeuedMessageItem): Promise<void> {
    this.log('warning', poisonMessageText(this.options.maxDequeueCount, poisonQueueName(fn.queueName)));
    await poison.sendMessage(item.messageText, { messageTimeToLive: -1 });
    await queue.deleteMessage(item.messageId, item.popReceipt);
    this.stats.poisoned += 1;
  }
}
