import { SecretClient } from '@azure/keyvault-secrets';
import type { TokenCredential } from '@azure/identity';
import type { QualysCredentialSource } from './settings';
import { redactor } from './log';

/** Qualys credentials as the CS API client needs them. */
export type QualysCredentials = { kind: 'token'; accessToken: string } | { kind: 'password'; username: string; password: string };

export const KEY_VAULT_SECRET_NAMES = {
  accessToken: 'qualys-access-token',
  username: 'qualys-username',
  password: 'qualys-password',
} as const;

/** The part of SecretClient we use, so tests can serve secrets from a local stub. */
export interface SecretReader {
  getSecret(name: string): Promise<{ value?: string }>;
}

export class CredentialError extends Error {
  override readonly name = 'CredentialError';
}

/**
 * Loads the credentials from app settings (already resolved Key Vault references) or from Key Vault
 * with the app identity, caching them for `ttlMs` so rotation is picked up without a restart. Every
 * value is registered with the log redactor before it is handed out.
 */
export class QualysCredentialProvider {
  private cached?: { at: number; value: QualysCredentials };
  private inflight?: Promise<QualysCredentials>;

  constructor(
    private readonly source: QualysCredentialSource,
    private readonly options: { credential?: TokenCredential; secrets?: SecretReader; ttlMs?: number } = {},
  ) {}

  async get(): Promise<QualysCredentials> {
    const ttl = this.options.ttlMs ?? 15 * 60_000;
    if (this.cached && Date.now() - this.cached.at < ttl) return this.cached.value;
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Forces the next get() to reload (after the gateway rejected the credentials). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async load(): Promise<QualysCredentials> {
    const source = this.source;
    let value: QualysCredentials;
    if (source.kind === 'token') value = { kind: 'token', accessToken: source.accessToken };
    else if (source.kind === 'password') value = { kind: 'password', username: source.username, password: source.password };
    else value = await this.fromVault(source.vaultUrl);
    if (value.kind === 'token') redactor.add(value.accessToken);
    else redactor.add(value.username, value.password);
    this.cached = { at: Date.now(), value };
    return value;
  }

  private async fromVault(vaultUrl: string): Promise<QualysCredentials> {
    const secrets = this.options.secrets ?? (this.options.credential ? new SecretClient(vaultUrl, this.options.credential) : undefined);
    if (!secrets) throw new CredentialError('KEY_VAULT_URL is set but no identity is available to read it');
    const read = async (name: string): Promise<string | undefined> => {
      try {
        const secret = await secrets.getSecret(name);
        return secret.value || undefined;
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if (status === 404) return undefined;
        if (status === 403) throw new CredentialError(`Key Vault denied secret ${name}: give the app identity "Key Vault Secrets User"`);
        throw error;
      }
    };
    const token = await read(KEY_VAULT_SECRET_NAMES.accessToken);
    if (token) return { kind: 'token', accessToken: token };
    const [username, password] = await Promise.all([read(KEY_VAULT_SECRET_NAMES.username), read(KEY_VAULT_SECRET_NAMES.password)]);
    if (username && password) return { kind: 'password', username, password };
    throw new CredentialError(
      `Key Vault ${new URL(vaultUrl).host} holds neither ${KEY_VAULT_SECRET_NAMES.accessToken} nor ${KEY_VAULT_SECRET_NAMES.username} + ${KEY_VAULT_SECRET_NAMES.password}`,
    );
  }
}
