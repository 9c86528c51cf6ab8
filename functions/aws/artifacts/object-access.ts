import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { UnknownAccountError } from '../account-access';
import type { SpokeRole } from '../env';

/**
 * Who reads an object: the scanner's own role in its own account; in a spoke account, that spoke's object-reader
 * role with the spoke's ExternalId; in any other account of the organisation, the role the StackSet (or the
 * organisation) put there under the configured name (`crossAccountRoleName`), with the organisation ExternalId
 * when one is configured. An account none of these covers is refused up front (UnknownAccountError): reading it
 * with the scanner's own role could only end in AccessDenied.
 */

export interface ObjectAccessOptions {
  /** Object-reader roles of the configured spokes. */
  spokes: readonly SpokeRole[];
  /** Role name to assume in any other account (organisation-wide forwarding); absent: only spokes. */
  orgRoleName?: string;
  orgExternalId?: string;
  partition?: string;
  sessionName?: string;
  now?: () => number;
  /** forcePathStyle etc. for emulators; the checksum settings are always WHEN_REQUIRED (GetObject only). */
  clientConfig?: Partial<S3ClientConfig>;
  decorate?: (client: S3Client) => S3Client;
}

const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export class ObjectAccess {
  private readonly spokes: Map<string, SpokeRole>;
  private readonly credentials = new Map<string, Promise<AwsCredentialIdentity>>();
  private readonly clients = new Map<string, S3Client>();
  private own: string | undefined;

  constructor(
    private readonly sts: STSClient,
    private readonly options: ObjectAccessOptions,
  ) {
    this.spokes = new Map(options.spokes.map((role) => [role.accountId, role]));
  }

  setOwnAccount(account: string | undefined): void {
    if (account && /^[0-9]{12}$/.test(account)) this.own = account;
  }

  get ownAccount(): string | undefined {
    return this.own;
  }

  /** The role ARN (and ExternalId) used for an account; undefined for the own account. Throws for an unknown one. */
  roleFor(account: string): { roleArn: string; externalId?: string } | undefined {
    if (account === this.own) return undefined;
    const spoke = this.spokes.get(account);
    if (spoke) return { roleArn: spoke.roleArn, externalId: spoke.externalId };
    if (this.options.orgRoleName) {
      return {
        roleArn: `arn:${this.options.partition ?? 'aws'}:iam::${account}:role/${this.options.orgRoleName}`,
        ...(this.options.orgExternalId ? { externalId: this.options.orgExternalId } : {}),
      };
    }
    throw new UnknownAccountError(account, this.own, [...this.spokes.keys()]);
  }

  private async assumed(account: string, role: { roleArn: string; externalId?: string }): Promise<AwsCredentialIdentity> {
    const cached = this.credentials.get(account);
    const now = (this.options.now ?? Date.now)();
    if (cached) {
      const credentials = await cached.catch(() => undefined);
      if (credentials?.expiration && credentials.expiration.getTime() - REFRESH_MARGIN_MS > now) return credentials;
    }
    const pending = (async () => {
      const response = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: role.roleArn,
          RoleSessionName: this.options.sessionName ?? 'shipscan-objects',
          DurationSeconds: 3600,
          ...(role.externalId ? { ExternalId: role.externalId } : {}),
        }),
      );
      const c = response.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) throw new Error(`AssumeRole on ${role.roleArn} returned no credentials`);
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: new Date(c.Expiration) };
    })();
    this.credentials.set(account, pending);
    pending.catch(() => this.credentials.delete(account));
    return pending;
  }

  /** Assumes the account's role now (so a role that cannot be assumed fails before the download). */
  async check(account: string): Promise<void> {
    const role = this.roleFor(account);
    if (role) await this.assumed(account, role);
  }

  /** One S3 client per account and region (connection reuse). Throws UnknownAccountError for an unknown account. */
  s3(account: string, region: string): S3Client {
    const key = `${account}/${region}`;
    let client = this.clients.get(key);
    if (!client) {
      const role = this.roleFor(account);
      client = new S3Client({
        region,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...this.options.clientConfig,
        ...(role ? { credentials: async () => this.assumed(account, role) } : {}),
      });
      if (this.options.decorate) client = this.options.decorate(client);
      this.clients.set(key, client);
    }
    return client;
  }
}
