import { emptyAccount, PAB_ON, type FakeAccount, type FakeAws } from './fake-aws';

/**
 * Seeded fake estates for the local stack and the bench: accounts with every kind of resource the posture
 * rules read, most of them compliant and a deterministic share failing (public bucket policy, open SSH,
 * IMDSv1, a public database...), so an inventory + evaluation opens a known set of findings.
 */

export interface SeedOptions {
  accounts: readonly string[];
  regions: readonly string[];
  /** Resources of each regional kind per account and region. */
  perRegion?: number;
  /** Buckets and IAM users per account. */
  perAccount?: number;
  /** One resource in `failEvery` of each kind is made to fail its rules (0: none fail). */
  failEvery?: number;
}

const CREATED = new Date('2025-01-01T00:00:00Z');
const PUBLIC_POLICY = (bucket: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Adds the estate to the fake; returns the number of resources the collectors will store. */
export function seedEstate(fake: FakeAws, options: SeedOptions): number {
  const perRegion = options.perRegion ?? 3;
  const perAccount = options.perAccount ?? 3;
  const failEvery = options.failEvery ?? 0;
  const fails = (i: number) => failEvery > 0 && i % failEvery === 0;
  let resources = 0;
  options.accounts.forEach((id, a) => {
    const account: FakeAccount = emptyAccount(id, options.regions);
    account.accountPab = PAB_ON;
    account.passwordPolicy = { MinimumPasswordLength: 14, RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, PasswordReusePrevention: 24 };
    for (let i = 0; i < perAccount; i++) {
      const name = `acct${a}-data-${i}`;
      account.buckets.set(name, {
        region: options.regions[i % options.regions.length]!,
        created: CREATED,
        pab: PAB_ON,
        encryption: 'aws:kms',
        versioning: 'Enabled',
        logging: { TargetBucket: `acct${a}-logs`, TargetPrefix: `${name}/` },
        ...(fails(i + 1) ? { policy: PUBLIC_POLICY(name), pab: { ...PAB_ON, BlockPublicPolicy: false, RestrictPublicBuckets: false } } : {}),
        tags: { team: `team-${i % 4}` },
      });
      account.users.set(`user-${i}`, { created: CREATED, mfa: [`arn:aws:iam::${id}:mfa/user-${i}`], loginProfile: CREATED, keys: [], tags: { team: `team-${i % 4}` } });
    }
    // Buckets, users, the password policy, the root summary and the account's S3 settings.
    resources += 2 * perAccount + 3;
    options.regions.forEach((region, r) => {
      const place = account.regions.get(region)!;
      for (let i = 0; i < perRegion; i++) {
        const n = a * 1_000_000 + r * 100_000 + i;
        place.securityGroups.set(`sg-${hex(n, 17)}`, {
          name: `app-${i}`,
          vpcId: `vpc-${hex(a * 10 + r, 8)}`,
          ingress: fails(i + 1) ? [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, cidrs: ['0.0.0.0/0'] }] : [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, cidrs: ['10.0.0.0/8'] }],
          egress: [{ IpProtocol: '-1', cidrs: ['0.0.0.0/0'] }],
        });
        place.instances.set(`i-${hex(n, 17)}`, { state: 'running', httpTokens: fails(i + 2) ? 'optional' : 'required', type: 't3.micro' });
        place.functions.set(`fn-${a}-${r}-${i}`, { runtime: 'nodejs22.x', packageType: 'Zip', ...(fails(i + 3) ? { urlAuthType: 'NONE' as const } : {}) });
        place.dbInstances.set(`db-${a}-${r}-${i}`, { publiclyAccessible: fails(i + 4), storageEncrypted: true, engine: 'postgres' });
        place.loadBalancers.set(`lb-${a}-${r}-${i}`, { name: `lb-${a}-${r}-${i}`, id: hex(n, 16), scheme: 'internal', type: 'application', listeners: [{ port: 443, protocol: 'HTTPS' }] });
        place.kmsKeys.set(`${hex(n, 8)}-0000-4000-8000-${hex(n, 12)}`, { manager: 'CUSTOMER', rotation: !fails(i + 5), state: 'Enabled' });
      }
      resources += 6 * perRegion;
      if (r === 0) {
        place.trails.set(`org-trail-${a}`, { multiRegion: true, logging: true, logFileValidation: true, bucket: `acct${a}-trail` });
        // The trail and the account's trail coverage (read in the home region).
        resources += 2;
      }
    });
    fake.accounts.set(id, account);
  });
  return resources;
}
