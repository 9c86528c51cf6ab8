/**
 * Typed failures of the Qualys Container Security API. `retryable` tells callers (queue handlers)
 * whether trying again later can help; permanent failures must be recorded, not retried.
 */
export abstract class QualysError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    message: string,
    /** HTTP status when the failure came from a response. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Bad credentials, a rejected token after one re-authentication, or a forbidden call. */
export class QualysAuthError extends QualysError {
  override readonly name = 'QualysAuthError';
  readonly retryable = false;
}

/** 429 (or 409) that outlasted the client's wait budget; try again after retryAfterSec. */
export class QualysRateLimitError extends QualysError {
  override readonly name = 'QualysRateLimitError';
  readonly retryable = true;
  constructor(message: string, readonly retryAfterSec: number, status = 429) {
    super(message, status);
  }
}

export class QualysNotFoundError extends QualysError {
  override readonly name = 'QualysNotFoundError';
  readonly retryable = false;
}

/** The image's registry has no Qualys registry connector: a permanent REGISTRY_NOT_ONBOARDED failure. */
export class RegistryNotOnboardedError extends QualysError {
  override readonly name = 'RegistryNotOnboardedError';
  readonly retryable = false;
  readonly code = 'REGISTRY_NOT_ONBOARDED';
  constructor(readonly registry: string, readonly triedUris: readonly string[]) {
    super(`registry ${registry} is not onboarded in Qualys Container Security (looked up ${triedUris.join(', ')}); add a registry connector for it`);
  }
}

/** 5xx, timeouts and dropped connections that persisted through the retries. */
export class QualysServerError extends QualysError {
  override readonly name: string = 'QualysServerError';
  readonly retryable = true;
}

/** A response body that is not what the API documents (bad JSON, wrong shape). */
export class QualysMalformedResponseError extends QualysServerError {
  override readonly name = 'QualysMalformedResponseError';
}

/** A 4xx the caller caused (bad filter, bad parameter): retrying the same request cannot help. */
export class QualysRequestError extends QualysError {
  override readonly name = 'QualysRequestError';
  readonly retryable = false;
}

/** Options given to the client or the workflow that cannot work (unknown POD, missing credentials). */
export class QualysConfigError extends Error {
  override readonly name = 'QualysConfigError';
  constructor(readonly option: string, reason: string) {
    super(`invalid Qualys option ${option}: ${reason}`);
  }
}
