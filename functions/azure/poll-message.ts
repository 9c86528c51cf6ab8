import { z } from 'zod';
import type { QueueClient } from '@azure/storage-queue';
import type { ScanTicket } from '../../shared/qualys/contracts';
import { ImageTargetSchema } from '../../shared/scan-result';
import { CONTAINER_TYPES } from './telemetry-names';
import { createOnce } from './storage-clients';
import { MAX_RESOURCE_ID_CHARS } from './deployment-event';

/**
 * The message that carries a scan through `scan-polls`. It rides the queue between invocations, so
 * it is validated on every read like any other untrusted input.
 */

const text = z.string().min(1);
const iso = z.iso.datetime({ offset: true });

export const ScanTicketSchema = z.looseObject({
  v: z.literal(1),
  image: text,
  registry: text,
  repository: text,
  tag: text.optional(),
  digest: text.optional(),
  imageSha: text.optional(),
  registryUuid: text.optional(),
  scheduleId: text.optional(),
  reused: z.boolean(),
  submittedAt: text,
  sizeBytes: z.number().nonnegative().optional(),
});

/**
 * Every field ends up in a ScanResult and a ScanMetadata row, so a message is read only if they can hold
 * it: the image as a ScanResult target takes it (the digest rule is that schema's), and no text is longer
 * than a Table property keeps. onDeployment writes far shorter values (parsed references, ARM ids).
 */
const NAME_MAX = 1024;
const REFERENCE_MAX = 2048;
const name = text.max(NAME_MAX);

export const PollMessageSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('scan-poll'),
  scanId: text.max(256),
  /** Content key of the lock and cache (digest, else canonical reference). */
  contentKey: text.max(REFERENCE_MAX),
  /** The deployment event that owns the lock (resource key and correlation id). */
  owner: text.max(REFERENCE_MAX),
  image: z.strictObject({ registry: name, repository: name, tag: name.optional(), digest: ImageTargetSchema.shape.digest, reference: text.max(REFERENCE_MAX) }),
  containerType: z.enum(CONTAINER_TYPES),
  workload: z.strictObject({ resourceId: text.max(MAX_RESOURCE_ID_CHARS), subscriptionId: name, resourceGroup: name, location: name.optional() }),
  ticket: ScanTicketSchema,
  /** When the deployment event arrived and when the scan was submitted. */
  eventAt: iso,
  startedAt: iso,
  deadline: iso,
  /** Status checks done so far (feeds the poll policy's backoff). */
  checks: z.number().int().nonnegative(),
  /** Transient Qualys failures in a row (0 or absent after a check that worked); bounded by the retry policy. */
  attempts: z.number().int().nonnegative().optional(),
  /** Times Qualys' rate limit handed this scan back for later; the deadline bounds them. */
  deferrals: z.number().int().nonnegative().optional(),
});

export type PollMessage = Omit<z.infer<typeof PollMessageSchema>, 'ticket'> & { ticket: ScanTicket };

export class PollMessageError extends Error {
  override readonly name = 'PollMessageError';
}

/**
 * onDeployment writes messages of about 1.5 KB. A much larger one is not ours, and re-sending it with
 * a check more (and the ticket the check updated) could outgrow a queue message (64 KB) and fail every delivery.
 */
export const POLL_MESSAGE_MAX_CHARS = 16 * 1024;

export function parsePollMessage(value: unknown): PollMessage {
  const parsed = PollMessageSchema.safeParse(value);
  if (!parsed.success) {
    throw new PollMessageError(
      `not a scan-poll message: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  let size: number;
  try {
    size = JSON.stringify(parsed.data).length;
  } catch {
    // The ticket keeps keys it does not know; one of them held more levels than JSON.stringify can write.
    throw new PollMessageError('scan-poll message nested too deeply to be sent again');
  }
  if (size > POLL_MESSAGE_MAX_CHARS) throw new PollMessageError(`scan-poll message of ${size} characters (at most ${POLL_MESSAGE_MAX_CHARS})`);
  return parsed.data as PollMessage;
}

/** Azure queues hold a message for at most 7 days of invisibility. */
const MAX_VISIBILITY_SEC = 7 * 24 * 3600 - 60;

export class PollQueue {
  constructor(private readonly queue: QueueClient) {}

  readonly ensure = createOnce(() => this.queue.createIfNotExists());

  /** Base64 like the Functions host expects (`messageEncoding: base64`, its default). */
  async enqueue(message: PollMessage, delaySec: number): Promise<void> {
    const body = Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
    const visibilityTimeout = Math.max(0, Math.min(MAX_VISIBILITY_SEC, Math.ceil(delaySec)));
    await this.queue.sendMessage(body, { visibilityTimeout, messageTimeToLive: -1 });
  }
}
