import { createHash } from 'node:crypto';
import { safeBlobPath, safeTableKey } from '../../shared/storage-keys';

/**
 * Storage names derived from untrusted text (image references, resource ids, correlation ids), through
 * the shared reversible encoding, so the same image gets the same key in every store.
 */

export function tableKey(value: string): string {
  return safeTableKey(value);
}

/** Joins segments into a blob name; a segment holding `/` (a repository path) keeps its folders. */
export function blobPath(...segments: string[]): string {
  return safeBlobPath(...segments.flatMap((s) => s.split('/')).filter((s) => s.length > 0));
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
