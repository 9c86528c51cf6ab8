import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runPlan, type PlannedResource } from '../../../local/plan';
import { QUERIES_DIR } from '../../../azure/queries';

/** One KQL text the project ships, and where it ships. */
export interface ShippedKql {
  place: string;
  text: string;
}

/** `queries/*.kql` as on disk, header comments included. */
export function queryFiles(dir: string = QUERIES_DIR): ShippedKql[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.kql'))
    .sort()
    .map((f) => ({ place: `queries/${f}`, text: readFileSync(path.join(dir, f), 'utf8') }));
}

/**
 * Every KQL text inside `resources`' inputs: each string under a `query` key, also inside JSON held
 * in a string (the workbook's serializedData). Found by shape rather than by resource type, so KQL
 * that a new resource embeds is analyzed without anyone listing it here.
 */
export function embeddedKql(resources: readonly PlannedResource[]): ShippedKql[] {
  const found: ShippedKql[] = [];
  const walk = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      const trimmed = value.trim();
      if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch {
        return;
      }
      walk(parsed, `${where}(json)`);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${where}[${i}]`));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      const here = `${where}.${key}`;
      if (key === 'query' && typeof child === 'string') found.push({ place: here, text: child });
      else walk(child, here);
    }
  };
  for (const r of resources) walk(r.inputs, `${r.type.replace(/^azure-native:/, '')} ${r.name}`);
  return found;
}

/** A directory shaped like `npm run build:functions` output, so the plan does not need a build. */
function placeholderBundle(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'shipscan-kql-bundle-'));
  mkdirSync(path.join(root, 'azure', 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'azure', 'host.json'), JSON.stringify({ version: '2.0' }));
  writeFileSync(path.join(root, 'azure', 'package.json'), JSON.stringify({ name: 'shipscan-functions', main: 'dist/index.js' }));
  writeFileSync(path.join(root, 'azure', 'dist', 'index.js'), 'module.exports = {};\n');
  return root;
}

/**
 * The KQL the Azure stack deploys (saved searches, workbook steps, log alert rules), read from the
 * offline plan of `index.ts` with every Azure option that adds KQL turned on.
 */
export async function deployedKql(): Promise<ShippedKql[]> {
  const bundle = placeholderBundle();
  try {
    const resources = await runPlan({
      stack: 'kql',
      env: { SHIPSCAN_BUNDLE_DIR: bundle },
      config: {
        'shipscan:azure': { enabled: true, location: 'westeurope', alertEmail: 'secops@example.test' },
        'shipscan:qualys': { pod: 'US2', accessToken: { secret: 'qualys-token-under-test' } },
      },
    });
    return embeddedKql(resources);
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
}
