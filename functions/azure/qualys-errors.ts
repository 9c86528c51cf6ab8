import { QualysAuthError } from '../../shared/qualys/errors';

/**
 * Sorts errors from the Qualys workflow into permanent ones (record FAILED, complete the message) and
 * transient ones (throw, the queue retries). The engines mark permanent errors with `retryable: false`
 * or a known code; anything unmarked is treated as transient, and the last delivery records it.
 */
const PERMANENT_CODES = new Set([
  'REGISTRY_NOT_ONBOARDED',
  'IMAGE_NOT_FOUND',
  'NOT_FOUND',
  'INVALID_IMAGE',
  'INVALID_REFERENCE',
  'UNSUPPORTED_REGISTRY',
  'SCAN_FAILED',
  'BAD_REQUEST',
  'FORBIDDEN',
]);

export interface QualysErrorInfo {
  permanent: boolean;
  code: string;
  message: string;
}

export function classifyQualysError(error: unknown): QualysErrorInfo {
  const e = error as { code?: unknown; retryable?: unknown; permanent?: unknown; name?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && e.code ? e.code : typeof e?.name === 'string' ? e.name : 'ERROR';
  const message = typeof e?.message === 'string' ? e.message : String(error);
  // A 401/403 is often a rotated token not yet visible through the versionless Key Vault reference:
  // transient, so only the last delivery records it.
  if (error instanceof QualysAuthError) return { permanent: false, code, message };
  const permanent = e?.retryable === false || e?.permanent === true || PERMANENT_CODES.has(code.toUpperCase());
  return { permanent, code, message };
}
