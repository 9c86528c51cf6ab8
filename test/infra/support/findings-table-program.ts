/**
 * A small Pulumi program for the findings table's infra test: the table as aws/findings-table.ts declares
 * it, under a component with the stack key, once with the defaults and once with deletion protection off.
 * (The scanner component wires the table in later; the table's own invariants are checked here.)
 */
import * as pulumi from '@pulumi/pulumi';
import { awsContext } from '../../../aws/context';
import { findingsTable } from '../../../aws/findings-table';
import { createKey } from '../../../aws/kms';

class FindingsHost extends pulumi.ComponentResource {
  constructor(name: string) {
    super('shipscan:test:FindingsHost', name, {});
    const ctx = awsContext(this);
    const key = createKey(`${name}-key`, ctx, {}, this);
    findingsTable(`${name}-findings`, ctx, key, this);
    findingsTable(`${name}-findings-unprotected`, ctx, key, this, { deletionProtection: false });
    this.registerOutputs({});
  }
}

new FindingsHost('shipscan');
