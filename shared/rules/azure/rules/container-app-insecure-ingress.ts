import { booleanAt, objectAt } from '../arm';
import { CONTAINER_APP } from '../resources';
import type { AzurePostureRule } from '../types';
import { propertiesMissing } from './common';

/**
 * External ingress with `allowInsecure: true` serves plain HTTP to the internet instead of redirecting it to
 * HTTPS. `allowInsecure` defaults to false (Container Apps ingress docs), so absent passes; internal ingress
 * (`external: false`, reachable only inside the environment) passes too.
 */
export const containerAppInsecureIngress: AzurePostureRule = {
  id: 'azure.containerapps.insecure-ingress',
  title: 'Container App accepts plain HTTP from the internet',
  severity: 'MEDIUM',
  cloud: 'azure',
  service: 'containerapps',
  category: 'posture',
  risk: 'Requests and responses on plain HTTP (credentials, session cookies, API tokens) can be read and altered by anyone on the network path.',
  remediation: {
    text: 'Set ingress.allowInsecure to false so HTTP requests are redirected to HTTPS (az containerapp ingress update --allow-insecure false).',
    url: 'https://learn.microsoft.com/azure/container-apps/ingress-how-to',
  },
  resourceType: CONTAINER_APP.type,
  triggers: CONTAINER_APP.triggers,
  deleteOperationNames: CONTAINER_APP.deleteOperationNames,
  evaluate(resource) {
    const skip = propertiesMissing(resource);
    if (skip) return skip;
    const ingress = objectAt(objectAt(resource.properties!.configuration)?.ingress);
    if (!ingress) return { status: 'evaluated', failures: [] };
    const external = booleanAt(ingress.external) === true;
    const allowInsecure = booleanAt(ingress.allowInsecure) === true;
    if (!external || !allowInsecure) return { status: 'evaluated', failures: [] };
    return {
      status: 'evaluated',
      failures: [{ subject: 'ingress', evidence: { external, allowInsecure, transport: ingress.transport ?? null, targetPort: ingress.targetPort ?? null, fqdn: ingress.fqdn ?? null } }],
    };
  },
};
