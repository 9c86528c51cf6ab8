import { QualysConfigError } from './errors';

/** Qualys platform gateways by POD (../reference/qualys.md). */
export const QUALYS_GATEWAYS = {
  US1: 'https://gateway.qg1.apps.qualys.com',
  US2: 'https://gateway.qg2.apps.qualys.com',
  US3: 'https://gateway.qg3.apps.qualys.com',
  US4: 'https://gateway.qg4.apps.qualys.com',
  EU1: 'https://gateway.qg1.apps.qualys.eu',
  EU2: 'https://gateway.qg2.apps.qualys.eu',
  EU3: 'https://gateway.qg3.apps.qualys.it',
  CA1: 'https://gateway.qg1.apps.qualys.ca',
  IN1: 'https://gateway.qg1.apps.qualys.in',
  AE1: 'https://gateway.qg1.apps.qualys.ae',
  UK1: 'https://gateway.qg1.apps.qualys.co.uk',
  AU1: 'https://gateway.qg1.apps.qualys.com.au',
  KSA1: 'https://gateway.qg1.apps.qualysksa.com',
} as const;
export type QualysPod = keyof typeof QUALYS_GATEWAYS;

/**
 * The gateway base URL (no trailing slash) from an explicit URL (private platforms, the simulator)
 * or a POD name. Plain http is accepted only for loopback hosts.
 */
export function resolveGateway(input: { pod?: string; gateway?: string }): string {
  if (input.gateway) {
    let url: URL;
    try {
      url = new URL(input.gateway);
    } catch {
      throw new QualysConfigError('gateway', `expected an https URL, got ${JSON.stringify(input.gateway)}`);
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      throw new QualysConfigError('gateway', `expected an https URL (http only on loopback), got ${JSON.stringify(input.gateway)}`);
    }
    return url.origin + url.pathname.replace(/\/+$/, '');
  }
  if (input.pod) {
    const pod = input.pod.trim().toUpperCase();
    const url = (QUALYS_GATEWAYS as Record<string, string>)[pod];
    if (!url) throw new QualysConfigError('pod', `unknown POD ${JSON.stringify(input.pod)}; expected one of ${Object.keys(QUALYS_GATEWAYS).join(', ')}`);
    return url;
  }
  throw new QualysConfigError('pod', 'one of pod or gateway is required');
}
