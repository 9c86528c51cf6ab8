import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ECRClient } from '@aws-sdk/client-ecr';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { SpokeRole } from './env';

/**
 * Access to the accounts whose functions are scanned: the scanner's own role for its own account,
 * an assumed spoke role (with that spoke's ExternalId) for every account configured as a spoke, and
 * nothing for any other account. Reading a third account with the scanner's own role can only end in
 * AccessDenied, so such an account is refused up front with what to configure.
 */

export class SpokeAccessError extends Error {
  override readonly name = 'SpokeAccessError';
  constructor(readonly account: string, reason: string) {
    super(`cannot access account ${account}: ${reason}`);
  }
}

/** Neither the scanner's own account nor a configured spoke: no retry can change that, only configuration. */
export class UnknownAccountError extends Error {
  override readonly name = 'UnknownAccountError';
  constructor(
    readonly account: string,
    readonly ownAccount: string | undefined,
    readonly spokes: readonly string[],
  ) {
    super(
      `account ${account} is neither the scanner's own account (${ownAccount ?? 'not known: no invokedFunctionArn'}) nor a configured spoke ` +
        `(${spokes.length > 0 ? spokes.join(', ') : 'none configured'}): add it to shipscan:aws.spokes ({accountId, externalId, roleName}), ` +
        'deploy the spoke stack in that account, then redeploy the hub',
    );
  }
}

/** Label the bulk scan uses for "the scanner's own account" when no account id is named. */
export const OWN_ACCOUNT = 'self';

export type AccountAccess = 'own' | 'spoke' | 'unknown';

const FUNCTION_ARN_ACCOUNT = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:([0-9]{12}):function:/;

/** The account of a Lambda function ARN (the context's invokedFunctionArn), or undefined. */
export function accountOfFunctionArn(arn: string | undefined): string | undefined {
  return arn ? FUNCTION_ARN_ACCOUNT.exec(arn)?.[1] : undefined;
}

/** Refresh this long before the assumed credentials expire, so no call starts with dying credentials. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export class SpokeCredentials {
  private readonly roles: Map<string, SpokeRole>;
  private readonly cache = new Map<string, Promise<AwsCredentialIdentity>>();
  private own: string | undefined;

  constructor(
    private readonly sts: STSClient,
    roles: readonly SpokeRole[],
    private readonly sessionName = 'shipscan-scanner',
    private readonly now: () => number = Date.now,
    ownAccount?: string,
  ) {
    this.roles = new Map(roles.map((role) => [role.accountId, role]));
    this.own = ownAccount;
  }

  /**
   * The handlers call this with the account of the context's invokedFunctionArn on every
   * invocation: no environment variable is needed and it cannot disagree with where the code runs.
   */
  setOwnAccount(account: string | undefined): void {
    if (account && /^[0-9]{12}$/.test(account)) this.own = account;
  }

  get ownAccount(): string | undefined {
    return this.own;
  }

  isSpoke(account: string): boolean {
    return this.roles.has(account);
  }

  spokeAccounts(): string[] {
    return [...this.roles.keys()];
  }

  accessOf(account: string): AccountAccess {
    if (this.roles.has(account)) return 'spoke';
    if (account === OWN_ACCOUNT || (this.own !== undefined && account === this.own)) return 'own';
    return 'unknown';
  }

  unknownAccountError(account: string): UnknownAccountError {
    return new UnknownAccountError(account, this.own, this.spokeAccounts());
  }

  /**
   * Credentials of the spoke role, or undefined for the account served by the scanner's own role.
   * Throws UnknownAccountError for any other account.
   */
  async forAccount(account: string): Promise<AwsCredentialIdentity | undefined> {
    const role = this.roles.get(account);
    if (!role) {
      if (this.accessOf(account) === 'unknown') throw this.unknownAccountError(account);
      return undefined;
    }
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

  /** Throws UnknownAccountError for an account that is neither the own one (or OWN_ACCOUNT) nor a spoke. */
  for(account: string, region: string): RegionalClients {
    const key = `${account}/${region}`;
    let entry = this.clients.get(key);
    if (!entry) {
      const access = this.credentials.accessOf(account);
      if (access === 'unknown') throw this.credentials.unknownAccountError(account);
      const config = {
        region,
        // The provider is consulted per request; SpokeCredentials caches until shortly before expiry.
        ...(access === 'spoke' ? { credentials: async () => (await this.credentials.forAccount(account))! } : {}),
      };
      entry = { lambda: this.decorate(new LambdaClient(config)), ecr: this.decorate(new ECRClient(config)) };
      this.clients.set(key, entry);
    }
    return entry;
  }
}
