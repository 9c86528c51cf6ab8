import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PlanConfigError, PlanError, runPlanDetailed } from '../../local/plan';
import { readStackFile } from '../../local/plan/config';
import { placeholderBundles } from './support/aws-plans';

describe('configuration errors as pulumi preview shows them', function () {
  this.timeout(180_000);

  it('a misspelt top-level key stops the program (not a plan without the AWS half), naming the key and the nearest valid one', async () => {
    const error = await runPlanDetailed({
      config: {
        'aws:region': 'us-east-1',
        'shipscan:awss': { enabled: true, qscannerLayerArn: 'arn:aws:lambda:us-east-1:123456789012:layer:qscanner:1' },
        'shipscan:qualys': { pod: 'US2', accessToken: { secret: 'token-under-test' } },
      },
      env: { SHIPSCAN_BUNDLE_DIR: placeholderBundles() },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(PlanError);
    const planError = error as PlanError;
    // A RunError: the Pulumi language host prints its message alone, without the program's stack trace.
    expect(planError.userError).to.equal(true);
    expect(planError.message).to.equal('stack "test": invalid shipscan configuration:\n  - shipscan:awss = "[hidden]": unknown key; did you mean shipscan:aws? allowed: aws, azure, qualys, findings');
    expect(planError.detail).to.match(/\n\s+at /);
  });

  it('a stack file that is not YAML names the file and the line, without the parser\'s code frame', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'shipscan-yaml-')), 'Pulumi.broken.yaml');
    writeFileSync(file, 'config:\n  shipscan:aws:\n    enabled: true\n   mode: hub\n');
    expect(() => readStackFile(file)).to.throw(PlanConfigError, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid YAML: All mapping items must start at the same column at line 4, column 1:?$`));
  });
});
