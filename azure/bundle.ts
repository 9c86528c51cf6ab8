import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { packageTreeSha256 } from './package-archive';

/** Overrides the directory holding the built function bundles (`<dir>/azure`, `<dir>/aws`); used by tests and CI. */
export const BUNDLE_DIR_ENV = 'SHIPSCAN_BUNDLE_DIR';
const DEFAULT_BUNDLE_ROOT = path.resolve(__dirname, '..', 'functions', 'dist');

/** Files Flex Consumption needs at the root of the package. */
export const REQUIRED_BUNDLE_FILES = ['host.json', 'package.json', path.join('dist', 'index.js')] as const;

export class BundleMissingError extends Error {
  override readonly name = 'BundleMissingError';
  constructor(
    readonly directory: string,
    readonly missing: readonly string[],
  ) {
    super(
      `the Azure Functions package is missing in ${directory} (${missing.join(', ')} not found): ` +
        `run npm run build:functions first (or point ${BUNDLE_DIR_ENV} at a directory holding azure/)`,
    );
  }
}

export interface AzureBundle {
  /** Directory the package is built from. */
  directory: string;
  /** Package files relative to `directory` ('/'-separated), source maps left out: they only bloat cold starts. */
  files: string[];
  /** SHA-256 over every file path and content: changes whenever the package does. */
  sha256: string;
}

function listFiles(root: string, relative = ''): string[] {
  const here = path.join(root, relative);
  const out: string[] = [];
  for (const entry of readdirSync(here).sort()) {
    const rel = path.join(relative, entry);
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out;
}

/** Locates the built Azure Functions app and fingerprints it; throws BundleMissingError when it is not built. */
export function locateAzureBundle(env: NodeJS.ProcessEnv = process.env): AzureBundle {
  const root = env[BUNDLE_DIR_ENV] ? path.resolve(env[BUNDLE_DIR_ENV]) : DEFAULT_BUNDLE_ROOT;
  const directory = path.join(root, 'azure');
  const missing = REQUIRED_BUNDLE_FILES.filter((file) => !existsSync(path.join(directory, file)));
  if (missing.length > 0) throw new BundleMissingError(directory, missing);
  const files = listFiles(directory)
    .map((file) => file.split(path.sep).join('/'))
    .filter((file) => !file.endsWith('.map'));
  return { directory, files, sha256: packageTreeSha256(directory, files) };
}
