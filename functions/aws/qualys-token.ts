import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * The Qualys access token from Secrets Manager, cached for a few minutes so a warm container does
 * not call Secrets Manager per record, yet picks up a rotated token soon. The value never reaches a
 * log line or an error message.
 */

export class QualysTokenError extends Error {
  override readonly name = 'QualysTokenError';
  constructor(readonly secretId: string, reason: string) {
    super(`Qualys token secret ${secretId}: ${reason}`);
  }
}

/** Accepts `{ "accessToken": "..." }` or the token as a plain string. */
export function tokenFromSecretString(secretId: string, value: string | undefined): string {
  const raw = (value ?? '').trim();
  if (!raw) throw new QualysTokenError(secretId, 'the secret has no string value');
  if (raw.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new QualysTokenError(secretId, 'the secret looks like JSON but does not parse (expected {"accessToken": "..."})');
    }
    const token = (parsed as { accessToken?: unknown }).accessToken;
    if (typeof token !== 'string' || token.trim() === '') throw new QualysTokenError(secretId, 'the JSON secret has no non-empty "accessToken" string');
    return token.trim();
  }
  return raw;
}

export class QualysTokenProvider {
  private cached?: { token: string; until: number };

  constructor(
    private readonly secrets: SecretsManagerClient,
    private readonly secretId: string,
    private readonly ttlMs = 5 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  async token(): Promise<string> {
    if (this.cached && this.cached.until > this.now()) return this.cached.token;
    const response = await this.secrets.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const token = tokenFromSecretString(this.secretId, response.SecretString);
    this.cached = { token, until: this.now() + this.ttlMs };
    return token;
  }
}
