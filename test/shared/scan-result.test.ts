import { expect } from 'chai';
import fc from 'fast-check';
import { ScanResultError, parseScanResult } from '../../shared/scan-result';
import { VALID_RESULTS, awsZipResult, azureImageResult, failedResult } from './fixtures/scan-results';

function errorOf(json: unknown): ScanResultError {
  try {
    parseScanResult(json);
  } catch (error) {
    expect(error).to.be.instanceOf(ScanResultError);
    return error as ScanResultError;
  }
  throw new Error('expected the document to be rejected');
}

function issuesOf(json: unknown): { path: string; message: string }[] {
  return [...errorOf(json).issues];
}

describe('parseScanResult', () => {
  for (const [name, make] of Object.entries(VALID_RESULTS)) {
    it(`accepts a valid ${name} unchanged`, () => {
      const document = make();
      expect(parseScanResult(document)).to.deep.equal(document);
      expect(parseScanResult(JSON.parse(JSON.stringify(document)))).to.deep.equal(document);
    });
  }

  it('lists every bad path in one error', () => {
    // any: the test breaks typed fields on purpose.
    const document = azureImageResult() as Record<string, any>;
    document.status = 'DONE';
    document.target.image.digest = 'sha256:XYZ';
    document.vulnerabilities[0].severity = 'SEVERE';
    document.startedAt = 'yesterday';
    delete document.engine.name;
    document.counts.low = -1;
    const paths = issuesOf(document).map((issue) => issue.path);
    expect(paths).to.include.members([
      'status',
      'target.image.digest',
      'vulnerabilities.0.severity',
      'startedAt',
      'engine.name',
      'counts.low',
    ]);
    const message = errorOf(document).message;
    expect(message).to.match(/^invalid ScanResult v1:/);
    expect(message).to.include('  - target.image.digest: digest must be sha256:<64 lowercase hex>');
    expect(message).to.include('  - status: ');
  });

  it('requires counts.total to be the sum of the levels', () => {
    const document = awsZipResult();
    document.counts.total = 3;
    expect(issuesOf(document)).to.deep.equal([
      { path: 'counts.total', message: 'total must equal critical + high + medium + low + informational' },
    ]);
    document.counts.total = 2;
    expect(parseScanResult(document).counts.total).to.equal(2);
  });

  it('rejects unknown keys at every level', () => {
    const root = { ...failedResult(), extra: true };
    expect(issuesOf(root)).to.deep.include({ path: '', message: 'Unrecognized key: "extra"' });
    // any: the test adds keys the type does not allow.
    const nested = azureImageResult() as Record<string, any>;
    nested.target.image.platform = 'linux/amd64';
    nested.vulnerabilities[0].epss = 0.2;
    const paths = issuesOf(nested).map((issue) => issue.path);
    expect(paths).to.include.members(['target.image', 'vulnerabilities.0']);
    // Unknown engine fields belong under raw.
    const withRaw = { ...failedResult(), raw: { anything: { nested: [1, 2] } } };
    expect(parseScanResult(withRaw).raw).to.deep.equal({ anything: { nested: [1, 2] } });
  });

  it('rejects another schema version and non-objects', () => {
    expect(issuesOf({ ...failedResult(), schemaVersion: 2 }).map((i) => i.path)).to.deep.equal(['schemaVersion']);
    for (const bad of [null, undefined, 'text', 42, []]) {
      expect(issuesOf(bad).map((i) => i.path)).to.deep.equal(['']);
    }
    expect(String(new ScanResultError([{ path: '', message: 'x' }]).message)).to.include('(root): x');
  });

  it('names the missing field whichever required field is removed', () => {
    const required = ['schemaVersion', 'scanId', 'status', 'target', 'engine', 'startedAt', 'completedAt', 'counts', 'vulnerabilities'];
    fc.assert(
      fc.property(fc.constantFrom(...required), fc.constantFrom(awsZipResult, azureImageResult, failedResult), (key, make) => {
        const document: Record<string, unknown> = make();
        delete document[key];
        expect(issuesOf(document).map((issue) => issue.path)).to.deep.equal([key]);
      }),
    );
  });

  it('throws nothing but ScanResultError for arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ schemaVersion: fc.constant(1), counts: fc.jsonValue() }, { requiredKeys: [] })), (json) => {
        try {
          parseScanResult(json);
        } catch (error) {
          expect(error).to.be.instanceOf(ScanResultError);
          expect((error as ScanResultError).issues).to.not.be.empty;
        }
      }),
      { numRuns: 500 },
    );
  });
});
