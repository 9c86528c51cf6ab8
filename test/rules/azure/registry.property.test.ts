import { expect } from 'chai';
import fc from 'fast-check';
import { decide } from '../../../shared/findings/lifecycle';
import { parseFinding } from '../../../shared/findings/finding';
import type { Observation } from '../../../shared/findings/lifecycle';
import { DEFAULT_ALLOW_LISTS } from '../../../shared/rules/allow-lists';
import { apiVersionFor } from '../../../shared/rules/azure/api-versions';
import { parseArmId } from '../../../shared/rules/azure/arm';
import { armOperationNames, AZURE_REGISTRY, evaluateArmResource, routeArmEvent, rulesForResourceType } from '../../../shared/rules/azure/registry';

/**
 * Generated ARM-event-shaped and resource-shaped inputs through the registry give only typed outcomes: no
 * exception, no outcome kind outside the union, no rule error, and every observation a valid Finding v1.
 * Seeded, so a failure replays.
 */

const SEED = 20260105;
const RUNS = 1500;

function validFinding(observation: Observation): void {
  const decision = decide(undefined, observation, undefined);
  if (decision.kind === 'none') throw new Error(`fail observation gave no transition: ${observation.ruleId}`);
  parseFinding(decision.finding);
}

const segment = fc.oneof(fc.constantFrom('rg-1', 'Prod', 'web-nsg', 'kv1', 'st01', 'ToSentinel', 'a b', 'deployments', 'providers'), fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/));
const subscription = fc.oneof(fc.uuid(), fc.constantFrom('{subscription-id}', 'subid'));
const typePath = fc.constantFrom(
  'Microsoft.Network/networkSecurityGroups',
  'Microsoft.Storage/storageAccounts',
  'Microsoft.KeyVault/vaults',
  'Microsoft.ContainerInstance/containerGroups',
  'Microsoft.App/containerApps',
  'Microsoft.Web/sites',
);
const resourceId = fc.oneof(
  fc.tuple(subscription, segment, typePath, segment).map(([s, rg, t, n]) => `/subscriptions/${s}/resourceGroups/${rg}/providers/${t}/${n}`),
  fc.tuple(subscription, segment, segment, segment).map(([s, rg, n, r]) => `/subscriptions/${s}/resourcegroups/${rg}/providers/Microsoft.Network/networkSecurityGroups/${n}/securityRules/${r}`),
  fc.tuple(subscription, segment, typePath, segment, segment).map(([s, rg, t, n, d]) => `/subscriptions/${s}/resourceGroups/${rg}/providers/${t}/${n}/providers/microsoft.insights/diagnosticSettings/${d}`),
  fc.tuple(subscription, segment).map(([s, d]) => `/subscriptions/${s}/providers/microsoft.insights/diagnosticSettings/${d}`),
  fc.tuple(subscription, fc.uuid()).map(([s, g]) => `/subscriptions/${s}/providers/Microsoft.Authorization/roleAssignments/${g}`),
  fc.tuple(segment, fc.uuid()).map(([mg, g]) => `/providers/Microsoft.Management/managementGroups/${mg}/providers/Microsoft.Authorization/roleAssignments/${g}`),
  fc.tuple(subscription, segment, segment).map(([s, rg, d]) => `/subscriptions/${s}/resourceGroups/${rg}/deployments/${d}`),
  fc.string({ maxLength: 40 }),
);

const knownOperations = armOperationNames().operationNames;
const operationName = fc.oneof(
  fc.constantFrom(...knownOperations),
  fc.constantFrom(...knownOperations).map((o) => o.toUpperCase()),
  fc.constantFrom('Microsoft.Web/sites/write', 'Microsoft.EventGrid/eventSubscriptions/write', ''),
  fc.string({ maxLength: 30 }),
);
const eventType = fc.constantFrom(
  'Microsoft.Resources.ResourceWriteSuccess',
  'Microsoft.Resources.ResourceDeleteSuccess',
  'Microsoft.Resources.ResourceWriteFailure',
  'Microsoft.Resources.ResourceActionSuccess',
  'Microsoft.EventGrid.SubscriptionValidationEvent',
  'Custom.Type',
);
const claims = fc.oneof(
  fc.record(
    {
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': fc.oneof(fc.emailAddress(), fc.string()),
      'http://schemas.microsoft.com/identity/claims/objectidentifier': fc.uuid(),
      appid: fc.uuid(),
      ipaddr: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()),
    },
    { requiredKeys: [] },
  ),
  fc.constant('{azure_resource_manager_claims}'),
  fc.jsonValue(),
);
const time = fc.oneof(fc.date({ min: new Date('2015-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), fc.constant('2018-07-19T18:38:04.6117357Z'), fc.string({ maxLength: 12 }));

/** The operations of a resource's own type (writes and deletes), so generated events often make sense. */
function operationsFor(uri: string): string[] {
  const type = parseArmId(uri)?.type;
  return knownOperations.filter((o) => o.toLowerCase().replace(/\/(write|delete)$/, '') === type);
}
const target = fc.oneof(
  fc.record({ operationName, resourceUri: resourceId }),
  resourceId.chain((uri) => {
    const ops = operationsFor(uri);
    return fc.record({ operationName: ops.length > 0 ? fc.constantFrom(...ops) : operationName, resourceUri: fc.constant(uri) });
  }),
);

const data = fc
  .tuple(
    target,
    fc.record(
      {
        subscriptionId: subscription,
        status: fc.constantFrom('Succeeded', 'Failed'),
        correlationId: fc.uuid(),
        claims,
        httpRequest: fc.oneof(fc.record({ clientIpAddress: fc.ipV4(), method: fc.constantFrom('PUT', 'DELETE') }), fc.string()),
        authorization: fc.oneof(fc.record({ scope: resourceId, action: operationName }), fc.string()),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([t, rest]) => ({ ...rest, ...t }))
  .chain((d) => fc.oneof(fc.constant<unknown>(d), fc.constant<unknown>(JSON.stringify(d)), fc.jsonValue()));

const armEvent = fc.oneof(
  fc.record({ id: fc.uuid(), eventType, eventTime: time, subject: fc.string(), topic: fc.constantFrom('/subscriptions/3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 'x'), data, dataVersion: fc.constant('2') }, { requiredKeys: ['id', 'eventType', 'data'] }),
  fc.record({ specversion: fc.constant('1.0'), id: fc.uuid(), type: eventType, time, source: fc.string(), subject: fc.string(), data }, { requiredKeys: ['specversion', 'id', 'type'] }),
  fc.jsonValue(),
);

const OUTCOME_KINDS = new Set(['malformed', 'ignored', 'evaluate', 'resolve', 'detection', 'detector-error']);

const securityRule = fc.record({
  name: fc.oneof(segment, fc.constant(undefined)),
  properties: fc.record(
    {
      access: fc.constantFrom('Allow', 'Deny', 'allow', 5),
      direction: fc.constantFrom('Inbound', 'Outbound', null),
      protocol: fc.constantFrom('*', 'Tcp', 'Udp', 'Icmp', 'Esp', undefined),
      priority: fc.oneof(fc.integer({ min: 100, max: 4096 }), fc.string()),
      sourceAddressPrefix: fc.constantFrom('*', 'Internet', '0.0.0.0/0', '::/0', '10.0.0.0/8', 'VirtualNetwork', '', undefined),
      sourceAddressPrefixes: fc.array(fc.oneof(fc.constantFrom('*', 'Internet', '10.1.0.0/16'), fc.string(), fc.integer()), { maxLength: 3 }),
      destinationPortRange: fc.oneof(fc.constantFrom('*', '22', '3389', '80', '20-25', '443', '1-65535', 'x', '25-20', undefined), fc.string({ maxLength: 6 })),
      destinationPortRanges: fc.array(fc.oneof(fc.constantFrom('22', '8080', '1000-2000'), fc.jsonValue()), { maxLength: 3 }),
    },
    { requiredKeys: ['access', 'direction', 'protocol', 'sourceAddressPrefix', 'destinationPortRange'] },
  ),
});

const ROLE_GUIDS = ['8e3af657-a8ff-443c-a75c-2fe8c4bcb635', 'b24988ac-6180-42a0-ab88-20f7382dd24c', '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9', 'acdd72a7-3385-48ef-bd42-f606fba81ae7'];

/** Properties of every rule's type at once (each rule reads only its own), values realistic or junk. */
const properties = fc.record(
  {
    securityRules: fc.oneof({ weight: 9, arbitrary: fc.array(fc.oneof({ weight: 9, arbitrary: securityRule }, { weight: 1, arbitrary: fc.jsonValue() }), { maxLength: 4 }) }, { weight: 1, arbitrary: fc.jsonValue() }),
    allowBlobPublicAccess: fc.oneof(fc.boolean(), fc.constantFrom('true', 'false', null)),
    allowSharedKeyAccess: fc.oneof(fc.boolean(), fc.constant(null)),
    minimumTlsVersion: fc.oneof(fc.constantFrom('TLS1_0', 'TLS1_1', 'TLS1_2', 'TLS1_3'), fc.jsonValue()),
    publicNetworkAccess: fc.constantFrom('Enabled', 'Disabled', 'SecuredByPerimeter', null),
    networkAcls: fc.oneof(fc.record({ defaultAction: fc.constantFrom('Allow', 'Deny', 7) }, { requiredKeys: [] }), fc.jsonValue()),
    enablePurgeProtection: fc.oneof(fc.boolean(), fc.jsonValue()),
    roleDefinitionId: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ROLE_GUIDS).map((g) => `/providers/Microsoft.Authorization/roleDefinitions/${g}`) }, { weight: 1, arbitrary: fc.string() }),
    scope: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('/', '/subscriptions/3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f', '/providers/Microsoft.Management/managementGroups/mg') }, { weight: 1, arbitrary: fc.string() }),
    principalId: fc.oneof(fc.uuid(), fc.jsonValue()),
    ipAddress: fc.oneof(
      { weight: 9, arbitrary: fc.record({ type: fc.constantFrom('Public', 'Private', 'public'), ports: fc.array(fc.record({ port: fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.string()), protocol: fc.constantFrom('TCP', 'UDP', 'tcp', undefined) }), { maxLength: 4 }) }) },
      { weight: 1, arbitrary: fc.jsonValue() },
    ),
    configuration: fc.oneof(
      { weight: 9, arbitrary: fc.record({ ingress: fc.record({ external: fc.oneof(fc.boolean(), fc.constantFrom('true', 'no')), allowInsecure: fc.oneof(fc.boolean(), fc.constant('true')) }, { requiredKeys: [] }) }) },
      { weight: 1, arbitrary: fc.jsonValue() },
    ),
  },
  { requiredKeys: ['securityRules', 'ipAddress', 'configuration', 'roleDefinitionId', 'scope'] },
);

/** Ids of the types the rules read (both role-assignment scopes), and of a type none reads. */
const ruleTypeId = fc.oneof(
  fc.tuple(subscription, segment, fc.constantFrom('Microsoft.Network/networkSecurityGroups', 'Microsoft.Storage/storageAccounts', 'Microsoft.KeyVault/vaults', 'Microsoft.ContainerInstance/containerGroups', 'Microsoft.App/containerApps', 'Microsoft.Web/sites'), segment).map(
    ([s, rg, t, n]) => `/subscriptions/${s}/resourceGroups/${rg}/providers/${t}/${n}`,
  ),
  fc.tuple(subscription, fc.uuid()).map(([s, g]) => `/subscriptions/${s}/providers/Microsoft.Authorization/roleAssignments/${g}`),
  fc.tuple(segment, fc.uuid()).map(([mg, g]) => `/providers/Microsoft.Management/managementGroups/${mg}/providers/Microsoft.Authorization/roleAssignments/${g}`),
);

const typeFor = (id: string) => fc.constantFrom(parseArmId(id)?.type, parseArmId(id)?.type?.toUpperCase(), undefined, 'Microsoft.Web/sites');
const resourceBody = fc.oneof(
  {
    weight: 8,
    arbitrary: ruleTypeId.chain((id) =>
      fc.record(
        { id: fc.constant(id), name: fc.oneof(segment, fc.constant(undefined)), type: typeFor(id), location: fc.constant('westeurope'), properties: fc.oneof({ weight: 8, arbitrary: properties }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.jsonValue() }) },
        { requiredKeys: ['id', 'properties'] },
      ),
    ),
  },
  { weight: 1, arbitrary: resourceId.map((id) => ({ id, properties: {} })) },
  { weight: 1, arbitrary: fc.jsonValue() },
);

describe('azure registry, property-based (seeded)', () => {
  it('routes generated ARM events to typed outcomes only', () => {
    fc.assert(
      fc.property(armEvent, (raw) => {
        const outcomes = routeArmEvent(raw, { allowLists: DEFAULT_ALLOW_LISTS });
        expect(outcomes.length).to.be.greaterThan(0);
        for (const outcome of outcomes) {
          expect(OUTCOME_KINDS.has(outcome.kind), outcome.kind).to.equal(true);
          switch (outcome.kind) {
            case 'malformed':
            case 'ignored':
              expect(outcome.reason).to.be.a('string').and.not.equal('');
              break;
            case 'evaluate':
              expect(parseArmId(outcome.resourceId)?.type).to.equal(outcome.resourceType);
              expect(outcome.apiVersion).to.equal(apiVersionFor(outcome.resourceType));
              expect(outcome.ruleIds.length).to.be.greaterThan(0);
              break;
            case 'resolve':
              expect(outcome.resource.id).to.equal(outcome.resource.id.toLowerCase());
              expect(outcome.ruleIds.length).to.be.greaterThan(0);
              break;
            case 'detection':
              if (outcome.observation.outcome === 'fail') validFinding(outcome.observation);
              break;
            case 'detector-error':
              throw new Error(`detector ${outcome.ruleId} threw: ${outcome.message}`);
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('evaluates generated resources to typed outcomes only, no rule ever throwing', () => {
    const origin = { trigger: 'schedule' as const, runId: 'prop', observedAt: '2026-01-05T00:00:00.000Z' };
    fc.assert(
      fc.property(resourceBody, (body) => {
        const outcome = evaluateArmResource(body, { allowLists: DEFAULT_ALLOW_LISTS, origin });
        expect(['malformed', 'unsupported', 'evaluated']).to.include(outcome.kind);
        if (outcome.kind !== 'evaluated') return;
        const ruleIds = rulesForResourceType(outcome.resource.type).map((r) => r.id);
        expect(outcome.results.map((r) => r.ruleId)).to.deep.equal(ruleIds);
        for (const result of outcome.results) expect(result.status, `${result.ruleId}: ${result.reason ?? ''}`).not.to.equal('error');
        for (const observation of outcome.observations) {
          expect(outcome.evaluatedRuleIds).to.include(observation.ruleId);
          expect(observation.resource.id).to.equal(outcome.resource.id);
          validFinding(observation);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('reaches every kind of event outcome (the generators reach the registry)', () => {
    const kinds = new Set<string>();
    fc.assert(
      fc.property(armEvent, (raw) => {
        for (const outcome of routeArmEvent(raw, { allowLists: DEFAULT_ALLOW_LISTS })) kinds.add(outcome.kind === 'detection' ? `detection-${outcome.observation.outcome}` : outcome.kind);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect([...kinds].sort()).to.deep.equal(['detection-fail', 'detection-pass', 'evaluate', 'ignored', 'malformed', 'resolve']);
  });

  it('covers every rule with failing generated inputs (the generators reach the rules)', () => {
    const failing = new Set<string>();
    const origin = { trigger: 'schedule' as const, runId: 'prop', observedAt: '2026-01-05T00:00:00.000Z' };
    fc.assert(
      fc.property(resourceBody, (body) => {
        const outcome = evaluateArmResource(body, { allowLists: DEFAULT_ALLOW_LISTS, origin });
        if (outcome.kind === 'evaluated') for (const o of outcome.observations) failing.add(o.ruleId);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect([...failing].sort()).to.deep.equal(AZURE_REGISTRY.posture.map((r) => r.id).sort());
  });
});
