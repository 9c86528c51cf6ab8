/**
 * `npm start -- --inventory`, Azure half: the Function App's inventory on the embedded stack, over the Resource
 * Graph simulator seeded with three fake subscriptions (local/resource-graph-sim/seed.ts). It sends the seed's
 * manual payload `{"service":"all"}` to the `inventory-requests` queue (the deployed handler runs it: Resource
 * Graph paging, the Resources table, the posture rules, findings in the Table store), prints the findings, then
 * fixes one storage account in Resource Graph and runs the inventory of storage accounts again, which shows that
 * finding RESOLVED. (Once the security-events path is on the local stack, the fix can be an ARM event instead.)
 */
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

/** Requests the demo sends, in order. */
export const AZURE_INVENTORY_REQUESTS = 2;

function findingRows(report: RunReport): FindingRow[] {
  return report.transitions
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
  for (const row of findingRows(report)) recorder.finding(row);
  return report;
}

export async function runAzureInventoryDemo(stack: EmbeddedStack, recorder: RunRecorder, progress: Progress): Promise<void> {
  const graph = stack.azure!.inventory!.graph;
  progress(`azure: Resource Graph simulator ${graph.endpoint} holds ${seedResources().length} resources in ${Object.keys(DEMO_SUBSCRIPTIONS).length} subscriptions`);
  await request(stack, { service: 'all' }, 'inventory#1', recorder, progress);
  const resource = seedResources().find((r) => r.name === DEMO_FIX.name)!;
  graph.put({ ...resource, properties: { ...resource.properties, [DEMO_FIX.property]: DEMO_FIX.value } });
  progress(`azure: ${DEMO_FIX.name} fixed in Resource Graph (${DEMO_FIX.property}: ${String(DEMO_FIX.value)}); inventory of storage accounts again`);
  await request(stack, { type: 'microsoft.storage/storageaccounts' }, 'inventory#2', recorder, progress);
}
