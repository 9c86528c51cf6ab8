import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const MAKE_CLIENT = "const { S3Client } = require('@aws-sdk/client-s3'); new S3Client({ region: 'us-east-1' });";

describe('npm test output carries no expected noise', () => {
  it('the AWS SDK Node-version notice is silenced in the tests and in the processes they start', () => {
    expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).to.equal('true');
    const child = spawnSync(process.execPath, ['-e', MAKE_CLIENT], { cwd: ROOT, encoding: 'utf8', env: process.env });
    expect(child.stderr).to.not.include('NodeVersionSupportWarning');
    // Without the setting this Node would print it: the silencing is what keeps it out.
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _silenced, ...env } = process.env;
    const loud = spawnSync(process.execPath, ['-e', MAKE_CLIENT], { cwd: ROOT, encoding: 'utf8', env });
    if (Number(process.versions.node.split('.')[0]) < 22) expect(loud.stderr).to.include('NodeVersionSupportWarning');
  });
});
