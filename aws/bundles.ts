import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';

/**
 * The Lambda code bundles built by `npm run build:functions` (esbuild) into
 * `functions/dist/aws/<name>/index.js` (+ `index.js.map`), handler `index.handler`.
 * `SHIPSCAN_BUNDLE_DIR` replaces `functions/dist` (tests and plans point it at placeholder bundles).
 */
export type AwsBundleName = 'scanner' | 'bulk' | 'artifacts' | 'security-events';
export const BUNDLE_DIR_ENV = 'SHIPSCAN_BUNDLE_DIR';
export const BUNDLE_HANDLER = 'index.handler';

export class BundleMissingError extends Error {
  override readonly name = 'BundleMissingError';
}

export function bundleRoot(): string {
  const override = process.env[BUNDLE_DIR_ENV];
  return override ? path.resolve(override) : path.resolve(__dirname, '..', 'functions', 'dist');
}

export function bundleDir(name: AwsBundleName): string {
  return path.join(bundleRoot(), 'aws', name);
}

/** The bundle as a FileArchive; throws before any resource is declared when it was never built. */
export function functionCode(name: AwsBundleName): pulumi.asset.FileArchive {
  const dir = bundleDir(name);
  const entry = path.join(dir, 'index.js');
  if (!existsSync(entry)) {
    throw new BundleMissingError(
      `the ${name} Lambda bundle ${entry} does not exist: run npm run build:functions first` +
        (process.env[BUNDLE_DIR_ENV] ? ` (or fix ${BUNDLE_DIR_ENV}=${process.env[BUNDLE_DIR_ENV]})` : ''),
    );
  }
  return new pulumi.asset.FileArchive(dir);
}

/** Checks every bundle up front so one message lists all that are missing. */
export function assertBundles(names: readonly AwsBundleName[]): void {
  const missing = names.filter((name) => !existsSync(path.join(bundleDir(name), 'index.js')));
  if (missing.length > 0) {
    throw new BundleMissingError(
      `missing Lambda bundle(s) ${missing.map((name) => path.join(bundleDir(name), 'index.js')).join(', ')}: run npm run build:functions first` +
        (process.env[BUNDLE_DIR_ENV] ? ` (${BUNDLE_DIR_ENV}=${process.env[BUNDLE_DIR_ENV]})` : ''),
    );
  }
}
