import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';

/**
 * The AWS clients the collectors read through, behind one injectable factory: production builds SDK
 * clients (adaptive retry, the spoke's assumed-role credentials), tests and the local stack hand in clients
 * answered by aws-sdk-client-mock or by the local fake of the APIs (local/inventory/fake-aws.ts), so the
 * collectors run the same code in all three.
 */

export interface InventoryClients {
  s3: S3Client;
  s3control: S3ControlClient;
  ec2: EC2Client;
  iam: IAMClient;
  lambda: LambdaClient;
  rds: RDSClient;
  elbv2: ElasticLoadBalancingV2Client;
  cloudtrail: CloudTrailClient;
  kms: KMSClient;
}

export type ClientName = keyof InventoryClients;

export interface ClientFactory {
  /** The client of one service for one account and region (the same instance for the same three). */
  get<K extends ClientName>(name: K, account: string, region: string): InventoryClients[K];
  /** Releases the clients' connections (a factory made for one event or one shard). */
  destroy?(): void;
}

/** Credentials of an account: undefined for the function's own account (its role's credentials). */
export type CredentialsFor = (account: string) => AwsCredentialIdentityProvider | undefined;

export interface SdkClientFactoryOptions {
  credentialsFor: CredentialsFor;
  /**
   * Attempts per call. Adaptive retry also rate-limits on the client side once a service throttles, which
   * is why each (service, account, region) gets its own client: one throttled API slows only itself.
   */
  maxAttempts?: number;
  /** Applied to every new client (the local stack answers calls in process with it). */
  decorate?: <T extends InventoryClients[ClientName]>(client: T, name: ClientName, account: string) => T;
  /** Extra client config (endpoints, fake credentials for local runs). */
  extra?: { credentials?: AwsCredentialIdentity };
}

const CONSTRUCTORS: { [K in ClientName]: new (config: Record<string, unknown>) => InventoryClients[K] } = {
  s3: S3Client,
  s3control: S3ControlClient,
  ec2: EC2Client,
  iam: IAMClient,
  lambda: LambdaClient,
  rds: RDSClient,
  elbv2: ElasticLoadBalancingV2Client,
  cloudtrail: CloudTrailClient,
  kms: KMSClient,
};

export const DEFAULT_MAX_ATTEMPTS = 8;

/** SDK v3 clients with `retryMode: 'adaptive'`, one per (service, account, region), made on first use. */
export class SdkClientFactory implements ClientFactory {
  private readonly clients = new Map<string, InventoryClients[ClientName]>();

  constructor(private readonly options: SdkClientFactoryOptions) {}

  get<K extends ClientName>(name: K, account: string, region: string): InventoryClients[K] {
    const key = `${name}/${account}/${region}`;
    const cached = this.clients.get(key);
    if (cached) return cached as InventoryClients[K];
    const credentials = this.options.credentialsFor(account) ?? this.options.extra?.credentials;
    const config: Record<string, unknown> = {
      region,
      retryMode: 'adaptive',
      maxAttempts: this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      ...(credentials ? { credentials } : {}),
      // Buckets are read in their own region (ListBuckets names it); a stale region still gets its answer.
      ...(name === 's3' ? { followRegionRedirects: true } : {}),
    };
    let client = new CONSTRUCTORS[name](config);
    if (this.options.decorate) client = this.options.decorate(client, name, account);
    this.clients.set(key, client);
    return client;
  }

  /** Releases every client's connections (end of an invocation). */
  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}
