import { expect } from 'chai';
import { loadInventoryEnv } from '../../functions/aws/inventory/from-env';
import { EnvError } from '../../functions/aws/env';

/** The inventory Lambdas' environment as aws/inventory.ts sets it: validated at init, each problem named. */

const BASE = { RESOURCES_TABLE: 'resources', FINDINGS_TABLE: 'findings', RESULTS_BUCKET: 'results-bucket', REGIONS: '["eu-west-1","us-east-1"]' };

function problems(env: Record<string, string>): string[] {
  try {
    loadInventoryEnv(env);
  } catch (error) {
    expect(error).to.be.instanceOf(EnvError);
    // One variable may carry several problems (each missing field of a spoke role): named once here.
    return [...new Set((error as EnvError).problems.map((p) => p.variable))];
  }
  return [];
}

describe('inventory function environment', () => {
  it('reads what the infrastructure sets, with the defaults for the rest', () => {
    const env = loadInventoryEnv({
      ...BASE,
      SPOKE_ROLES: JSON.stringify([{ accountId: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/shipscan-inventory', externalId: 'ext-id-1' }]),
      SUPPRESSIONS: JSON.stringify([{ ruleId: 'aws.s3.bucket-versioning-off', resource: 'arn:aws:s3:::scratch-*', reason: 'scratch buckets', expiresAt: '2030-01-01T00:00:00Z' }]),
      DISABLED_RULES: '["aws.kms.key-rotation-off"]',
      NOTIFY_ON_RESOLVE: 'true',
    });
    expect(env.REGIONS).to.deep.equal(['eu-west-1', 'us-east-1']);
    expect(env.SERVICES).to.have.length(8);
    expect(env.SPOKE_ROLES[0]?.accountId).to.equal('222222222222');
    expect(env.SUPPRESSIONS).to.have.length(1);
    expect(env.DISABLED_RULES).to.deep.equal(['aws.kms.key-rotation-off']);
    expect(env.NOTIFY_ON_RESOLVE).to.equal(true);
    expect(env.MAX_RECEIVES).to.equal(3);
  });

  it('names every variable that is wrong', () => {
    expect(problems({ ...BASE, REGIONS: '["mars-1"]' })).to.deep.equal(['REGIONS']);
    expect(problems({ ...BASE, SERVICES: '["s3","dynamodb"]' })).to.deep.equal(['SERVICES']);
    expect(problems({ ...BASE, SPOKE_ROLES: '[{"accountId":"12"}]' })).to.deep.equal(['SPOKE_ROLES']);
    expect(problems({ ...BASE, SUPPRESSIONS: 'not json' })).to.deep.equal(['SUPPRESSIONS']);
    const { RESOURCES_TABLE: _table, ...missing } = BASE;
    expect(problems(missing)).to.deep.equal(['RESOURCES_TABLE']);
  });
});
