/**
 * ARM shapes as the rules read them, and the small type guards that narrow untrusted JSON (an ARM GET body,
 * a Resource Graph row, an event's data) without trusting it. ARM is case-insensitive about ids, types and
 * enum values, and different surfaces spell them differently (`Microsoft.Storage/storageAccounts` in a GET
 * body, `microsoft.storage/storageaccounts` in Resource Graph), so every comparison here ignores case.
 */

/**
 * An ARM resource as ARM GET returns it and as Resource Graph returns it when the query projects
 * `id, name, type, location, properties`. Only `id` is required; `properties` values are still untrusted.
 */
export interface ArmResource {
  id: string;
  name?: string;
  type?: string;
  location?: string;
  properties?: Record<string, unknown>;
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function stringAt(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A non-empty string after trimming, else undefined. */
export function textAt(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** `true` / `false`, also as the strings ARM templates and some exports use; anything else is undefined. */
export function booleanAt(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return undefined;
}

export function objectAt(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

export function arrayAt(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function sameText(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** Narrows a GET body or a Resource Graph row to the ARM resource shape. */
export function isArmResource(value: unknown): value is ArmResource {
  if (!isObject(value)) return false;
  if (textAt(value.id) === undefined) return false;
  if (value.properties !== undefined && value.properties !== null && !isObject(value.properties)) return false;
  for (const key of ['name', 'type', 'location'] as const) {
    if (value[key] !== undefined && value[key] !== null && typeof value[key] !== 'string') return false;
  }
  return true;
}

// ---------------------------------------------------------------- resource ids

export interface ArmId {
  /** The id as given, without a trailing slash. */
  id: string;
  subscriptionId?: string;
  resourceGroup?: string;
  managementGroup?: string;
  /** Lower-case full type: `microsoft.network/networksecuritygroups/securityrules`, `microsoft.resources/subscriptions`. */
  type: string;
  name: string;
  /**
   * The resource this one belongs to: the parent of a child resource (the NSG of a security rule), or the
   * resource an extension resource is attached to (the vault of a diagnostic setting). Undefined at the top.
   */
  parentId?: string;
}

const SEGMENT = /^[^/]+$/;

/**
 * Parses an ARM resource id: `/subscriptions/s/resourceGroups/rg/providers/Ns/type/name[/child/name...]`,
 * an extension resource `<scope>/providers/Ns/type/name`, a subscription, a resource group, a management
 * group or the tenant root. Returns undefined for anything else (odd segment counts, empty segments).
 */
export function parseArmId(raw: string): ArmId | undefined {
  const id = raw.trim().replace(/\/+$/, '');
  if (!id.startsWith('/') || id.includes('//')) return undefined;
  const segments = id.slice(1).split('/');
  if (segments.some((s) => !SEGMENT.test(s))) return undefined;
  const lower = segments.map((s) => s.toLowerCase());

  let subscriptionId: string | undefined;
  let resourceGroup: string | undefined;
  let managementGroup: string | undefined;
  if (lower[0] === 'subscriptions' && segments[1]) subscriptionId = segments[1];
  if (lower[0] === 'subscriptions' && lower[2] === 'resourcegroups' && segments[3]) resourceGroup = segments[3];
  if (lower[0] === 'providers' && lower[1] === 'microsoft.management' && lower[2] === 'managementgroups' && segments[3]) managementGroup = segments[3];

  // The last `providers` segment that starts a well-formed tail (namespace, then type/name pairs): a resource
  // or group may itself be named `providers`, so the plain last occurrence is not always the keyword.
  let lastProviders = -1;
  for (let i = lower.length - 3; i >= 0; i--) {
    if (lower[i] === 'providers' && (lower.length - i - 2) % 2 === 0) {
      lastProviders = i;
      break;
    }
  }
  if (lastProviders === -1) {
    if (lower.length === 2 && lower[0] === 'subscriptions') return { id, subscriptionId, type: 'microsoft.resources/subscriptions', name: segments[1]! };
    if (lower.length === 4 && lower[0] === 'subscriptions' && lower[2] === 'resourcegroups') {
      return { id, subscriptionId, resourceGroup, type: 'microsoft.resources/resourcegroups', name: segments[3]!, parentId: `/${segments.slice(0, 2).join('/')}` };
    }
    return undefined;
  }
  // After the last `providers`: a namespace, then type/name pairs.
  const tail = segments.slice(lastProviders + 1);
  if (tail.length < 3 || (tail.length - 1) % 2 !== 0) return undefined;
  const namespace = tail[0]!;
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 1; i < tail.length; i += 2) {
    types.push(tail[i]!);
    names.push(tail[i + 1]!);
  }
  const scope = segments.slice(0, lastProviders);
  // The scope before `providers` must itself be something ARM knows: nothing (tenant), a subscription, a
  // resource group, a management group, or a resource (extension resources).
  if (scope.length > 0 && parseArmId(`/${scope.join('/')}`) === undefined) return undefined;
  const type = [namespace, ...types].join('/').toLowerCase();
  const parentId =
    types.length > 1 ? `/${segments.slice(0, segments.length - 2).join('/')}` : scope.length > 0 ? `/${scope.join('/')}` : undefined;
  return { id, subscriptionId, resourceGroup, managementGroup, type, name: names[names.length - 1]!, parentId };
}

/** The lower-case type of an id, or undefined when it is not an ARM id. */
export function armTypeOf(id: string): string | undefined {
  return parseArmId(id)?.type;
}

/**
 * The key findings use for a resource: ARM ids are case-insensitive and the same resource arrives as
 * `resourceGroups` in a GET body and `resourcegroups` in an event (or with the name in another case), so the
 * finding's resource id is the lower-cased id without a trailing slash. Every path (event, GET, Resource
 * Graph) then lands on the same finding.
 */
export function resourceKeyOf(id: string): string {
  return id.trim().replace(/\/+$/, '').toLowerCase();
}
