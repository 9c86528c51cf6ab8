import type { ImageReference } from '../image-reference';
import { parseScanResult, type ScanResult, type ScanTarget, type Vulnerability } from '../scan-result';
import { countBySeverity, SeverityError, toSeverity, type Severity } from '../severity';
import { waitThrough, type Clock } from './clock';
import type { CheckOutcome, ScanState, ScanTicket, ScanWorkflow } from './contracts';
import { QualysClient, type QualysClientOptions } from './cs-client';
import { QualysNotFoundError, QualysRequestError, RegistryNotOnboardedError } from './errors';
import type { QualysImage, QualysRegistry, QualysVulnDetail } from './schemas';
import { parseScanTicket } from './ticket';

export interface ScanWorkflowOptions {
  /** A client, or the options to build one (`{ gateway | pod, credentials }`). */
  client: QualysClient | QualysClientOptions;
  /** Reuse an existing successful Qualys scan of the same digest when it is this recent (default 24 h). */
  reuseMaxAgeMs?: number;
  /** Registry connector lookups are cached for this long, per workflow (default 10 min). */
  registryCacheMs?: number;
  /** Repo/tag pairs per batched `/images?filter=` query (default 40, which keeps the URL under ~4 KB). */
  batchSize?: number;
  /** Ask Qualys for a forced rescan (falls back to false when the subscription refuses; default true). */
  forceScan?: boolean;
  /** Registry URIs to look up for a registry host (default: `https://<host>`; Docker Hub's aliases for docker.io). */
  registryUris?: (registry: string) => string[];
}

const DOCKER_HUB_URIS = ['https://registry-1.docker.io', 'https://index.docker.io', 'https://docker.io'];
const DOCKER_HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const DONE = /^(SUCCESS|COMPLETED|FINISHED|SCANNED)$/i;
/** Halvings of a batched check whose list came back incomplete (40 tickets reach single ones in 6). */
const MAX_SPLIT_DEPTH = 6;
const FAILED = /FAIL|ERROR|ABORT|TIMEOUT|TIMED_OUT/i;

export function defaultRegistryUris(registry: string): string[] {
  return DOCKER_HUB_NAMES.has(registry.toLowerCase()) ? DOCKER_HUB_URIS : [`https://${registry}`];
}

/** Docker's rule: a reference with neither tag nor digest means `:latest`. */
function effectiveTag(image: ImageReference): string | undefined {
  return image.tag ?? (image.digest ? undefined : 'latest');
}

function qqlString(value: string): string {
  return `"${value.replace(/["\\]/g, '')}"`;
}

function sameRegistry(a: string | undefined, b: string): boolean {
  if (!a) return true;
  const x = a.toLowerCase().replace(/^https?:\/\//, '').replace(/\/+$/, '');
  const y = b.toLowerCase();
  return x === y || (DOCKER_HUB_NAMES.has(x) && DOCKER_HUB_NAMES.has(y));
}

/** The newest image Qualys holds for the ticket's repo:tag (and digest, when the ticket pins one). */
function matchImage(ticket: ScanTicket, images: readonly QualysImage[]): QualysImage | undefined {
  let best: QualysImage | undefined;
  for (const image of images) {
    if (ticket.registryUuid && image.registryUuid && image.registryUuid !== ticket.registryUuid) continue;
    const tagged = image.repo.some(
      (r) => r.repository === ticket.repository && (ticket.tag === undefined || r.tag === ticket.tag) && sameRegistry(r.registry, ticket.registry),
    );
    if (!tagged) continue;
    if (ticket.digest && image.repoDigests.length > 0 && !image.repoDigests.some((d) => d.digest === ticket.digest)) continue;
    if (!best || (image.lastScanned ?? 0) > (best.lastScanned ?? 0)) best = image;
  }
  return best;
}

/** The vulnerabilities an image record says its scan found (the sum of its severity counts), when it says. */
function vulnTotal(image: QualysImage): number | undefined {
  const v = image.vulnerabilities;
  if (!v) return undefined;
  return v.severity1Count + v.severity2Count + v.severity3Count + v.severity4Count + v.severity5Count;
}

/**
 * The unified severity of a Qualys detail. An unusable value (0, 7, missing, an unknown word) keeps the
 * finding, filed through the shared scale's `unknown` level; `readable` lets the caller count those.
 */
function severityOf(raw: QualysVulnDetail['severity']): { severity: Severity; readable: boolean } {
  if (raw !== undefined) {
    try {
      return { severity: toSeverity(raw), readable: true };
    } catch (err) {
      if (!(err instanceof SeverityError)) throw err;
    }
  }
  return { severity: toSeverity('unknown'), readable: false };
}

function toVulnerability(detail: QualysVulnDetail): Vulnerability {
  const software = detail.software.filter((s) => s.name);
  const join = (values: (string | undefined)[]): string | undefined => {
    const present = values.filter((v): v is string => !!v);
    return present.length > 0 ? present.join(', ') : undefined;
  };
  const pkg = join(software.map((s) => s.name));
  const installed = join(software.map((s) => s.version));
  const fixed = join(software.map((s) => s.fixVersion));
  const cvss3 = detail.cvss3Info?.baseScore;
  return {
    id: detail.qid,
    cves: detail.cveids,
    title: detail.title ?? `QID ${detail.qid}`,
    severity: severityOf(detail.severity).severity,
    sourceSeverity: detail.severity ?? 'unknown',
    ...(pkg ? { package: pkg } : {}),
    ...(installed ? { installedVersion: installed } : {}),
    ...(fixed ? { fixedVersion: fixed } : {}),
    ...(cvss3 !== undefined && cvss3 >= 0 && cvss3 <= 10 ? { cvss3 } : {}),
  };
}

/**
 * ScanWorkflow over the Container Security API (the abstraction functions/azure uses).
 *
 * Construction:
 * ```ts
 * const workflow = createScanWorkflow({
 *   client: { gateway: 'https://gateway.qg2.apps.qualys.com', credentials: { kind: 'token', token } },
 *   // or client: createQualysClient({ pod: 'US2', credentials: { kind: 'password', username, password } })
 * });
 * const ticket = await workflow.submit(parseImageReference('myacr.azurecr.io/app:1.0'));
 * const [outcome] = await workflow.checkMany([ticket]); // store outcome.ticket
 * if (outcome.state === 'COMPLETED') await workflow.results(outcome.ticket, target);
 * ```
 * submit: its calls are low priority for the rate limiter (new work yields to scans in flight);
 * reuses a successful Qualys scan of the same digest younger than reuseMaxAgeMs (one list
 * call), else looks up the registry connector (cached) and posts an on-demand schedule for repo:tag.
 * Throws RegistryNotOnboardedError (permanent) when no connector exists. The schedule post is never
 * resent once Qualys may have received it (timeout, connection lost): submit then throws a retryable
 * QualysServerError and the caller's queue retries submit, whose reuse step finds the first schedule's
 * scan once it has landed (for references with a digest; one still running is scheduled again).
 * checkMany: one `/images?filter=` query per batchSize tickets (QQL `or` over repo/tag pairs); a lone
 * ticket with a known image sha uses `/images/{sha}`. Reused tickets cost nothing.
 * results: all pages of `/images/{sha}/vuln` as ScanResult v1 (engine `qualys-csapi`; scanId is
 * `qualys-<scheduleId | image sha>`, callers may replace it with their own). A detail without a QID
 * is left out and counted in `raw.vulnDetailsSkipped`; one with an unusable severity is kept as
 * INFORMATIONAL and counted in `raw.vulnSeveritiesUnreadable`.
 */
export class CsApiScanWorkflow implements ScanWorkflow {
  readonly client: QualysClient;
  private readonly clock: Clock;
  private readonly reuseMaxAgeMs: number;
  private readonly registryCacheMs: number;
  private readonly batchSize: number;
  private readonly forceScan: boolean;
  private readonly registryUris: (registry: string) => string[];
  private readonly registries = new Map<string, { at: number; value: Promise<QualysRegistry | undefined> }>();

  constructor(options: ScanWorkflowOptions) {
    this.client = options.client instanceof QualysClient ? options.client : new QualysClient(options.client);
    this.clock = this.client.clock;
    this.reuseMaxAgeMs = options.reuseMaxAgeMs ?? 24 * 3600_000;
    this.registryCacheMs = options.registryCacheMs ?? 10 * 60_000;
    this.batchSize = Math.max(1, options.batchSize ?? 40);
    this.forceScan = options.forceScan ?? true;
    this.registryUris = options.registryUris ?? defaultRegistryUris;
  }

  private ticketBase(image: ImageReference): ScanTicket {
    const ticket: ScanTicket = {
      v: 1,
      image: image.canonical,
      registry: image.registry,
      repository: image.repository,
      reused: false,
      submittedAt: new Date(this.clock.now()).toISOString(),
    };
    const tag = effectiveTag(image);
    if (tag) ticket.tag = tag;
    if (image.digest) ticket.digest = image.digest;
    return ticket;
  }

  private async findReusable(image: ImageReference): Promise<QualysImage | undefined> {
    if (!image.digest) return undefined;
    const tag = effectiveTag(image);
    const filter = `repo.repository:${qqlString(image.repository)}${tag ? ` and repo.tag:${qqlString(tag)}` : ''}`;
    // `created:desc` is the only sort qualys.md documents; the newest scan is picked here, not by the server.
    const page = await this.client.listImages({ filter, pageSize: 100, sort: 'created:desc', priority: 'low' });
    const oldest = this.clock.now() - this.reuseMaxAgeMs;
    let newest: QualysImage | undefined;
    for (const img of page.images) {
      const usable =
        img.repoDigests.some((d) => d.digest === image.digest) &&
        DONE.test(img.scanStatus ?? '') &&
        (img.lastScanned ?? 0) >= oldest &&
        img.repo.some((r) => r.repository === image.repository && sameRegistry(r.registry, image.registry));
      if (usable && (!newest || (img.lastScanned ?? 0) > (newest.lastScanned ?? 0))) newest = img;
    }
    return newest;
  }

  /** The registry connector for a host, cached (including "none") for registryCacheMs. */
  async registryFor(registry: string): Promise<QualysRegistry> {
    const key = registry.toLowerCase();
    const now = this.clock.now();
    let entry = this.registries.get(key);
    let joined = true;
    if (!entry || now - entry.at > this.registryCacheMs) {
      joined = false;
      const value = (async () => {
        for (const uri of this.registryUris(registry)) {
          const found = await this.client.findRegistry(uri, 'low');
          if (found) return found;
        }
        return undefined;
      })();
      entry = { at: now, value };
      this.registries.set(key, entry);
      // A failed lookup must not be cached.
      value.catch(() => this.registries.delete(key));
    }
    // Shared by every concurrent submit of the registry: waiting on another's lookup is idle time.
    const found = await (joined ? waitThrough(this.clock, entry.value) : entry.value);
    if (!found) throw new RegistryNotOnboardedError(registry, this.registryUris(registry));
    return found;
  }

  async submit(image: ImageReference): Promise<ScanTicket> {
    const ticket = this.ticketBase(image);
    const reusable = await this.findReusable(image);
    if (reusable) {
      ticket.reused = true;
      ticket.imageSha = reusable.sha;
      if (reusable.registryUuid) ticket.registryUuid = reusable.registryUuid;
      if (reusable.size !== undefined) ticket.sizeBytes = reusable.size;
      const vulnCount = vulnTotal(reusable);
      if (vulnCount !== undefined) ticket.vulnCount = vulnCount;
      return ticket;
    }
    const registry = await this.registryFor(image.registry);
    const tag = effectiveTag(image);
    if (!tag) {
      throw new QualysRequestError(`${image.canonical}: a registry scan is scheduled by repo:tag and this reference has only a digest; deploy by tag or scan it with QScanner`);
    }
    ticket.registryUuid = registry.registryUuid;
    const receipt = await this.client.schedule({
      registryUuid: registry.registryUuid,
      repo: image.repository,
      tag,
      name: `shipscan ${image.canonical}`.slice(0, 120),
      forceScan: this.forceScan,
      priority: 'low',
    });
    ticket.scheduleId = receipt.scheduleId;
    if (receipt.serverTime !== undefined) ticket.scheduledAtServer = receipt.serverTime;
    return ticket;
  }

  async check(ticket: ScanTicket): Promise<CheckOutcome> {
    const [outcome] = await this.checkMany([ticket]);
    return outcome!;
  }

  private outcomeFor(ticket: ScanTicket, image: QualysImage | undefined): CheckOutcome {
    const next: ScanTicket = { ...ticket };
    const outcome = (state: ScanState, detail: string): CheckOutcome => ({ state, detail, ticket: next });
    if (!image) return outcome('PENDING', `Qualys does not hold ${ticket.image} yet`);
    // The server's own time of the schedule when known (lastScanned is on its clock too); Date has whole
    // seconds, and a scan takes far longer than one, so a scan that landed within its second is older.
    const submittedAt = ticket.scheduledAtServer ?? Date.parse(ticket.submittedAt);
    const lastScanned = image.lastScanned ?? 0;
    if (lastScanned < submittedAt) {
      // The older image's size is the best guess of this one's until the scan lands: it sets the next look.
      if (next.sizeBytes === undefined && image.size !== undefined) next.sizeBytes = image.size;
      return outcome('RUNNING', `Qualys holds an older scan of ${ticket.image} (${lastScanned ? new Date(lastScanned).toISOString() : 'never'}); waiting for the new one`);
    }
    next.imageSha = image.sha;
    if (image.size !== undefined) next.sizeBytes = image.size;
    const vulnCount = vulnTotal(image);
    if (vulnCount !== undefined) next.vulnCount = vulnCount;
    const status = image.scanStatus ?? '';
    if (FAILED.test(status) || (image.scanErrorCode && !DONE.test(status))) {
      return outcome('FAILED', `Qualys scan of ${ticket.image} ended with status ${status || 'unknown'}${image.scanErrorCode ? ` (error ${image.scanErrorCode})` : ''}`);
    }
    if (DONE.test(status)) return outcome('COMPLETED', `Qualys scanned ${ticket.image} at ${new Date(lastScanned).toISOString()}`);
    return outcome('RUNNING', `Qualys scan of ${ticket.image} is ${status || 'in progress'}`);
  }

  async checkMany(input: readonly ScanTicket[]): Promise<CheckOutcome[]> {
    const tickets = input.map((t) => parseScanTicket(t));
    const outcomes: (CheckOutcome | undefined)[] = tickets.map((t) =>
      t.reused ? { state: 'COMPLETED', detail: `reused the Qualys scan of image ${t.imageSha}`, ticket: t } : undefined,
    );
    const pending = tickets.map((t, i) => ({ t, i })).filter(({ i }) => outcomes[i] === undefined);
    const lone = pending.length === 1 ? pending[0] : undefined;
    if (lone && lone.t.imageSha) {
      let image: QualysImage | undefined;
      try {
        image = await this.client.getImage(lone.t.imageSha);
      } catch (err) {
        if (!(err instanceof QualysNotFoundError)) throw err;
      }
      outcomes[lone.i] = this.outcomeFor(lone.t, image);
      return outcomes as CheckOutcome[];
    }
    for (let start = 0; start < pending.length; start += this.batchSize) {
      await this.checkChunk(pending.slice(start, start + this.batchSize), outcomes, 0);
    }
    return outcomes as CheckOutcome[];
  }

  /**
   * One `/images?filter=` query for a chunk of tickets. When the server's pages leave images out (it
   * ignores pageNumber, or the list outgrew maxPages), a ticket the partial list cannot settle is
   * asked again in a smaller query, down to one ticket; only then is it left PENDING, saying why.
   */
  private async checkChunk(chunk: readonly { t: ScanTicket; i: number }[], outcomes: (CheckOutcome | undefined)[], depth: number): Promise<void> {
    const terms = new Set<string>();
    for (const { t } of chunk) terms.add(t.tag ? `(repo.repository:${qqlString(t.repository)} and repo.tag:${qqlString(t.tag)})` : `repo.repository:${qqlString(t.repository)}`);
    const listing = await this.client.listAllImages([...terms].join(' or '));
    const unsettled: { t: ScanTicket; i: number }[] = [];
    for (const entry of chunk) {
      const outcome = this.outcomeFor(entry.t, matchImage(entry.t, listing.images));
      // From a cut list, only a final state is trusted: the scan that would change it may be on a missing page.
      if (listing.incomplete && outcome.state !== 'COMPLETED' && outcome.state !== 'FAILED') unsettled.push(entry);
      else outcomes[entry.i] = outcome;
    }
    if (unsettled.length === 0) return;
    if (unsettled.length > 1 && depth < MAX_SPLIT_DEPTH) {
      const half = Math.ceil(unsettled.length / 2);
      await this.checkChunk(unsettled.slice(0, half), outcomes, depth + 1);
      await this.checkChunk(unsettled.slice(half), outcomes, depth + 1);
      return;
    }
    for (const { t, i } of unsettled) {
      const outcome = this.outcomeFor(t, matchImage(t, listing.images));
      outcomes[i] = { ...outcome, detail: `${outcome.detail} (the image list was incomplete: ${listing.incomplete})` };
    }
  }

  async results(input: ScanTicket, target: ScanTarget): Promise<ScanResult> {
    let ticket = parseScanTicket(input);
    if (!ticket.imageSha) {
      const outcome = await this.check(ticket);
      if (outcome.state !== 'COMPLETED') throw new QualysRequestError(`results of ${ticket.image} asked before its scan completed (state ${outcome.state})`);
      ticket = outcome.ticket;
    }
    const sha = ticket.imageSha!;
    const report = await this.client.getVulnerabilityReport(sha, ticket.vulnCount !== undefined ? { expectedTotal: ticket.vulnCount } : {});
    const vulnerabilities = report.details.map(toVulnerability);
    const unreadableSeverities = report.details.filter((d) => !severityOf(d.severity).readable).length;
    return parseScanResult({
      schemaVersion: 1,
      scanId: `qualys-${ticket.scheduleId ?? sha}`.slice(0, 256),
      // Findings known to be missing must not pass for a clean bill: the counts are a floor, not the truth.
      status: report.incomplete ? 'PARTIAL' : 'COMPLETED',
      ...(report.incomplete ? { error: { code: 'QUALYS_RESULTS_INCOMPLETE', message: `vulnerability details of image ${sha} are incomplete: ${report.incomplete}`, retryable: false } } : {}),
      target,
      engine: { name: 'qualys-csapi' },
      startedAt: ticket.submittedAt,
      completedAt: new Date(this.clock.now()).toISOString(),
      counts: countBySeverity(vulnerabilities),
      vulnerabilities,
      raw: {
        imageSha: sha,
        reused: ticket.reused,
        ...(ticket.scheduleId ? { scheduleId: ticket.scheduleId } : {}),
        // Data-quality signals, present only when something was off: details dropped for lack of a QID,
        // and findings filed INFORMATIONAL because their severity was unusable.
        ...(report.skipped > 0 ? { vulnDetailsSkipped: report.skipped } : {}),
        ...(unreadableSeverities > 0 ? { vulnSeveritiesUnreadable: unreadableSeverities } : {}),
      },
    });
  }
}

export function createScanWorkflow(options: ScanWorkflowOptions): CsApiScanWorkflow {
  return new CsApiScanWorkflow(options);
}
