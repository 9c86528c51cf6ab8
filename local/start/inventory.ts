/**
 * `npm start -- --inventory`, Azure half: the Function App's inventory on the embedded stack, over the Resource
 * Graph simulator seeded with three fake subscriptions (local/resource-graph-sim/seed.ts). It sends the seed's
 * manual payload `{"service":"all"}` to the `inventory-requests` queue (the deployed handler runs it: Resource
 * Graph paging, the Resources table, the posture rules, findings in the Table store) and prints the findings.
 * Then one storage account is fixed in Azure (the ARM stub and Resource Graph both answer the new configuration)
 * and its `ResourceWriteSuccess` event (the published storage sample, aimed at that account) goes through the
 * security-event steps in process: route, GET from ARM, the posture rules with the event as origin, the findings,
 * and the Resources row (syncResourceFromEvent); the finding shows RESOLVED. A last inventory of storage accounts
 * agrees with the event and changes nothing.
 */
import { TableClient } from '@azure/data-tables';
import { TableFindingStore } from '../../functions/azure/findings-store';
import { syncResourceFromEvent } from '../../functions/azure/inventory/realtime';
import { TableResourceStore } from '../../functions/azure/inventory/resource-store';
import type { RecordedTransition } from '../../shared/findings/recorder';
import { FindingRecorder } from '../../shared/findings/recorder';
import { compileSuppressions } from '../../shared/findings/suppressions';
import { evaluateArmResource, routeArmEvent } from '../../shared/rules/azure/registry';
import { loadCorpus } from '../corpus';
import type { RunReport } from '../../functions/azure/inventory/run';
import { DEMO_SUBSCRIPTIONS, seedResources } from '../resource-graph-sim/seed';
import type { Progress } from './kinds/kind';
import type { RunRecorder } from './recorder';
import type { EmbeddedStack, EmbeddedStackOptions } from './stack';
import type { EventRef, FindingRow } from './summary';

/** The resource the demo fixes, and how. */
export const DEMO_FIX = { name: 'shipscanlogs01', property: 'allowBlobPublicAccess', value: false } as const;

export function azureInventoryStackOptions(): EmbeddedStackOptions['azureInventory'] {
  return { resources: seedResources(), subscriptions: Object.values(DEMO_SUBSCRIPTIONS) };
}

/** Requests and events the demo sends: the inventory, the fixing event, the inventory of storage accounts. */
export const AZURE_INVENTORY_REQUESTS = 3;

function findingRows(transitions: readonly RecordedTransition[]): FindingRow[] {
  return transitions
    .filter((t) => t.kind !== 'touch')
    .map((t) => ({ cloud: 'azure' as const, ruleId: t.finding.ruleId, category: t.finding.category, severity: t.finding.severity, state: t.finding.state, resourceId: t.finding.resource.id }));
}

function describe(report: RunReport): string {
  const c = report.collect;
  const q = c ? `${c.queries} queries, ${c.pages} pages, ${c.calls} calls, ${c.rows} resources, ${c.throttled} throttled, ${c.quotaPauses} quota pauses; ` : '';
  return `${q}${report.evaluation.resources} resources evaluated (${report.evaluation.evaluations} resource x rule), ${report.transitions.length} finding change(s), ${report.deleted} deleted${report.complete ? '' : ', INCOMPLETE'}`;
}

async function request(stack: EmbeddedStack, payload: Record<string, unknown>, source: string, recorder: RunRecorder, progress: Progress): Promise<RunReport | undefined> {
  const azure = stack.azure!;
  const inventory = azure.inventory!;
  const ref: EventRef = { source, cloud: 'azure', label: `inventory-requests ${JSON.stringify(payload)}` };
  const before = inventory.reports.length;
  // The Functions host reads queue messages as base64 (host.json messageEncoding), as `az storage message put` must send them.
  await inventory.requests.sendMessage(Buffer.from(JSON.stringify(payload)).toString('base64'));
  await azure.settle(120_000);
  const report = inventory.reports[before];
  if (!report) {
    recorder.failed(ref, 'the inventory-requests handler produced no run (see --verbose)');
    return undefined;
  }
  progress(`azure: run ${report.runId} ${JSON.stringify(payload)}: ${describe(report)}`);
  for (const error of report.errors) progress(`azure:   ${error}`);
  if (report.complete) recorder.processed(ref);
  else recorder.failed(ref, `the inventory was incomplete: ${report.errors.join('; ')}`);
  for (const row of findingRows(report.transitions)) recorder.finding(row);
  return report;
}

/** The published storage write event (Event Grid schema), aimed at `id`: subject, resource and operation follow it. */
export function armWriteEventFor(id: string, eventTime: string): Record<string, unknown> {
  const [template] = loadCorpus<Record<string, unknown>[]>('azure/eventgrid-resourcewritesuccess-storage.azuredocs.json');
  const data = template!.data as Record<string, unknown>;
  const [, namespace, type] = /\/providers\/([^/]+)\/([^/]+)\/[^/]+$/.exec(id) ?? [];
  return { ...template, id: `local-fix-${Date.parse(eventTime)}`, subject: id, eventTime, data: { ...data, resourceUri: id, operationName: `${namespace}/${type}/write`, subscriptionId: id.split('/')[2] } };
}

/** The security-event steps for one ARM event, in process, on the stack's tables: findings and the Resources row. */
async function fixingEvent(stack: EmbeddedStack, id: string, recorder: RunRecorder, progress: Progress): Promise<void> {
  const azure = stack.azure!;
  const settings = azure.inventory!.settings;
  const event = armWriteEventFor(id, new Date().toISOString());
  const data = event.data as Record<string, unknown>;
  const ref: EventRef = { source: 'event#2', cloud: 'azure', label: `${String(event.eventType)} ${String(data.operationName)} ${id.split('/').pop()}` };
  const table = (name: string) => TableClient.fromConnectionString(azure.azurite.connectionString, name, { allowInsecureConnection: true });
  const findings = settings.findings;
  const store = new TableFindingStore(table(settings.findingsTable), table(settings.findingsIndexTable));
  const findingRecorder = new FindingRecorder({
    store,
    channels: [],
    policy: { severityThreshold: findings.severityThreshold, notifyOnResolve: findings.notifyOnResolve, mode: 'deferred' },
    suppressions: compileSuppressions(findings.suppressions),
    persistTouches: true,
  });
  const resources = new TableResourceStore(table(settings.resourcesTable));
  const transitions: RecordedTransition[] = [];
  for (const outcome of routeArmEvent(event, { allowLists: findings.allowLists })) {
    if (outcome.kind !== 'evaluate') continue;
    const response = await fetch(`${azure.arm.endpoint}${outcome.resourceId}?api-version=${outcome.apiVersion}`, { headers: { authorization: 'Bearer local-stack' } });
    if (!response.ok) {
      recorder.failed(ref, `GET ${outcome.resourceId} answered ${response.status}`);
      return;
    }
    const body = (await response.json()) as { id: string };
    const result = evaluateArmResource(body, { allowLists: findings.allowLists, origin: { trigger: 'event', event: outcome.event }, ruleIds: outcome.ruleIds });
    if (result.kind !== 'evaluated') {
      recorder.failed(ref, `the rules could not read ${outcome.resourceId}: ${result.reason}`);
      return;
    }
    const evaluated = new Set(result.evaluatedRuleIds);
    transitions.push(
      ...(await findingRecorder.reconcile({
        resource: { cloud: 'azure', scope: result.scope, resourceId: result.resource.id },
        covers: (f) => evaluated.has(f.ruleId),
        failures: result.observations,
        observedAt: outcome.event.eventTime,
        resolvedReason: 'fixed',
        source: { trigger: 'event', eventId: outcome.event.id },
      })),
    );
    const synced = await syncResourceFromEvent(outcome, body, { resources, types: settings.types });
    progress(`azure: event ${ref.label}: GET ${outcome.apiVersion}, ${outcome.ruleIds.length} rules, ${transitions.filter((t) => t.kind !== 'touch').length} finding change(s), Resources row ${synced.status}`);
  }
  recorder.processed(ref);
  for (const row of findingRows(transitions)) recorder.finding(row);
}

export async function runAzureInventoryDemo(stack: EmbeddedStack, recorder: RunRecorder, progress: Progress): Promise<void> {
  const azure = stack.azure!;
  const graph = azure.inventory!.graph;
  progress(`azure: Resource Graph simulator ${graph.endpoint} holds ${seedResources().length} resources in ${Object.keys(DEMO_SUBSCRIPTIONS).length} subscriptions`);
  await request(stack, { service: 'all' }, 'inventory#1', recorder, progress);
  const resource = seedResources().find((r) => r.name === DEMO_FIX.name)!;
  const fixed = { ...resource, properties: { ...resource.properties, [DEMO_FIX.property]: DEMO_FIX.value } };
  // Azure now holds the fix: ARM answers the event's GET with it, Resource Graph the next inventory.
  graph.put(fixed);
  azure.arm.put(fixed);
  progress(`azure: ${DEMO_FIX.name} fixed (${DEMO_FIX.property}: ${String(DEMO_FIX.value)}); replaying its ResourceWriteSuccess event`);
  await fixingEvent(stack, fixed.id, recorder, progress);
  await request(stack, { type: 'microsoft.storage/storageaccounts' }, 'inventory#3', recorder, progress);
}
