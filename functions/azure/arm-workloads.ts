import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { ContainerAppsAPIClient } from '@azure/arm-appcontainers';
import type { TokenCredential } from '@azure/identity';
import type { DeploymentEvent } from './deployment-event';
import type { ContainerType } from './telemetry-names';

/** What a deployed workload runs, read from ARM (events carry no resource properties). */
export interface WorkloadImages {
  resourceId: string;
  containerType: ContainerType;
  location?: string;
  containers: { name: string; image: string; init: boolean }[];
  /** Registry servers the workload has credentials for (ACI `imageRegistryCredentials`, ACA `configuration.registries`). */
  registryServers: string[];
}

export type WorkloadLookup = { kind: 'found'; workload: WorkloadImages } | { kind: 'gone'; statusCode: number };

export interface WorkloadReader {
  read(event: DeploymentEvent): Promise<WorkloadLookup>;
}

// core-rest-pipeline is not a direct dependency: take its names from the client instead of importing it.
type PipelinePolicy = Parameters<ContainerInstanceManagementClient['pipeline']['addPolicy']>[0];
const bearerTokenAuthenticationPolicyName = 'bearerTokenAuthenticationPolicy';

interface RestLikeError {
  statusCode?: number;
  code?: string;
}

function isGone(error: unknown): number | undefined {
  const e = error as RestLikeError;
  if (e && (e.statusCode === 404 || e.statusCode === 410)) return e.statusCode;
  return undefined;
}

/** ARM_ENDPOINT as a URL: https, or plain http on loopback only (the ARM stub of local runs). */
export function checkedArmEndpoint(endpoint: string): URL {
  const url = new URL(endpoint);
  if (url.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new Error(`ARM_ENDPOINT ${endpoint} must use https (plain http is allowed only on loopback for local runs)`);
  }
  return url;
}

/** The ARM token's scope (management plane). */
export const ARM_SCOPE = 'https://management.azure.com/.default';

/**
 * An http endpoint is accepted only on loopback (the ARM stub of local runs): the SDK's bearer policy
 * refuses plain http, so there the token goes through a small policy of our own.
 */
function clientOptions(endpoint: string | undefined, credential: TokenCredential) {
  if (!endpoint) return { options: {}, insecure: undefined };
  const url = checkedArmEndpoint(endpoint);
  const options = { endpoint, $host: endpoint, credentialScopes: [ARM_SCOPE] };
  if (url.protocol === 'https:') return { options, insecure: undefined };
  const policy: PipelinePolicy = {
    name: 'loopbackBearerPolicy',
    async sendRequest(request, next) {
      const token = await credential.getToken(ARM_SCOPE);
      if (token) request.headers.set('authorization', `Bearer ${token.token}`);
      request.allowInsecureConnection = true;
      return next(request);
    },
  };
  return { options, insecure: policy };
}

export class ArmWorkloadReader implements WorkloadReader {
  private readonly aci = new Map<string, ContainerInstanceManagementClient>();
  private readonly aca = new Map<string, ContainerAppsAPIClient>();

  constructor(
    private readonly credential: TokenCredential,
    private readonly endpoint?: string,
  ) {}

  private client<T extends ContainerInstanceManagementClient | ContainerAppsAPIClient>(
    cache: Map<string, T>,
    subscriptionId: string,
    make: (options: Record<string, unknown>) => T,
  ): T {
    let client = cache.get(subscriptionId);
    if (!client) {
      const { options, insecure } = clientOptions(this.endpoint, this.credential);
      client = make(options);
      if (insecure) {
        client.pipeline.removePolicy({ name: bearerTokenAuthenticationPolicyName });
        client.pipeline.addPolicy(insecure);
      }
      cache.set(subscriptionId, client);
    }
    return client;
  }

  async read(event: DeploymentEvent): Promise<WorkloadLookup> {
    try {
      if (event.containerType === 'ACI') {
        const client = this.client(this.aci, event.subscriptionId, (o) => new ContainerInstanceManagementClient(this.credential, event.subscriptionId, o));
        const group = await client.containerGroups.get(event.resourceGroup, event.name);
        return {
          kind: 'found',
          workload: {
            resourceId: group.id ?? event.resourceId,
            containerType: 'ACI',
            location: group.location,
            containers: [
              ...(group.containers ?? []).map((c) => ({ name: c.name, image: c.image, init: false })),
              ...(group.initContainers ?? []).filter((c) => c.image).map((c) => ({ name: c.name, image: c.image as string, init: true })),
            ],
            registryServers: (group.imageRegistryCredentials ?? []).map((c) => c.server),
          },
        };
      }
      const client = this.client(this.aca, event.subscriptionId, (o) => new ContainerAppsAPIClient(this.credential, event.subscriptionId, o));
      const app = await client.containerApps.get(event.resourceGroup, event.name);
      return {
        kind: 'found',
        workload: {
          resourceId: app.id ?? event.resourceId,
          containerType: 'ACA',
          location: app.location,
          containers: [
            ...(app.template?.containers ?? []).filter((c) => c.image).map((c) => ({ name: c.name ?? '', image: c.image as string, init: false })),
            ...(app.template?.initContainers ?? []).filter((c) => c.image).map((c) => ({ name: c.name ?? '', image: c.image as string, init: true })),
          ],
          registryServers: (app.configuration?.registries ?? []).map((r) => r.server).filter((s): s is string => Boolean(s)),
        },
      };
    } catch (error) {
      const gone = isGone(error);
      if (gone !== undefined) return { kind: 'gone', statusCode: gone };
      throw error;
    }
  }
}
