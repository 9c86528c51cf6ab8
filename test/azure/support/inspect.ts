import type { AzureStack } from './stack';
import type { ScanRow } from '../../../functions/azure/scan-store';

export async function rowsOf(stack: AzureStack, table = 'ScanMetadata'): Promise<ScanRow[]> {
  const out: ScanRow[] = [];
  try {
    for await (const e of stack.table(table).listEntities<ScanRow>()) out.push(e as ScanRow);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  return out;
}

export async function blobNames(stack: AzureStack, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  for await (const b of stack.blobs.getContainerClient('scan-results').listBlobsFlat({ prefix })) names.push(b.name);
  return names;
}

export async function readBlobJson(stack: AzureStack, name: string): Promise<Record<string, unknown>> {
  const buffer = await stack.blobs.getContainerClient('scan-results').getBlobClient(name).downloadToBuffer();
  return JSON.parse(buffer.toString('utf8')) as Record<string, unknown>;
}

/** On-demand schedules the simulator received for a repository. */
export function schedulesFor(stack: AzureStack, repository: string): number {
  return stack.sim.schedules.filter((s) => s.repo === repository).length;
}

export async function poisonCount(stack: AzureStack, queue: string): Promise<number> {
  const props = await stack.queues.getQueueClient(`${queue}-poison`).getProperties();
  return props.approximateMessagesCount ?? 0;
}
