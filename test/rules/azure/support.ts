import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadCorpus } from '../../support/corpus';
import { DEFAULT_ALLOW_LISTS, AllowListsSchema, type AllowLists } from '../../../shared/rules/allow-lists';
import type { ArmResource } from '../../../shared/rules/azure/arm';
import type { PostureEvaluation } from '../../../shared/rules/types';
import type { AzurePostureRule } from '../../../shared/rules/azure/types';

/**
 * Inputs for the Azure rule tests: the published samples (corpus, via the project's loader), the ARM GET
 * fixtures built from the REST spec examples (fixtures/, each naming its source), and variants derived from
 * them in code, never retyped.
 */

type Json = Record<string, unknown>;

export const EG_WRITE = 'azure/eventgrid-resourcewritesuccess-storage.azuredocs.json';
export const EG_DELETE = 'azure/eventgrid-resourcedeletesuccess-storage.azuredocs.json';
export const CE_WRITE = 'azure/cloudevents-resourcewritesuccess-storage.azuredocs-de.json';
export const CE_DELETE = 'azure/cloudevents-resourcedeletesuccess-storage.azuredocs-de.json';
export const ACI_GET = 'arm/aci-containergroup-get.json';
export const ACA_GET = 'arm/aca-containerapp-get.json';

export const SUB = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

/** A fixture's ARM body (the `body` of test/rules/azure/fixtures/<name>.json). */
export function fixture(name: 'nsg-get' | 'storage-account-getproperties' | 'storage-account-create-response' | 'key-vault-get' | 'role-assignment-get'): Json {
  const file = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', `${name}.json`), 'utf8')) as { source: { spec: string }; body: Json };
  if (!file.source?.spec) throw new Error(`fixture ${name} does not name its source`);
  return file.body;
}

export function corpusBody(file: string): Json {
  return loadCorpus<Json>(file);
}

export function allowLists(overrides: Partial<AllowLists> = {}): AllowLists {
  return AllowListsSchema.parse({ ...DEFAULT_ALLOW_LISTS, ...overrides });
}

/** A clone of `body` with `properties` shallow-merged with `patch` (a key set to undefined is removed). */
export function withProperties(body: Json, patch: Json): Json {
  const clone = structuredClone(body);
  const props = { ...((clone.properties as Json | undefined) ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete props[key];
    else props[key] = value;
  }
  clone.properties = props;
  return clone;
}

/** The NSG fixture with its security rules replaced by variants of its own `rule1` (properties overridden). */
export function nsgWithRules(rules: { name?: string; properties: Json }[]): Json {
  const body = fixture('nsg-get');
  const props = body.properties as Json;
  const template = (props.securityRules as Json[])[0]!;
  props.securityRules = rules.map((r, i) => {
    const rule = structuredClone(template);
    rule.name = r.name ?? `rule${i + 1}`;
    rule.id = `${body.id as string}/securityRules/${rule.name as string}`;
    const p = { ...(rule.properties as Json) };
    for (const [key, value] of Object.entries(r.properties)) {
      if (value === undefined) delete p[key];
      else p[key] = value;
    }
    rule.properties = p;
    return rule;
  });
  return body;
}

export function evaluate(rule: AzurePostureRule, body: Json, lists: AllowLists = DEFAULT_ALLOW_LISTS): PostureEvaluation {
  return rule.evaluate(body as unknown as ArmResource, { allowLists: lists });
}

/** The subjects that failed, or `n/a` when the rule did not apply. */
export function failedSubjects(evaluation: PostureEvaluation): string[] | 'n/a' {
  return evaluation.status === 'evaluated' ? evaluation.failures.map((f) => f.subject) : 'n/a';
}

export interface ArmEventVariant {
  resourceUri: string;
  operationName: string;
  eventId?: string;
  correlationId?: string;
  eventType?: string;
  /** Claims to set (a key set to undefined is removed). */
  claims?: Record<string, string | undefined>;
  /** Replace `data.claims` wholesale (strings, for the SDK-fixture shape). */
  rawClaims?: unknown;
  httpRequest?: unknown;
}

/**
 * A published ARM event (Event Grid or CloudEvents, one-element array) turned into another operation: what
 * differs between the storage samples and any other ARM write is subject, resourceUri, operationName,
 * resourceProvider and authorization.scope/action; ids and claims are changed only when a test needs it.
 */
export function armEventVariant(file: string, v: ArmEventVariant): Json {
  const [event] = structuredClone(loadCorpus<Json[]>(file));
  const e = event!;
  const data = e.data as Json;
  e.subject = v.resourceUri;
  if (v.eventId) e.id = v.eventId;
  if (v.eventType) {
    if ('specversion' in e) e.type = v.eventType;
    else e.eventType = v.eventType;
  }
  data.resourceUri = v.resourceUri;
  data.operationName = v.operationName;
  data.resourceProvider = v.operationName.split('/')[0];
  if (v.correlationId) data.correlationId = v.correlationId;
  const auth = data.authorization as Json | undefined;
  if (auth && typeof auth === 'object') {
    auth.scope = v.resourceUri;
    auth.action = v.operationName;
  }
  if (v.claims) {
    const claims = data.claims as Json;
    for (const [key, value] of Object.entries(v.claims)) {
      if (value === undefined) delete claims[key];
      else claims[key] = value;
    }
  }
  if (v.rawClaims !== undefined) data.claims = v.rawClaims;
  if (v.httpRequest !== undefined) data.httpRequest = v.httpRequest;
  return e;
}

export function rgId(type: string, name: string, rg = 'rg-sec'): string {
  return `/subscriptions/${SUB}/resourceGroups/${rg}/providers/${type}/${name}`;
}
