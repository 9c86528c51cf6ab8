/**
 * Bundles the cloud functions with esbuild: one self-contained CommonJS file per function (AWS SDK
 * included, minified, with source maps) for Node 22.
 *   functions/dist/aws/scanner/index.js   handler export `handler`
 *   functions/dist/aws/bulk/index.js      handler export `handler`
 *   functions/dist/aws/artifacts/index.js handler export `handler` (object scanner)
 *   functions/dist/aws/security-events/index.js   handler export `handler`
 *   functions/dist/azure/                 Azure Functions app: dist/index.js, host.json, package.json
 * Run: `npm run build:functions` (or `npx tsx functions/build.ts`).
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = __dirname;
export const DIST = path.join(ROOT, 'dist');

export interface BundleReport {
  name: string;
  outfile: string;
  bytes: number;
  mapBytes: number;
  ms: number;
}

/**
 * zod re-exports every message locale as a namespace (`z.locales`), which defeats tree shaking and
 * adds ~300 KiB of translations to each bundle. The functions only use the default English messages
 * (configured inside zod from `locales/en.js` directly), so the barrel is replaced by English only.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/](classic|core)[\\/]?$/.test(args.resolveDir)) return undefined;
      return { path: path.join(args.resolveDir, '..', 'locales', 'en-only.js'), namespace: 'zod-locales' };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  // SDK v3 ships ES module builds that tree-shake better than its CommonJS ones.
  mainFields: ['module', 'main'],
  legalComments: 'linked',
  plugins: [zodEnglishOnly],
  logLevel: 'warning',
};

async function bundle(name: string, entry: string, outfile: string, extra: BuildOptions = {}): Promise<BundleReport> {
  const started = performance.now();
  await rm(path.dirname(outfile), { recursive: true, force: true });
  await build({ ...common, ...extra, entryPoints: [entry], outfile });
  const ms = performance.now() - started;
  const bytes = (await stat(outfile)).size;
  const mapBytes = (await stat(`${outfile}.map`)).size;
  return { name, outfile: path.relative(process.cwd(), outfile), bytes, mapBytes, ms };
}

export async function buildAwsFunctions(outDir: string = DIST): Promise<BundleReport[]> {
  return [
    await bundle('aws/scanner', path.join(ROOT, 'aws', 'scanner', 'index.ts'), path.join(outDir, 'aws', 'scanner', 'index.js')),
    await bundle('aws/bulk', path.join(ROOT, 'aws', 'bulk', 'index.ts'), path.join(outDir, 'aws', 'bulk', 'index.js')),
    await bundle('aws/artifacts', path.join(ROOT, 'aws', 'artifacts', 'index.ts'), path.join(outDir, 'aws', 'artifacts', 'index.js')),
    await bundle('aws/security-events', path.join(ROOT, 'aws', 'security-events', 'index.ts'), path.join(outDir, 'aws', 'security-events', 'index.js')),
  ];
}

/** The Azure Functions app, when its entry exists (functions/azure is built by its own runtime work). */
export async function buildAzureApp(): Promise<BundleReport | undefined> {
  const entry = path.join(ROOT, 'azure', 'index.ts');
  if (!existsSync(entry)) return undefined;
  const appDir = path.join(DIST, 'azure');
  await rm(appDir, { recursive: true, force: true });
  const report = await bundle('azure', entry, path.join(appDir, 'dist', 'index.js'), {
    // Provided by the Functions host's Node worker at run time; never bundled.
    external: ['@azure/functions-core'],
    // The storage SDKs' ES module builds read import.meta.url (empty in CommonJS): give it this file's URL.
    define: { 'import.meta.url': '__shipscanImportMetaUrl' },
    banner: { js: 'var __shipscanImportMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
  });
  await mkdir(appDir, { recursive: true });
  const hostJson = path.join(ROOT, 'azure', 'host.json');
  if (existsSync(hostJson)) await copyFile(hostJson, path.join(appDir, 'host.json'));
  await writeFile(
    path.join(appDir, 'package.json'),
    `${JSON.stringify({ name: 'shipscan-azure-functions', version: '0.1.0', private: true, main: 'dist/index.js' }, null, 2)}\n`,
  );
  return report;
}

export async function buildFunctions(): Promise<BundleReport[]> {
  const reports = await buildAwsFunctions();
  const azure = await buildAzureApp();
  if (azure) reports.push(azure);
  else console.log('functions/azure/index.ts not found: Azure Functions app not bundled');
  return reports;
}

if (require.main === module) {
  buildFunctions()
    .then((reports) => {
      for (const r of reports) {
        console.log(`${r.name.padEnd(12)} ${r.outfile.padEnd(40)} ${(r.bytes / 1024).toFixed(1).padStart(8)} KiB  map ${(r.mapBytes / 1024).toFixed(1).padStart(8)} KiB  ${r.ms.toFixed(0)} ms`);
      }
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    });
}
