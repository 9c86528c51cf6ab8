import { createHash } from 'node:crypto';

/**
 * Storage names derived from untrusted text (image references, resource ids, correlation ids).
 * Table keys may not hold / \ # ? or control characters; blob names should not hold `..` segments.
 */

export function tableKey(value: string): string {
  const cleaned = value.replace(/[\/\\#?\u0000-\u001f\u007f-\u009f]/g, '_');
  // Keys are capped at 1 KiB; long ones keep a hash so distinct inputs stay distinct.
  return cleaned.length <= 400 ? cleaned : `${cleaned.slice(0, 300)}~${sha256(value).slice(0, 32)}`;
}

export function blobPath(...segments: string[]): string {
  return segments
    .flatMap((s) => s.split('/'))
    .filter((s) => s.length > 0)
    .map((s) => {
      const cleaned = s.replace(/[^A-Za-z0-9._@+=-]/g, '_');
      return cleaned === '.' || cleaned === '..' ? cleaned.replace(/\./g, '_') : cleaned;
    })
    .join('/');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
