import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../emulators/loopback';

/**
 * A loopback stand-in for the ARM reads the Azure runtime makes (GET container group, GET container app,
 * and the GET of any resource a security rule reads: NSGs, storage accounts, vaults, role assignments...)
 * and for the registry manifest lookups it uses to resolve tags to digests. Resources are served as stored
 * (shapes of ../shared/corpus/arm and the REST spec examples) by their id, case-insensitively as ARM does;
 * unknown ids answer ARM's 404 error body.
 *
 * Registry side (OCI distribution): HEAD/GET /v2/<repo>/manifests/<tag> answers 401 with a Bearer
 * challenge until the caller presents a token from GET /token, like Docker Hub does anonymously.
 */

export interface ArmStubRequest {
  method: string;
  path: string;
  apiVersion?: string;
  authorized: boolean;
  status: number;
}

export interface ArmStub {
  endpoint: string;
  /** Stores (or replaces) a resource under its `id` (case-insensitive, like ARM). */
  put(resource: { id: string } & Record<string, unknown>): void;
  remove(id: string): void;
  /** The next `count` ARM GETs answer `status` (503 by default, with `headers` such as Retry-After) before serving normally. */
  failNext(count: number, status?: number, headers?: Record<string, string>): void;
  /** Registry: what a tag points at. */
  setManifest(repository: string, tag: string, digest: string): void;
  readonly requests: ArmStubRequest[];
  stop(): Promise<void>;
}

/** A resource id: a subscription (or management group) scope, then `providers/<namespace>/<type>/<name>...`. */
const ARM_PATH = /^\/(subscriptions|providers\/microsoft\.management\/managementgroups)\/[^/]+(\/.+)?\/providers\/[^/]+\/[^/]+\/[^/]+(\/[^/]+\/[^/]+)*$/i;
/** `Microsoft.Network/networkSecurityGroups` of a path, as ARM names it in a 404 (the last provider segment). */
function typeOfPath(path: string): string {
  const segments = path.split('/');
  const at = segments.map((s) => s.toLowerCase()).lastIndexOf('providers');
  const tail = segments.slice(at + 1);
  return [tail[0], ...tail.slice(1).filter((_, i) => i % 2 === 0)].join('/');
}
const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const REGISTRY_TOKEN = 'stub-registry-pull-token';

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startArmStub(): Promise<ArmStub> {
  const resources = new Map<string, Record<string, unknown>>();
  const manifests = new Map<string, string>();
  const requests: ArmStubRequest[] = [];
  let failures: { count: number; status: number; headers: Record<string, string> } = { count: 0, status: 503, headers: {} };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const path = decodeURIComponent(url.pathname);
    const auth = req.headers.authorization ?? '';
    const record = (status: number) =>
      requests.push({ method: req.method ?? 'GET', path, apiVersion: url.searchParams.get('api-version') ?? undefined, authorized: auth.startsWith('Bearer '), status });
    req.resume();

    // ACR's flow: Entra token -> refresh token -> pull token (the stub accepts any bearer).
    if (req.method === 'POST' && path === '/oauth2/exchange') {
      record(200);
      return send(res, 200, { refresh_token: 'stub-acr-refresh-token' });
    }
    if (req.method === 'POST' && path === '/oauth2/token') {
      record(200);
      return send(res, 200, { access_token: REGISTRY_TOKEN });
    }
    if (path === '/token') {
      record(200);
      return send(res, 200, { token: REGISTRY_TOKEN, access_token: REGISTRY_TOKEN, expires_in: 300 });
    }
    const manifest = MANIFEST_PATH.exec(path);
    if (manifest) {
      const host = req.headers.host ?? '127.0.0.1';
      if (auth !== `Bearer ${REGISTRY_TOKEN}`) {
        record(401);
        return send(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, {
          'www-authenticate': `Bearer realm="http://${host}/token",service="stub-registry",scope="repository:${manifest[1]}:pull"`,
        });
      }
      const digest = manifests.get(`${manifest[1]}:${manifest[2]}`);
      if (!digest) {
        record(404);
        return send(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
      }
      record(200);
      res.writeHead(200, { 'docker-content-digest': digest, 'content-type': 'application/vnd.oci.image.index.v1+json' });
      return res.end();
    }

    if (req.method !== 'GET' || !ARM_PATH.test(path)) {
      record(404);
      return send(res, 404, { error: { code: 'NoRegisteredProviderFound', message: `the ARM stub serves only resource GETs (/subscriptions/.../providers/...), not ${req.method} ${path}` } });
    }
    if (!auth.startsWith('Bearer ')) {
      record(401);
      return send(res, 401, { error: { code: 'AuthenticationFailed', message: 'Authentication failed. The Authorization header is missing.' } });
    }
    if (!url.searchParams.get('api-version')) {
      record(400);
      return send(res, 400, { error: { code: 'MissingApiVersionParameter', message: "The api-version query parameter (?api-version=) is required for all requests." } });
    }
    if (failures.count > 0) {
      failures.count -= 1;
      record(failures.status);
      return send(res, failures.status, { error: { code: failures.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message: 'injected failure' } }, failures.headers);
    }
    const resource = resources.get(path.toLowerCase());
    if (!resource) {
      const type = /containergroups/i.test(path) ? 'Microsoft.ContainerInstance/containerGroups' : /containerapps/i.test(path) ? 'Microsoft.App/containerApps' : typeOfPath(path);
      record(404);
      return send(res, 404, { error: { code: 'ResourceNotFound', message: `The Resource '${type}/${path.split('/').pop()}' under resource group was not found.` } });
    }
    record(200);
    return send(res, 200, resource);
  });
  const { endpoint, stop } = await listenOnLoopback(server);
  return {
    endpoint,
    put(resource) {
      resources.set(resource.id.toLowerCase(), resource);
    },
    remove(id) {
      resources.delete(id.toLowerCase());
    },
    failNext(count, status = 503, headers = {}) {
      failures = { count, status, headers };
    },
    setManifest(repository, tag, digest) {
      manifests.set(`${repository}:${tag}`, digest);
    },
    requests,
    stop,
  };
}
