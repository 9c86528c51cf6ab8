import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { SeverityCounts } from '../../shared/severity';

/** One entry of the vulnerability knowledge base (data/vulnerabilities.json). */
export interface KbVulnerability {
  qid: number;
  title: string;
  severity: 1 | 2 | 3 | 4 | 5;
  cveids: string[];
  cvss3?: number;
  category?: string;
}

export interface ImageVuln {
  qid: number;
  package: string;
  version: string;
  fixVersion?: string;
}

/** An image the simulated registries hold, and what Qualys knows about it. */
export interface SimImage {
  registry: string;
  repository: string;
  tags: string[];
  digest: string;
  /** Qualys image id (64 hex). */
  sha: string;
  size: number;
  created: number;
  os?: string;
  vulns: ImageVuln[];
  /** Epoch ms of the last finished scan; undefined while Qualys has never scanned it. */
  lastScanned?: number;
  scanStatus?: string;
  scanErrorCode?: string;
  /** Set while a scan runs on a server that shows scans in progress (rescanView in-progress). */
  scanStartedAt?: number;
  /** Set while a scan runs on a server that hides the image meanwhile (rescanView hidden). */
  hiddenWhileScanning?: boolean;
  /** How on-demand scans of this image end (default SUCCESS). */
  scanOutcome: 'SUCCESS' | 'FAILED';
  plannedErrorCode?: string;
  /** Fixed on-demand scan duration; else the simulator's distribution decides. */
  scanDurationMs?: number;
  registryUuid?: string;
  firstFound: number;
}

export interface SimRegistry {
  registryUuid: string;
  registryUri: string;
  registryType: string;
  credentialType?: string;
}

/** What registerImage accepts; digest/sha/size default to deterministic values derived from the name. */
export interface RegisterImageInput {
  registry: string;
  repository: string;
  tags: string[];
  digest?: string;
  sha?: string;
  size?: number;
  os?: string;
  /** Findings by QID from the knowledge base (or added with registerVulnerability). */
  vulns?: ImageVuln[];
  /** Already scanned by Qualys this long ago (ms); omitted = never scanned. */
  scannedAgoMs?: number;
  scanOutcome?: 'SUCCESS' | 'FAILED';
  scanErrorCode?: string;
  scanDurationMs?: number;
}

const DATA_DIR = path.join(__dirname, 'data');

interface ImageFile {
  images: {
    registry: string;
    repository: string;
    tags: string[];
    digest: string;
    sha: string;
    size: number;
    createdDaysAgo: number;
    os?: string;
    vulns: ImageVuln[];
    scannedHoursAgo?: number;
    scanOutcome?: 'SUCCESS' | 'FAILED';
    scanErrorCode?: string;
    scanDurationSec?: number;
  }[];
}

export function loadKnowledgeBase(): KbVulnerability[] {
  return (JSON.parse(readFileSync(path.join(DATA_DIR, 'vulnerabilities.json'), 'utf8')) as { vulnerabilities: KbVulnerability[] }).vulnerabilities;
}

export function loadRegistries(): SimRegistry[] {
  return (JSON.parse(readFileSync(path.join(DATA_DIR, 'registries.json'), 'utf8')) as { registries: SimRegistry[] }).registries;
}

export function loadSeedImages(): RegisterImageInput[] {
  const file = JSON.parse(readFileSync(path.join(DATA_DIR, 'images.json'), 'utf8')) as ImageFile;
  return file.images.map((i) => ({
    registry: i.registry,
    repository: i.repository,
    tags: i.tags,
    digest: i.digest,
    sha: i.sha,
    size: i.size,
    ...(i.os ? { os: i.os } : {}),
    vulns: i.vulns,
    ...(i.scannedHoursAgo !== undefined ? { scannedAgoMs: i.scannedHoursAgo * 3_600_000 } : {}),
    ...(i.scanOutcome ? { scanOutcome: i.scanOutcome } : {}),
    ...(i.scanErrorCode ? { scanErrorCode: i.scanErrorCode } : {}),
    ...(i.scanDurationSec ? { scanDurationMs: i.scanDurationSec * 1000 } : {}),
  }));
}

function hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Registry URI the simulator's connectors use for an image registry host. */
export function registryUriOf(registry: string): string {
  return registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${registry}`;
}

export class Catalogue {
  readonly images: SimImage[] = [];
  readonly registries: SimRegistry[] = [];
  readonly kb = new Map<number, KbVulnerability>();

  constructor(private readonly now: () => number) {}

  registerVulnerability(v: KbVulnerability): void {
    this.kb.set(v.qid, v);
  }

  registerRegistry(r: SimRegistry): SimRegistry {
    const existing = this.registries.findIndex((x) => x.registryUri === r.registryUri);
    if (existing >= 0) this.registries.splice(existing, 1);
    this.registries.push(r);
    for (const img of this.images) if (registryUriOf(img.registry) === r.registryUri) img.registryUuid = r.registryUuid;
    return r;
  }

  registryByUri(uri: string): SimRegistry | undefined {
    const want = uri.replace(/\/+$/, '').toLowerCase();
    return this.registries.find((r) => r.registryUri.toLowerCase() === want);
  }

  registerImage(input: RegisterImageInput): SimImage {
    const key = `${input.registry}/${input.repository}:${input.tags.join(',')}`;
    if (!input.tags.length) throw new Error(`registerImage ${key}: at least one tag is required`);
    for (const v of input.vulns ?? []) if (!this.kb.has(v.qid)) throw new Error(`registerImage ${key}: unknown QID ${v.qid}`);
    const now = this.now();
    const image: SimImage = {
      registry: input.registry,
      repository: input.repository,
      tags: [...input.tags],
      digest: input.digest ?? `sha256:${hex(`manifest:${key}`)}`,
      sha: input.sha ?? hex(`config:${key}`),
      size: input.size ?? 20_000_000 + (parseInt(hex(key).slice(0, 6), 16) % 300_000_000),
      created: now - 12 * 86_400_000,
      ...(input.os ? { os: input.os } : {}),
      vulns: input.vulns ?? [],
      scanOutcome: input.scanOutcome ?? 'SUCCESS',
      ...(input.scanErrorCode ? { plannedErrorCode: input.scanErrorCode } : {}),
      ...(input.scanDurationMs ? { scanDurationMs: input.scanDurationMs } : {}),
      firstFound: now - 10 * 86_400_000,
    };
    if (input.scannedAgoMs !== undefined) {
      image.lastScanned = now - input.scannedAgoMs;
      image.scanStatus = image.scanOutcome;
      if (image.scanOutcome === 'FAILED') image.scanErrorCode = image.plannedErrorCode ?? 'SCAN_FAILED';
    }
    const registry = this.registryByUri(registryUriOf(image.registry));
    if (registry) image.registryUuid = registry.registryUuid;
    // A tag points at one image: re-registering a tag moves it.
    for (const other of this.images) {
      if (other.registry === image.registry && other.repository === image.repository) other.tags = other.tags.filter((t) => !image.tags.includes(t));
    }
    this.images.push(image);
    return image;
  }

  findByTag(registry: string, repository: string, tag: string): SimImage | undefined {
    return this.images.find((i) => i.registry === registry && i.repository === repository && i.tags.includes(tag));
  }

  /** Images Qualys has scanned at least once, or is scanning where scans in progress show, and does not hide while it rescans them (the only ones the API shows). */
  visible(): SimImage[] {
    return this.images.filter((i) => (i.lastScanned !== undefined || i.scanStartedAt !== undefined) && !i.hiddenWhileScanning);
  }

  countsOf(image: SimImage): SeverityCounts {
    const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0, informational: 0, total: 0 };
    const key = { 5: 'critical', 4: 'high', 3: 'medium', 2: 'low', 1: 'informational' } as const;
    for (const v of image.vulns) {
      const kb = this.kb.get(v.qid)!;
      counts[key[kb.severity]] += 1;
      counts.total += 1;
    }
    return counts;
  }
}
