/**
 * `--arm <file>`: ARM resource GET bodies the ARM stub serves by their `id`, so an Azure replay reads a
 * resource as it was when the event was captured (`az resource show --ids <id>` prints such a body).
 * A file holds one body or an array of them. Bodies are taken as they are: the rules read what ARM would
 * return, and a body that lacks a property is exactly what they must handle.
 */
import { readFileSync } from 'node:fs';
import type { LocalAzureStack } from '../stack/azure-stack';
import { UsageError } from './options';

export type ArmResource = { id: string } & Record<string, unknown>;

/** ARM ids are absolute: a subscription, a management group, a tenant-level provider. */
const ARM_ID = /^\/(subscriptions|providers)\/[^/]+/i;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads and checks every body; a file that is not JSON or a body without an ARM `id` is a usage error. */
export function readArmFiles(files: readonly string[]): ArmResource[] {
  return files.flatMap((file) => {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new UsageError(`--arm ${file}: ${(error as Error).message}`);
    }
    const bodies = Array.isArray(document) ? document : [document];
    return bodies.map((body, index) => {
      const where = Array.isArray(document) ? `${file}[${index}]` : file;
      if (!isObject(body)) throw new UsageError(`--arm ${where}: expected an ARM resource GET body (a JSON object)`);
      if (typeof body.id !== 'string' || !ARM_ID.test(body.id)) {
        throw new UsageError(`--arm ${where}: expected an "id" such as /subscriptions/<id>/resourceGroups/<group>/providers/<type>/<name>`);
      }
      return body as ArmResource;
    });
  });
}

/** The images a container group or app runs (init containers too); none for any other resource. */
export function workloadImages(resource: Record<string, unknown>): string[] {
  const properties = (resource.properties ?? {}) as Record<string, unknown>;
  const template = (properties.template ?? properties) as Record<string, unknown>;
  const list = (value: unknown) => (Array.isArray(value) ? (value as Record<string, unknown>[]) : []);
  const containers = [...list(template.containers), ...list(template.initContainers)];
  return containers.map((c) => String(c.image ?? (c.properties as Record<string, unknown> | undefined)?.image ?? '')).filter((image) => image !== '');
}

/**
 * Puts each body into the ARM stub. A container group or app is deployed with its images (the Qualys
 * simulator learns them) and counted as known, so a deployment replay scans it as given instead of
 * defining a stand-in.
 */
export function seedArmResources(azure: LocalAzureStack, known: Set<string>, resources: readonly ArmResource[]): void {
  for (const resource of resources) {
    azure.deploy(resource, workloadImages(resource));
    known.add(resource.id.toLowerCase());
  }
}
