import {
  GetAccessKeyLastUsedCommand,
  GetAccountPasswordPolicyCommand,
  GetAccountSummaryCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  paginateListAccessKeys,
  paginateListMFADevices,
  paginateListUsers,
  paginateListUserTags,
  type GetAccessKeyLastUsedCommandOutput,
  type GetAccountPasswordPolicyCommandOutput,
  type GetAccountSummaryCommandOutput,
  type GetLoginProfileCommandOutput,
  type GetUserCommandOutput,
  type User,
} from '@aws-sdk/client-iam';
import { ids, PASSWORD_POLICY, RESOURCE_TYPES, ROOT, USER } from '../../../../shared/rules/aws/posture/kinds';
import type { AccessKeyShape, IamRootShape, IamUserShape, PasswordPolicyShape, TagShape } from '../../../../shared/rules/aws/posture/shapes';
import { call, errorName, iso, mapLimit, orAbsent, pages } from '../calls';
import { detail, withErrors, type CollectedResource, type CollectorContext, type ServiceCollector } from './types';

/**
 * IAM (global, once per account): every user with its console password, MFA devices, access keys (and
 * when each was last used) and tags; the account password policy; the root user's MFA and keys
 * (GetAccountSummary).
 */

const NO_ENTITY = ['NoSuchEntity', 'NoSuchEntityException'];

async function readUser(ctx: CollectorContext, user: User): Promise<CollectedResource> {
  const iam = ctx.clients.get('iam', ctx.account, ctx.region);
  const c = ctx.counter;
  const name = user.UserName!;
  const errors: Record<string, string> = {};
  const keys: AccessKeyShape[] = [];
  const mfa: IamUserShape['MFADevices'] = [];
  const tags: TagShape[] = [];
  const [login] = await Promise.all([
    detail(errors, 'GetLoginProfile', () => orAbsent(() => call<GetLoginProfileCommandOutput>(c, 'GetLoginProfile', iam, new GetLoginProfileCommand({ UserName: name })), NO_ENTITY, undefined), undefined),
    detail(
      errors,
      'ListMFADevices',
      async () => {
        for await (const page of pages(c, 'ListMFADevices', paginateListMFADevices({ client: iam }, { UserName: name }))) {
          for (const device of page.MFADevices ?? []) mfa.push({ SerialNumber: device.SerialNumber, EnableDate: iso(device.EnableDate) });
        }
      },
      undefined,
    ),
    detail(
      errors,
      'ListAccessKeys',
      async () => {
        for await (const page of pages(c, 'ListAccessKeys', paginateListAccessKeys({ client: iam }, { UserName: name }))) {
          for (const key of page.AccessKeyMetadata ?? []) if (key.AccessKeyId) keys.push({ AccessKeyId: key.AccessKeyId, Status: key.Status, CreateDate: iso(key.CreateDate) });
        }
      },
      undefined,
    ),
    detail(
      errors,
      'ListUserTags',
      async () => {
        for await (const page of pages(c, 'ListUserTags', paginateListUserTags({ client: iam }, { UserName: name }))) {
          for (const tag of page.Tags ?? []) tags.push({ Key: tag.Key, Value: tag.Value });
        }
      },
      undefined,
    ),
  ]);
  await Promise.all(
    keys.map(async (key) => {
      const used = await detail(errors, 'GetAccessKeyLastUsed', () => call<GetAccessKeyLastUsedCommandOutput>(c, 'GetAccessKeyLastUsed', iam, new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId })), undefined);
      const last = used?.AccessKeyLastUsed;
      if (last) key.LastUsed = { ...(last.LastUsedDate ? { LastUsedDate: iso(last.LastUsedDate) } : {}), ServiceName: last.ServiceName, Region: last.Region };
    }),
  );
  const config: IamUserShape = {
    UserName: name,
    UserId: user.UserId,
    Arn: user.Arn!,
    Path: user.Path,
    CreateDate: iso(user.CreateDate),
    PasswordLastUsed: iso(user.PasswordLastUsed),
    LoginProfile: login?.LoginProfile ? { CreateDate: iso(login.LoginProfile.CreateDate), PasswordResetRequired: login.LoginProfile.PasswordResetRequired } : null,
    MFADevices: mfa,
    AccessKeys: keys,
    Tags: tags,
  };
  // The id leaves the path out (kinds.ts): user names are unique, and events name users by name only.
  return withErrors({ account: ctx.account, region: '', type: RESOURCE_TYPES.user, arn: ids.user(ctx, name), name, tags: USER.tagsOf(config), config }, errors);
}

async function readPasswordPolicy(ctx: CollectorContext): Promise<CollectedResource> {
  const iam = ctx.clients.get('iam', ctx.account, ctx.region);
  const answer = await orAbsent(() => call<GetAccountPasswordPolicyCommandOutput>(ctx.counter, 'GetAccountPasswordPolicy', iam, new GetAccountPasswordPolicyCommand({})), NO_ENTITY, undefined);
  const p = answer?.PasswordPolicy;
  const config: PasswordPolicyShape = {
    PasswordPolicy: p
      ? {
          MinimumPasswordLength: p.MinimumPasswordLength,
          RequireSymbols: p.RequireSymbols,
          RequireNumbers: p.RequireNumbers,
          RequireUppercaseCharacters: p.RequireUppercaseCharacters,
          RequireLowercaseCharacters: p.RequireLowercaseCharacters,
          AllowUsersToChangePassword: p.AllowUsersToChangePassword,
          ExpirePasswords: p.ExpirePasswords,
          MaxPasswordAge: p.MaxPasswordAge,
          PasswordReusePrevention: p.PasswordReusePrevention,
          HardExpiry: p.HardExpiry,
        }
      : null,
  };
  return { account: ctx.account, region: '', type: RESOURCE_TYPES.passwordPolicy, arn: ids.passwordPolicy(ctx), name: PASSWORD_POLICY.nameOf(config), tags: {}, config };
}

async function readRoot(ctx: CollectorContext): Promise<CollectedResource> {
  const iam = ctx.clients.get('iam', ctx.account, ctx.region);
  const answer = await call<GetAccountSummaryCommandOutput>(ctx.counter, 'GetAccountSummary', iam, new GetAccountSummaryCommand({}));
  const summary: Record<string, number> = {};
  // Only what the rules and a reader need; the rest of the map is quotas and counts.
  for (const key of ['AccountMFAEnabled', 'AccountAccessKeysPresent', 'AccountSigningCertificatesPresent', 'Users', 'MFADevicesInUse'] as const) {
    const value = answer.SummaryMap?.[key];
    if (typeof value === 'number') summary[key] = value;
  }
  const config: IamRootShape = { SummaryMap: summary };
  return { account: ctx.account, region: '', type: RESOURCE_TYPES.root, arn: ids.root(ctx), name: ROOT.nameOf(config), tags: {}, config };
}

export const iamCollector: ServiceCollector = {
  service: 'iam',
  scope: 'account',
  async collect(ctx) {
    const iam = ctx.clients.get('iam', ctx.account, ctx.region);
    const users: User[] = [];
    for await (const page of pages(ctx.counter, 'ListUsers', paginateListUsers({ client: iam }, {}))) {
      for (const user of page.Users ?? []) if (user.UserName && user.Arn) users.push(user);
    }
    const described = await mapLimit(users, ctx.concurrency, (user) => readUser(ctx, user));
    return [...described, await readPasswordPolicy(ctx), await readRoot(ctx)];
  },
  async describe(ctx, resource) {
    if (resource.type === RESOURCE_TYPES.passwordPolicy) return readPasswordPolicy(ctx);
    if (resource.type === RESOURCE_TYPES.root) return readRoot(ctx);
    const iam = ctx.clients.get('iam', ctx.account, ctx.region);
    const name = resource.arn.slice(resource.arn.lastIndexOf('/') + 1);
    try {
      const answer = await call<GetUserCommandOutput>(ctx.counter, 'GetUser', iam, new GetUserCommand({ UserName: name }));
      return answer.User ? await readUser(ctx, answer.User) : undefined;
    } catch (error) {
      if (NO_ENTITY.includes(errorName(error))) return undefined;
      throw error;
    }
  },
};
