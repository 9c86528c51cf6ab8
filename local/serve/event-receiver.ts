/**
 * The HTTP front of `npm start -- --serve`: accepts events on loopback the way the clouds deliver
 * them, then hands them to the embedded pipeline.
 *   POST /eventgrid    Event Grid webhook semantics: the SubscriptionValidation handshake (echo the
 *                      validationCode), CloudEvents abuse protection (OPTIONS + WebHook-Request-Origin),
 *                      and notifications in either schema, single or batched.
 *   POST /eventbridge  EventBridge envelopes, raw CloudTrail records or bulk targets (one or an array).
 * Anything else is answered with a 4xx that says what was expected.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyEvents, type ReplayItem } from '../replay/detect';

export interface EventReceiverHandlers {
  /** Azure events to deliver to the `deployments` queue. */
  azure(items: Extract<ReplayItem, { cloud: 'azure' }>[]): Promise<void>;
  /** AWS events to deliver to the scan queue. */
  aws(items: Extract<ReplayItem, { cloud: 'aws' }>[]): Promise<void>;
}

export interface EventReceiver {
  url: string;
  stop(): Promise<void>;
}

const VALIDATION_EVENT = 'Microsoft.EventGrid.SubscriptionValidationEvent';
const MAX_BODY_BYTES = 1024 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    // Event Grid caps a delivery at 1 MB; a larger body is not an event delivery.
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body larger than 1 MB');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

function send(response: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers });
  response.end(body === undefined ? undefined : JSON.stringify(body));
}

export async function startEventReceiver(handlers: EventReceiverHandlers, port = 0): Promise<EventReceiver> {
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://receiver');
    if (url.pathname === '/eventgrid' && request.method === 'OPTIONS') {
      const origin = request.headers['webhook-request-origin'];
      if (typeof origin !== 'string') throw new HttpError(400, 'OPTIONS needs a WebHook-Request-Origin header (CloudEvents abuse protection)');
      send(response, 200, undefined, { 'WebHook-Allowed-Origin': origin, 'WebHook-Allowed-Rate': '*' });
      return;
    }
    if (request.method !== 'POST' || (url.pathname !== '/eventgrid' && url.pathname !== '/eventbridge')) {
      throw new HttpError(404, 'POST events to /eventgrid (Event Grid / CloudEvents) or /eventbridge (EventBridge, CloudTrail, bulk targets)');
    }
    const items = classifyEvents(await readJson(request));
    if (url.pathname === '/eventgrid') {
      const validation = items.find((item) => item.cloud === 'azure' && item.event.eventType === VALIDATION_EVENT);
      if (validation) {
        const data = (validation.event as { data?: { validationCode?: unknown } }).data;
        if (typeof data?.validationCode !== 'string') throw new HttpError(400, 'SubscriptionValidationEvent without data.validationCode');
        send(response, 200, { validationResponse: data.validationCode });
        return;
      }
      const azure = items.filter((item): item is Extract<ReplayItem, { cloud: 'azure' }> => item.cloud === 'azure');
      if (azure.length !== items.length) throw new HttpError(400, 'expected Event Grid or CloudEvents 1.0 events');
      await handlers.azure(azure);
    } else {
      const aws = items.filter((item): item is Extract<ReplayItem, { cloud: 'aws' }> => item.cloud === 'aws');
      if (aws.length !== items.length) throw new HttpError(400, 'expected EventBridge envelopes, CloudTrail records or bulk targets');
      await handlers.aws(aws);
    }
    send(response, 202, { accepted: items.length });
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      send(response, status, { error: (error as Error).message });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
