import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { SCAN_RESULT_SCHEMA_FILE, SCAN_RESULT_SCHEMA_ID, renderScanResultJsonSchema } from '../../shared/schema/generate';
import { ScanResultError, parseScanResult } from '../../shared/scan-result';
import { VALID_RESULTS, awsZipResult, azureImageResult, failedResult, objectResult, skippedObjectResult } from './fixtures/scan-results';

const checkedIn = readFileSync(SCAN_RESULT_SCHEMA_FILE, 'utf8');

function jsonSchemaValidator() {
  // A JSON-Schema-only consumer's view: strict, every keyword understood; unions of types are plain JSON Schema.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(checkedIn) as object);
}

function zodAccepts(json: unknown): boolean {
  try {
    parseScanResult(json);
    return true;
  } catch (error) {
    if (error instanceof ScanResultError) return false;
    throw error;
  }
}

describe('ScanResult v1 JSON Schema (shared/schema)', () => {
  it('the checked-in file matches the zod schema (run `npm run schema` when this fails)', () => {
    expect(checkedIn, 'shared/schema/scan-result.v1.schema.json is stale').to.equal(renderScanResultJsonSchema());
  });

  it('is a valid draft 2020-12 schema with an id', () => {
    const schema = JSON.parse(checkedIn) as Record<string, unknown>;
    expect(schema.$schema).to.equal('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).to.equal(SCAN_RESULT_SCHEMA_ID);
    expect(() => jsonSchemaValidator()).to.not.throw();
  });

  let validate: ReturnType<typeof jsonSchemaValidator>;
  before(() => {
    validate = jsonSchemaValidator();
  });

  for (const [name, make] of Object.entries(VALID_RESULTS)) {
    it(`accepts the valid ${name}`, () => {
      expect(validate(make()), JSON.stringify(validate.errors)).to.equal(true);
    });
  }

  it('rejects what parseScanResult rejects: unknown keys, bad enums, missing fields, bad digests and times', () => {
    const broken: unknown[] = [
      { ...failedResult(), extra: 1 },
      { ...failedResult(), status: 'DONE' },
      { ...failedResult(), schemaVersion: 2 },
      { ...failedResult(), startedAt: 'yesterday' },
      (({ counts: _counts, ...rest }) => rest)(failedResult()),
      { ...azureImageResult(), target: { ...azureImageResult().target, image: { ...azureImageResult().target.image, digest: 'sha256:abc' } } },
      { ...awsZipResult(), vulnerabilities: [{ ...awsZipResult().vulnerabilities[0], cvss3: 11 }] },
      // Objects: SKIPPED needs its reason and only SKIPPED has one; kind object and target.object go together;
      // a scanned object names its hash.
      (({ skipped: _skipped, ...rest }) => rest)(skippedObjectResult()),
      { ...awsZipResult(), skipped: { code: 'X', reason: 'y' } },
      { ...objectResult(), target: { ...objectResult().target, kind: 'lambda-zip' } },
      { ...awsZipResult(), target: { ...awsZipResult().target, object: objectResult().target.object } },
      { ...objectResult(), target: { ...objectResult().target, object: { ...objectResult().target.object, sha256: undefined } } },
      { ...objectResult(), target: { ...objectResult().target, object: { ...objectResult().target.object, sha256: 'A'.repeat(64) } } },
    ];
    for (const document of broken) {
      expect(zodAccepts(document), JSON.stringify(document).slice(0, 80)).to.equal(false);
      expect(validate(document), JSON.stringify(document).slice(0, 80)).to.equal(false);
    }
  });

  it('agrees with parseScanResult on mutated documents (except the counts total, which JSON Schema cannot express)', () => {
    const paths = [
      ['status'],
      ['scanId'],
      ['target', 'kind'],
      ['target', 'image', 'tag'],
      ['engine', 'version'],
      ['counts', 'high'],
      ['vulnerabilities', 0, 'severity'],
      ['vulnerabilities', 0, 'cves'],
      ['completedAt'],
      ['secrets'],
      ['policy', 'verdict'],
      ['raw'],
      ['skipped'],
      ['target', 'object'],
      ['target', 'object', 'sha256'],
    ] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(awsZipResult, azureImageResult, objectResult, skippedObjectResult),
        fc.constantFrom(...paths),
        fc.oneof(fc.jsonValue(), fc.constantFrom('COMPLETED', 'SKIPPED', 'object', 'CRITICAL', 'ALLOW', '2026-01-01T00:00:00Z', 0, 3, -1, '', { code: 'X', reason: 'y' })),
        (make, path, value) => {
          const document = make() as Record<string, unknown>;
          let here = document as Record<string | number, unknown>;
          for (const step of path.slice(0, -1)) {
            const next = here[step];
            fc.pre(typeof next === 'object' && next !== null);
            here = next as Record<string | number, unknown>;
          }
          here[path[path.length - 1]!] = value;
          const counts = document.counts as Record<string, number> | undefined;
          if (counts && path[0] === 'counts') {
            const sum = ['critical', 'high', 'medium', 'low', 'informational'].reduce((total, key) => total + Number(counts[key]), 0);
            fc.pre(sum === counts.total);
          }
          expect(validate(document), JSON.stringify(value)).to.equal(zodAccepts(document));
        },
      ),
      { numRuns: 400 },
    );
  });
});
