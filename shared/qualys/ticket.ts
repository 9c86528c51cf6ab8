import { z } from 'zod';
import type { ScanTicket } from './contracts';

const text = z.string().min(1);

/** ScanTicket as it may arrive from a queue: validated, unknown keys dropped. */
export const ScanTicketSchema = z.object({
  v: z.literal(1),
  image: text,
  registry: text,
  repository: text,
  tag: text.optional(),
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/, 'sha256:<64 lowercase hex>').optional(),
  imageSha: text.optional(),
  registryUuid: text.optional(),
  scheduleId: text.optional(),
  reused: z.boolean(),
  submittedAt: z.iso.datetime({ offset: true }),
  scheduledAtServer: z.number().int().nonnegative().optional(),
  sizeBytes: z.number().nonnegative().optional(),
  vulnCount: z.number().int().nonnegative().optional(),
});

export class ScanTicketError extends Error {
  override readonly name = 'ScanTicketError';
  constructor(readonly issues: readonly string[]) {
    super(`invalid ScanTicket: ${issues.join('; ')}`);
  }
}

/** Validates an untrusted ticket (e.g. from a queue message). */
export function parseScanTicket(value: unknown): ScanTicket {
  const parsed = ScanTicketSchema.safeParse(value);
  if (!parsed.success) throw new ScanTicketError(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`));
  const t = parsed.data;
  // Rebuilt field by field so optional keys are absent rather than undefined (exactOptionalPropertyTypes-safe JSON).
  const ticket: ScanTicket = { v: 1, image: t.image, registry: t.registry, repository: t.repository, reused: t.reused, submittedAt: t.submittedAt };
  if (t.tag !== undefined) ticket.tag = t.tag;
  if (t.digest !== undefined) ticket.digest = t.digest;
  if (t.imageSha !== undefined) ticket.imageSha = t.imageSha;
  if (t.registryUuid !== undefined) ticket.registryUuid = t.registryUuid;
  if (t.scheduleId !== undefined) ticket.scheduleId = t.scheduleId;
  if (t.scheduledAtServer !== undefined) ticket.scheduledAtServer = t.scheduledAtServer;
  if (t.sizeBytes !== undefined) ticket.sizeBytes = t.sizeBytes;
  if (t.vulnCount !== undefined) ticket.vulnCount = t.vulnCount;
  return ticket;
}
