import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ScanResultSchema, SCHEMA_VERSION } from '../scan-result';
import { FindingSchema } from '../findings/finding';

/**
 * The JSON Schema of ScanResult v1 for consumers that do not run TypeScript, generated from the zod schema so
 * the two cannot drift (a test regenerates it and compares with the checked-in file).
 *   npm run schema            rewrite the file
 *   npm run schema -- --check exit 1 when the file is stale
 */
export const SCAN_RESULT_SCHEMA_FILE = path.join(__dirname, `scan-result.v${SCHEMA_VERSION}.schema.json`);
export const SCAN_RESULT_SCHEMA_ID = `urn:shipscan:schema:scan-result:v${SCHEMA_VERSION}`;
export const FINDING_SCHEMA_FILE = path.join(__dirname, 'finding.v1.schema.json');
export const FINDING_SCHEMA_ID = 'urn:shipscan:schema:finding:v1';

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
  // The refinements of parseScanResult, as JSON Schema conditionals, so a JSON-Schema-only reader agrees.
  // Each `required` names properties of its own subschema (`true`: described above), as strict readers want.
  const has = (...names: string[]) => ({ type: 'object', properties: Object.fromEntries(names.map((n) => [n, true])), required: names });
  generated.allOf = [
    {
      if: { type: 'object', properties: { status: { const: 'SKIPPED' } }, required: ['status'] },
      then: has('skipped'),
      else: { type: 'object', not: has('skipped') },
    },
    {
      if: { type: 'object', properties: { target: { type: 'object', properties: { kind: { const: 'object' } }, required: ['kind'] } }, required: ['target'] },
      then: { type: 'object', properties: { target: has('object') } },
      else: { type: 'object', properties: { target: { type: 'object', not: has('object') } } },
    },
    {
      if: { type: 'object', properties: { status: { enum: ['COMPLETED', 'PARTIAL'] }, target: has('object') }, required: ['status', 'target'] },
      then: { type: 'object', properties: { target: { type: 'object', properties: { object: has('sha256', 'mime', 'size') } } } },
    },
  ];
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: SCAN_RESULT_SCHEMA_ID,
    title: `shipscan ScanResult v${SCHEMA_VERSION}`,
    description:
      'One scan of one target (AWS Lambda function, container image or stored object), as stored in S3 / Blob storage. ' +
      'Generated from shared/scan-result.ts by `npm run schema`; do not edit by hand.',
    ...rest,
  };
}

export function renderScanResultJsonSchema(): string {
  return `${JSON.stringify(buildScanResultJsonSchema(), null, 2)}\n`;
}

export function buildFindingJsonSchema(): JsonObject {
  const generated: JsonObject = z.toJSONSchema(FindingSchema, { target: 'draft-2020-12', io: 'output' });
  const scope = objectAt(generated, 'properties', 'scope');
  scope.description = 'Exactly one of account (AWS) or subscription (Azure) (checked by parseFinding).';
  const evidence = objectAt(generated, 'properties', 'evidence');
  evidence.description = 'Small, redacted JSON: at most 4096 bytes once serialised (checked by parseFinding).';
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: FINDING_SCHEMA_ID,
    title: 'shipscan Finding v1',
    description:
      'One risk on one resource with its lifecycle (ACTIVE, RESOLVED, SUPPRESSED), as stored in the findings table. ' +
      'Generated from shared/findings/finding.ts by `npm run schema`; do not edit by hand.',
    ...rest,
  };
}

export function renderFindingJsonSchema(): string {
  return `${JSON.stringify(buildFindingJsonSchema(), null, 2)}\n`;
}

const DOCUMENTS: readonly { file: string; render: () => string }[] = [
  { file: SCAN_RESULT_SCHEMA_FILE, render: renderScanResultJsonSchema },
  { file: FINDING_SCHEMA_FILE, render: renderFindingJsonSchema },
];

function main(argv: readonly string[]): number {
  let stale = 0;
  for (const { file, render } of DOCUMENTS) {
    const text = render();
    const relative = path.relative(process.cwd(), file);
    if (argv.includes('--check')) {
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        // a missing file is stale too
      }
      if (current !== text) {
        process.stderr.write(`${relative} is stale: run npm run schema\n`);
        stale += 1;
      }
      continue;
    }
    writeFileSync(file, text);
    process.stdout.write(`wrote ${relative}\n`);
  }
  return stale > 0 ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
