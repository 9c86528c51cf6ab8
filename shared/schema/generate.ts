import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ScanResultSchema, SCHEMA_VERSION } from '../scan-result';

/**
 * The JSON Schema of ScanResult v1 for consumers that do not run TypeScript, generated from the zod schema so
 * the two cannot drift (a test regenerates it and compares with the checked-in file).
 *   npm run schema            rewrite the file
 *   npm run schema -- --check exit 1 when the file is stale
 */
export const SCAN_RESULT_SCHEMA_FILE = path.join(__dirname, `scan-result.v${SCHEMA_VERSION}.schema.json`);
export const SCAN_RESULT_SCHEMA_ID = `urn:shipscan:schema:scan-result:v${SCHEMA_VERSION}`;

type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(root: JsonObject, ...keys: string[]): JsonObject {
  let here: unknown = root;
  for (const key of keys) here = isObject(here) ? here[key] : undefined;
  if (!isObject(here)) throw new Error(`generated schema has no object at ${keys.join('.')}`);
  return here;
}

export function buildScanResultJsonSchema(): JsonObject {
  const generated: JsonObject = z.toJSONSchema(ScanResultSchema, { target: 'draft-2020-12', io: 'output' });
  // JSON Schema cannot express the one cross-field rule; say it where a reader looks for it.
  const total = objectAt(generated, 'properties', 'counts', 'properties', 'total');
  total.description = 'Must equal critical + high + medium + low + informational (checked by parseScanResult).';
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: SCAN_RESULT_SCHEMA_ID,
    title: `shipscan ScanResult v${SCHEMA_VERSION}`,
    description:
      'One scan of one workload target (AWS Lambda function or container image), as stored in S3 / Blob storage. ' +
      'Generated from shared/scan-result.ts by `npm run schema`; do not edit by hand.',
    ...rest,
  };
}

export function renderScanResultJsonSchema(): string {
  return `${JSON.stringify(buildScanResultJsonSchema(), null, 2)}\n`;
}

function main(argv: readonly string[]): number {
  const text = renderScanResultJsonSchema();
  const relative = path.relative(process.cwd(), SCAN_RESULT_SCHEMA_FILE);
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(SCAN_RESULT_SCHEMA_FILE, 'utf8');
    } catch {
      // a missing file is stale too
    }
    if (current === text) return 0;
    process.stderr.write(`${relative} is stale: run npm run schema\n`);
    return 1;
  }
  writeFileSync(SCAN_RESULT_SCHEMA_FILE, text);
  process.stdout.write(`wrote ${relative}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
