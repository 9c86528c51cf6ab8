import type { TokenCredential } from '@azure/identity';
import type { ImageReference } from '../../shared/image-reference';

/**
 * Resolves a tag to the digest it points at now, through the registry's own API (OCI distribution:
 * HEAD /v2/<repo>/manifests/<tag>, answer in `Docker-Content-Digest`). Docker Hub and MCR answer
 * anonymously after the usual token challenge; ACR takes the app identity's Entra token exchanged
 * for a registry token. Anything else, or any failure, falls back to the tag (the caller keys on the
 * canonical reference then).
 */

export interface DigestResolver {
  resolve(ref: ImageReference): Promise<{ digest?: string; note: string }>;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const ACR_HOST = /\.azurecr\.(io|cn|us)$/i;

/** Key of REGISTRY_ENDPOINTS that answers for every registry without an entry of its own. */
export const ANY_REGISTRY = '*';

function registryBase(registry: string, overrides: Record<string, string>): string {
  const override = overrides[registry] ?? overrides[ANY_REGISTRY];
  if (override) return override.replace(/\/+$/, '');
  if (registry === 'docker.io') return 'https://registry-1.docker.io';
  return `https://${registry}`;
}

/** Parses `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string | null): { realm: string; service?: string; scope?: string } | undefined {
  if (!header || !/^bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return params.realm ? { realm: params.realm, service: params.service, scope: params.scope } : undefined;
}

export class RegistryDigestResolver implements DigestResolver {
  private readonly cache = new Map<string, { at: number; digest?: string; note: string }>();

  constructor(
    private readonly options: {
      credential?: TokenCredential;
      overrides?: Record<string, string>;
      timeoutMs?: number;
      /** Answers are reused this long: a burst of events for one tag asks the registry once. */
      cacheMs?: number;
      /**
       * Refuse every URL that is not on this machine (realms of token challenges included). Local runs
       * set it: their credential is a fake token for the loopback stubs, which must never reach a real
       * registry, and a test must not depend on whether the internet happens to be reachable.
       */
      loopbackOnly?: boolean;
    } = {},
  ) {}

  private fetch(url: string | URL, init: RequestInit): Promise<Response> {
    const target = new URL(url);
    if (this.options.loopbackOnly && !LOOPBACK_HOSTS.has(target.hostname)) {
      return Promise.reject(new Error(`refused a call to ${target.host}: this run only talks to registries on loopback (set REGISTRY_ENDPOINTS)`));
    }
    return fetch(target, init);
  }

  async resolve(ref: ImageReference): Promise<{ digest?: string; note: string }> {
    if (ref.digest) return { digest: ref.digest, note: 'digest in the reference' };
    const key = `${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < (this.options.cacheMs ?? 60_000)) return hit;
    let answer: { digest?: string; note: string };
    try {
      answer = await this.lookup(ref);
    } catch (error) {
      answer = { note: `registry lookup failed: ${(error as Error).name === 'TimeoutError' ? 'timed out' : (error as Error).message}` };
    }
    this.cache.set(key, { at: Date.now(), ...answer });
    return answer;
  }

  private async lookup(ref: ImageReference): Promise<{ digest?: string; note: string }> {
    const base = registryBase(ref.registry, this.options.overrides ?? {});
    const url = `${base}/v2/${ref.repository}/manifests/${encodeURIComponent(ref.tag ?? 'latest')}`;
    let response = await this.head(url);
    if (response.status === 401) {
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      if (!challenge) return { note: `registry ${ref.registry} wants credentials we do not have (HTTP 401)` };
      const scope = challenge.scope ?? `repository:${ref.repository}:pull`;
      const token = ACR_HOST.test(ref.registry)
        ? await this.acrToken(base, challenge.service ?? ref.registry, scope)
        : await this.anonymousToken(challenge.realm, challenge.service, scope);
      if (!token) return { note: `no pull token for ${ref.registry}` };
      response = await this.head(url, token);
    }
    if (!response.ok) return { note: `registry answered HTTP ${response.status} for ${ref.repository}:${ref.tag ?? 'latest'}` };
    const digest = response.headers.get('docker-content-digest') ?? undefined;
    if (!digest || !DIGEST.test(digest)) return { note: 'registry answered without a sha256 digest' };
    return { digest, note: 'resolved by the registry' };
  }

  private head(url: string, token?: string): Promise<Response> {
    return this.fetch(url, {
      method: 'HEAD',
      headers: { accept: MANIFEST_TYPES, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
    });
  }

  private async anonymousToken(realm: string, service: string | undefined, scope: string): Promise<string | undefined> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const response = await this.fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { token?: string; access_token?: string };
    return body.token ?? body.access_token;
  }

  /** ACR: Entra token -> refresh token (/oauth2/exchange) -> pull-scoped access token (/oauth2/token). */
  private async acrToken(base: string, service: string, scope: string): Promise<string | undefined> {
    if (!this.options.credential) return undefined;
    const entra = await this.options.credential.getToken('https://containerregistry.azure.net/.default');
    if (!entra) return undefined;
    const signal = AbortSignal.timeout(this.options.timeoutMs ?? 5000);
    const exchange = await this.fetch(`${base}/oauth2/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'access_token', service, access_token: entra.token }),
      signal,
    });
    if (!exchange.ok) return undefined;
    const { refresh_token: refresh } = (await exchange.json()) as { refresh_token?: string };
    if (!refresh) return undefined;
    const token = await this.fetch(`${base}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', service, scope, refresh_token: refresh }),
      signal,
    });
    if (!token.ok) return undefined;
    return ((await token.json()) as { access_token?: string }).access_token;
  }
}

/** Never asks a registry: for tests and for stacks that prefer tag keys. */
export class NoDigestResolver implements DigestResolver {
  async resolve(ref: ImageReference): Promise<{ digest?: string; note: string }> {
    return ref.digest ? { digest: ref.digest, note: 'digest in the reference' } : { note: 'registry lookups disabled' };
  }
}
