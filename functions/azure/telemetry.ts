import * as diagnostics from 'node:diagnostics_channel';
import { TelemetryClient } from 'applicationinsights';
import {
  CONTAINER_SCAN_EVENT,
  EXCEPTION_COMPONENT_PROPERTY,
  HTTP_DEPENDENCY_TYPE,
  qualysDependencyName,
  type Component,
  type ContainerScanDimension,
  type ExceptionProperty,
  type QualysEndpointFamily,
} from './telemetry-names';
import { redactor } from './log';

export interface DependencyRecord {
  name: string;
  target: string;
  data: string;
  durationMs: number;
  resultCode: string;
  success: boolean;
}

/** Extra customDimensions of a tracked exception (Component is added by the implementation). */
export type ExceptionProperties = Partial<Record<ExceptionProperty, string | number | undefined>>;

/** What the handlers emit. The Application Insights client is one implementation; tests record. */
export interface Telemetry {
  containerScan(dimensions: Partial<Record<ContainerScanDimension, string | number | undefined>>): void;
  event(name: string, properties: Record<string, string | number | undefined>): void;
  dependency(record: DependencyRecord): void;
  exception(error: unknown, component: Component, properties?: ExceptionProperties): void;
  flush(): Promise<void>;
}

function stringProps(props: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) if (v !== undefined) out[k] = redactor.redact(String(v));
  return out;
}

export class AppInsightsTelemetry implements Telemetry {
  private readonly client: TelemetryClient;

  constructor(connectionString: string) {
    // Isolated from the global distro: the host already collects requests and traces, and our
    // dependency records come from the Qualys observer, so nothing is counted twice.
    this.client = new TelemetryClient(connectionString, { useGlobalProviders: false });
  }

  containerScan(dimensions: Partial<Record<ContainerScanDimension, string | number | undefined>>): void {
    this.client.trackEvent({ name: CONTAINER_SCAN_EVENT, properties: stringProps(dimensions) });
  }

  event(name: string, properties: Record<string, string | number | undefined>): void {
    this.client.trackEvent({ name, properties: stringProps(properties) });
  }

  dependency(r: DependencyRecord): void {
    // The exporter files a span as an HTTP dependency (type Http, target, result code) from the HTTP
    // semantic attributes. `http.url` gets the path only: given a full URL the exporter would rename
    // the dependency to `<method> <path>`, and the dashboards group by our family names.
    const [method, path] = r.data.split(' ', 2);
    this.client.trackDependency({
      name: r.name,
      target: r.target,
      data: path ?? r.data,
      duration: r.durationMs,
      resultCode: r.resultCode,
      success: r.success,
      dependencyTypeName: HTTP_DEPENDENCY_TYPE,
      properties: { 'http.method': method ?? 'GET' },
    });
  }

  exception(error: unknown, component: Component, properties: ExceptionProperties = {}): void {
    const exception = error instanceof Error ? error : new Error(String(error));
    const safe = new Error(redactor.redact(exception.message));
    safe.name = exception.name;
    safe.stack = exception.stack ? redactor.redact(exception.stack) : undefined;
    this.client.trackException({ exception: safe, properties: stringProps({ ...properties, [EXCEPTION_COMPONENT_PROPERTY]: component }) });
  }

  flush(): Promise<void> {
    return this.client.flush();
  }
}

/** Used when APPLICATIONINSIGHTS_CONNECTION_STRING is unset: every call is a no-op. */
export class NoopTelemetry implements Telemetry {
  containerScan(): void {}
  event(): void {}
  dependency(): void {}
  exception(): void {}
  async flush(): Promise<void> {}
}

/** Keeps everything in memory (tests, benchmarks, `npm start`'s summary). */
export class MemoryTelemetry implements Telemetry {
  readonly scans: Record<string, string>[] = [];
  readonly events: { name: string; properties: Record<string, string> }[] = [];
  readonly dependencies: DependencyRecord[] = [];
  readonly exceptions: { error: unknown; properties: Record<string, string> }[] = [];

  containerScan(dimensions: Partial<Record<ContainerScanDimension, string | number | undefined>>): void {
    this.scans.push(stringProps(dimensions));
  }
  event(name: string, properties: Record<string, string | number | undefined>): void {
    this.events.push({ name, properties: stringProps(properties) });
  }
  dependency(record: DependencyRecord): void {
    this.dependencies.push(record);
  }
  exception(error: unknown, component: Component, properties: ExceptionProperties = {}): void {
    this.exceptions.push({ error, properties: stringProps({ ...properties, [EXCEPTION_COMPONENT_PROPERTY]: component }) });
  }
  async flush(): Promise<void> {}
}

export function createTelemetry(connectionString: string | undefined): Telemetry {
  return connectionString ? new AppInsightsTelemetry(connectionString) : new NoopTelemetry();
}

/** Maps a Qualys path to its rate-limit family (the limits are per family, so are the dashboards). */
export function qualysEndpointFamily(path: string): QualysEndpointFamily {
  const p = path.split('?')[0]!.replace(/\/+$/, '');
  if (/\/auth$/.test(p)) return 'auth';
  const cs = /\/csapi\/v[0-9.]+(\/.*)?$/.exec(p)?.[1] ?? '';
  if (cs === '/images') return 'images/list';
  if (cs.startsWith('/images/')) return 'images';
  if (cs === '/registry' || cs.startsWith('/registry/')) return 'registry';
  if (cs === '/containers') return 'containers/list';
  if (cs.startsWith('/containers/')) return 'containers';
  return 'other';
}

interface UndiciRequestLike {
  origin?: string | URL;
  method?: string;
  path?: string;
}

/**
 * Reports every HTTP call to the Qualys gateway as a dependency, whichever client made it: undici
 * (and Node's fetch, built on it) publishes request lifecycle events on diagnostics channels. Returns
 * the function that stops observing.
 */
export function observeQualysCalls(gateway: string, sink: (record: DependencyRecord) => void): () => void {
  const host = new URL(gateway).host;
  const started = new WeakMap<object, { at: number; path: string; method: string }>();
  const matches = (request: UndiciRequestLike) => {
    if (!request.origin) return false;
    try {
      return new URL(String(request.origin)).host === host;
    } catch {
      return false;
    }
  };
  const finish = (request: UndiciRequestLike, resultCode: string, success: boolean) => {
    const start = started.get(request as object);
    if (!start) return;
    started.delete(request as object);
    const family = qualysEndpointFamily(start.path);
    sink({
      name: qualysDependencyName(family),
      target: host,
      // The path only: query strings can carry filters with image names, never credentials, but keep it short.
      data: `${start.method} ${start.path.split('?')[0]}`,
      durationMs: Date.now() - start.at,
      resultCode,
      success,
    });
  };
  const onCreate = (message: unknown) => {
    const { request } = message as { request: UndiciRequestLike };
    if (request && matches(request)) started.set(request as object, { at: Date.now(), path: request.path ?? '/', method: request.method ?? 'GET' });
  };
  const onHeaders = (message: unknown) => {
    const { request, response } = message as { request: UndiciRequestLike; response: { statusCode: number } };
    finish(request, String(response.statusCode), response.statusCode < 400);
  };
  const onError = (message: unknown) => {
    const { request, error } = message as { request: UndiciRequestLike; error: Error };
    finish(request, error?.name ?? 'Error', false);
  };
  diagnostics.subscribe('undici:request:create', onCreate);
  diagnostics.subscribe('undici:request:headers', onHeaders);
  diagnostics.subscribe('undici:request:error', onError);
  return () => {
    diagnostics.unsubscribe('undici:request:create', onCreate);
    diagnostics.unsubscribe('undici:request:headers', onHeaders);
    diagnostics.unsubscribe('undici:request:error', onError);
  };
}
