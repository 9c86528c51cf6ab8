import { request } from 'undici';
import type { FindingNotice, NotificationChannel } from '../../shared/findings/notifier';
import { renderChatPayload, type ChatKind } from '../../shared/notify/chat';
import { renderDigestChatPayload, type DigestChannel, type RenderedDigest } from '../../shared/notify/digest';
import type { ViewOptions } from '../../shared/notify/notice-view';
import { oneLine, truncate } from '../../shared/notify/text';

/**
 * JSON webhooks (Slack, Teams), one implementation for both clouds: no cloud SDK, undici for HTTP. A webhook
 * URL is a credential (whoever has it can post), so no message, error or log carries more of it than its
 * scheme and host.
 */

export class WebhookError extends Error {
  override readonly name = 'WebhookError';
  constructor(
    message: string,
    /** The last HTTP status, when the receiver answered. */
    readonly status: number | undefined,
    /** Whether a later attempt may succeed (timeouts, 408, 429, 5xx, network errors). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** `https://hooks.slack.com/[redacted]`: what of a webhook URL may be shown. */
export function redactWebhookUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/[redacted]`;
  } catch {
    return '[invalid URL]';
  }
}

/** Removes the URL, and its path and query on their own, from text (an error or a receiver's answer). */
function scrub(text: string, url: string): string {
  let out = text;
  try {
    const parsed = new URL(url);
    const secrets = [url, parsed.href, `${parsed.pathname}${parsed.search}`, parsed.search.slice(1)];
    // The path's long segments too (Slack's token, a Workflows id), in case a receiver echoes one alone.
    for (const segment of parsed.pathname.split('/')) if (segment.length >= 8) secrets.push(segment);
    for (const [, value] of parsed.searchParams) if (value.length >= 8) secrets.push(value);
    for (const secret of secrets.filter((s) => s.length > 1).sort((a, b) => b.length - a.length)) out = out.split(secret).join('[redacted]');
  } catch {
    out = out.split(url).join('[redacted]');
  }
  return out;
}

export interface WebhookDeliveryOptions {
  /** Names the receiver in errors, e.g. `slack webhook`; the redacted URL is added. */
  label: string;
  /** Attempts in all (default 3). */
  attempts?: number;
  /** First back-off; doubles per attempt (default 250 ms). */
  baseDelayMs?: number;
  /** Longest wait between attempts, Retry-After included (default 5 s). */
  maxDelayMs?: number;
  /** Per attempt, connection to last byte (default 10 s). */
  timeoutMs?: number;
}

interface Answer {
  status: number;
  retryAfterMs?: number;
  body: string;
}

const MAX_ANSWER_BYTES = 2048;

async function postOnce(url: string, body: string, timeoutMs: number): Promise<Answer> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  let text = '';
  // Only the start of an answer is read (a receiver's error is short; anything else is not worth holding).
  for await (const chunk of response.body) {
    text += String(chunk);
    if (text.length >= MAX_ANSWER_BYTES) break;
  }
  const retryAfter = retryAfterMs(response.headers['retry-after']);
  return { status: response.statusCode, body: text, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) };
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** What a status means for the person reading the error. */
function explain(status: number): string {
  if (status === 404 || status === 410) return 'the webhook URL is wrong or was revoked';
  if (status === 401 || status === 403) return 'the receiver refused the URL (revoked, or not authorised to post here)';
  if (status === 400 || status === 413 || status === 422) return 'the receiver rejected the message';
  if (status === 408 || status === 429) return 'throttled or timed out by the receiver';
  if (status >= 500) return 'the receiver failed';
  if (status >= 300 && status < 400) return 'the receiver redirected (webhook URLs do not redirect: the URL is wrong)';
  return 'unexpected answer';
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * POSTs a JSON body, retrying throttling, server errors, timeouts and network errors with exponential
 * back-off (honouring Retry-After up to maxDelayMs). Other 4xx answers are not retried: the URL or the
 * payload is wrong and stays wrong. Throws a WebhookError after the last attempt.
 */
export async function deliverWebhook(url: string, payload: unknown, options: WebhookDeliveryOptions): Promise<{ status: number; attempts: number }> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const base = options.baseDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const body = JSON.stringify(payload);
  let last = '';
  let lastStatus: number | undefined;
  let retryable = true;
  let made = 0;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    made = attempt;
    let wait = base * 2 ** (attempt - 1);
    try {
      const answer = await postOnce(url, body, timeoutMs);
      if (answer.status >= 200 && answer.status < 300) return { status: answer.status, attempts: attempt };
      lastStatus = answer.status;
      const said = truncate(oneLine(scrub(answer.body, url)), 200);
      last = `HTTP ${answer.status}, ${explain(answer.status)}${said ? ` (${said})` : ''}`;
      retryable = isRetryableStatus(answer.status);
      if (!retryable) break;
      if (answer.retryAfterMs !== undefined) wait = answer.retryAfterMs;
    } catch (error) {
      lastStatus = undefined;
      retryable = true;
      const e = error as Error;
      last = e.name === 'TimeoutError' || e.name === 'AbortError' || /timeout/i.test(e.name) ? `timed out after ${timeoutMs} ms` : truncate(oneLine(scrub(`${e.name}: ${e.message}`, url)), 200);
    }
    if (attempt < attempts) await sleep(Math.min(wait, maxDelay));
  }
  throw new WebhookError(`${options.label} ${redactWebhookUrl(url)} failed after ${made} attempt(s): ${last}`, lastStatus, retryable);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WebhookChannelOptions {
  kind: ChatKind;
  url: string;
  /** Channel name the recorder keeps (default: the kind, `slack` or `teams`). */
  name?: string;
  render?: ViewOptions;
  delivery?: Omit<WebhookDeliveryOptions, 'label'>;
}

/**
 * Slack or Teams (connector or Workflows, told apart by the URL) as a NotificationChannel. The URL is kept in
 * a private field, so logging or serialising the channel shows no more than its redacted form.
 */
export class WebhookChannel implements NotificationChannel, DigestChannel {
  readonly name: string;
  readonly #url: string;
  readonly #kind: ChatKind;
  readonly #render: ViewOptions | undefined;
  readonly #delivery: Omit<WebhookDeliveryOptions, 'label'>;

  constructor(options: WebhookChannelOptions) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(options.url);
    } catch {
      parsed = undefined;
    }
    // Checked here so a bad setting fails at start-up, not at the first finding; the URL stays out of the message.
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) throw new WebhookError(`${options.kind} webhook URL is not an http(s) URL`, undefined, false);
    this.#url = options.url;
    this.#kind = options.kind;
    this.#render = options.render;
    this.#delivery = options.delivery ?? {};
    this.name = options.name ?? options.kind;
  }

  async send(notice: FindingNotice): Promise<void> {
    const payload = renderChatPayload(this.#kind, this.#url, notice, this.#render);
    await deliverWebhook(this.#url, payload, { ...this.#delivery, label: `${this.#kind} webhook` });
  }

  /** A run's digest (deferred notifications) as one message. */
  async sendDigest(digest: RenderedDigest): Promise<void> {
    await deliverWebhook(this.#url, renderDigestChatPayload(this.#kind, this.#url, digest), { ...this.#delivery, label: `${this.#kind} webhook` });
  }

  toString(): string {
    return `WebhookChannel(${this.name}, ${redactWebhookUrl(this.#url)})`;
  }

  toJSON(): Record<string, string> {
    return { name: this.name, url: redactWebhookUrl(this.#url) };
  }
}
