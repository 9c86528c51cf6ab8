import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NotifySecretsSchema, type NotifySecrets } from '../../../shared/findings/notify-secrets';

/**
 * The notify secret (SMTP credentials, Slack / Teams webhook URLs), read from Secrets Manager once per cold
 * start: the channels are built from it once and live as long as the container. A failed read is not kept,
 * so the next record tries again (and the failing one is retried by SQS). Values never reach an error
 * message or a log line: errors name the secret and what is wrong with its shape only.
 */

export class NotifySecretError extends Error {
  override readonly name = 'NotifySecretError';
  constructor(readonly secretId: string, reason: string) {
    super(`notify secret ${secretId}: ${reason}`);
  }
}

/** Parses the secret's JSON; the error names the keys at fault, never their values. */
export function notifySecretsFromString(secretId: string, value: string | undefined): NotifySecrets {
  const raw = (value ?? '').trim();
  if (!raw) throw new NotifySecretError(secretId, 'the secret has no string value');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new NotifySecretError(secretId, 'the secret is not JSON (expected {"smtpUsername", "smtpPassword", "slackWebhookUrl", "teamsWebhookUrl"}, each optional)');
  }
  const parsed = NotifySecretsSchema.safeParse(json);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || '(whole value)')))];
    throw new NotifySecretError(secretId, `unexpected or invalid keys: ${keys.join(', ')}`);
  }
  return parsed.data;
}

export class NotifySecretReader {
  private pending?: Promise<NotifySecrets>;

  constructor(
    private readonly secrets: SecretsManagerClient,
    /** Unset when the stack configures no secret channel setting: then there is nothing to read. */
    private readonly secretId: string | undefined,
  ) {}

  /** The secret's values, read on the first call only (and again after a failed read). */
  read(): Promise<NotifySecrets> {
    const secretId = this.secretId;
    if (!secretId) return Promise.resolve({});
    this.pending ??= this.secrets.send(new GetSecretValueCommand({ SecretId: secretId })).then(
      (response) => notifySecretsFromString(secretId, response.SecretString),
      (error: unknown) => {
        // An AWS error names the call and the resource (AccessDenied, ResourceNotFound, KMS), never the value.
        const e = error as { name?: string; message?: string };
        throw new NotifySecretError(secretId, `GetSecretValue failed: ${e.name ?? 'Error'}: ${String(e.message ?? '').replace(/\s+/g, ' ').slice(0, 300)}`);
      },
    );
    const current = this.pending;
    current.catch(() => {
      if (this.pending === current) this.pending = undefined;
    });
    return current;
  }
}
