import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ECRClient } from '@aws-sdk/client-ecr';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { SpokeRole } from './env';

/**
 * Access to the accounts whose functions are scanned: the scanner's own role for its own account,
 * an assumed spoke role (with that spoke's ExternalId) for every other account configured as a spoke.
 */

export class SpokeAccessError extends Error {
  override readonly name = 'SpokeAccessError';
  constructor(readonly account: string, reason: string) {
    super(`cannot access account ${account}: ${reason}`);
  }
}

/** Refresh this long before the assumed credentials expire, so no call starts with dying credentials. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export class SpokeCredentials {
  private readonly roles: Map<string, SpokeRole>;
  private readonly cache = new Map<string, Promise<AwsCredentialIdentity>>();

  constructor(
    private readonly sts: STSClient,
    roles: readonly SpokeRole[],
    private readonly sessionName = 'shipscan-scanner',
    private readonly now: () => number = Date.now,
  ) {
    this.roles = new Map(roles.map((role) => [role.accountId, role]));
  }

  isSpoke(account: string): boolean {
    return this.roles.has(account);
  }

  spokeAccounts(): string[] {
    return [...this.roles.keys()];
  }

  /** Credentials of the spoke role, or undefined for accounts served by the scanner's own role. */
  async forAccount(account: string): Promise<AwsCredentialIdentity | undefined> {
    const role = this.roles.get(account);
    if (!role) return undefined;
    const cached = this.cache.get(account);
    if (cached) {
      const credentials = await cached.catch(() => undefined);
      if (credentials?.expiration && credentials.expiration.getTime() - REFRESH_MARGIN_MS > this.now()) return credentials;
    }
    const pending = this.assume(role);
    this.cache.set(account, pending);
    pending.catch(() => this.cache.delete(account));
    return pending;
  }

  private async assume(role: SpokeRole): Promise<AwsCredentialIdentity> {
    const response = await this.sts.send(
      new AssumeRoleCommand({ RoleArn: role.roleArn, ExternalId: role.externalId, RoleSessionName: this.sessionName, DurationSeconds: 3600 }),
    );
    const c = response.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new SpokeAccessError(role.accountId, `AssumeRole on ${role.roleArn} returned no credentials`);
    }
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: new Date(c.Expiration) };
  }
}

export interface RegionalClients {
  lambda: LambdaClient;
  ecr: ECRClient;
}

export type ClientDecorator = <T extends LambdaClient | ECRClient>(client: T) => T;

/** Lambda and ECR clients per account and region, reusing one client per pair (connection reuse). */
export class AccountClients {
  private readonly clients = new Map<string, RegionalClients>();

  constructor(
    readonly credentials: SpokeCredentials,
    private readonly decorate: ClientDecorator = (client) => client,
  ) {}

  for(account: string, region: string): RegionalClients {
    const key = `${account}/${region}`;
    let entry = this.clients.get(key);
    if (!entry) {
      const spoke = this.credentials.isSpoke(account);
      const config = {
        region,
        // The provider is consulted per request; SpokeCredentials caches until shortly before expiry.
        ...(spoke ? { credentials: async () => (await this.credentials.forAccount(account))! } : {}),
      };
      entry = { lambda: this.decorate(new LambdaClient(config)), ecr: this.decorate(new ECRClient(config)) };
      this.clients.set(key, entry);
    }
    return entry;
  }
}
