import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PlanError, runPlan } from '../../local/plan';
import { ConfigError, validateConfig } from '../../shared/config';
import { BUNDLE_DIR_ENV, BundleMissingError, locateAzureBundle } from '../../azure/bundle';
import { SystemTopicIdError, existingTopicPrincipal, parseSystemTopicId } from '../../azure/system-topic';

const QUALYS = { pod: 'US2', accessToken: 'token-config-test' };

function bundleDir(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'shipscan-azure-bundle-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, 'azure', file)), { recursive: true });
    writeFileSync(path.join(root, 'azure', file), text);
  }
  return root;
}
const COMPLETE = { 'host.json': '{"version":"2.0"}', 'package.json': '{"name":"f"}', 'dist/index.js': 'module.exports = {};' };

function configError(azure: Record<string, unknown>, qualys: { value: unknown } = { value: QUALYS }): string {
  try {
    validateConfig({ azure: { enabled: true, ...azure }, qualys: qualys.value });
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('Azure configuration and package checks', function () {
  this.timeout(120_000);
  const roots: string[] = [];
  after(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

  describe('invalid config names the key, the value and what is allowed', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a display-name region', { location: 'West Europe' }, /shipscan:azure\.location = "West Europe": an Azure region name such as westeurope/],
      ['a cache window above 30 days', { cacheHours: 1000 }, /shipscan:azure\.cacheHours = 1000: .*720/],
      ['a fractional poll interval', { pollMinSec: 2.5 }, /shipscan:azure\.pollMinSec = 2\.5: .*expected int/],
      ['a custom topic instead of a system topic', { existingSystemTopicId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.EventGrid/topics/t' }, /shipscan:azure\.existingSystemTopicId = ".*\/topics\/t": a system topic resource id/],
      ['a registry name instead of its id', { acrResourceIds: ['myregistry'] }, /shipscan:azure\.acrResourceIds\.0 = "myregistry": a container registry resource id/],
      ['an unknown severity', { severityThreshold: 'SEVERE' }, /shipscan:azure\.severityThreshold = "SEVERE": .*CRITICAL.*HIGH/],
      ['a too-short log retention', { logRetentionDays: 7 }, /shipscan:azure\.logRetentionDays = 7: .*30/],
      ['an unknown key', { functionMemory: 4096 }, /shipscan:azure.*functionMemory/],
      ['a resource group name with a slash', { resourceGroupName: 'a/b' }, /shipscan:azure\.resourceGroupName = "a\/b": an existing resource group name/],
      ['security events switched with a string', { securityEvents: { enabled: 'yes' } }, /shipscan:azure\.securityEvents\.enabled = "yes": .*boolean/],
      ['a misspelt security events key', { securityEvents: { enable: false } }, /shipscan:azure\.securityEvents\.enable = false: unknown key; did you mean shipscan:azure\.securityEvents\.enabled\?/],
    ];
    for (const [what, azure, expected] of cases) {
      it(what, () => expect(configError(azure)).to.match(expected));
    }

    it('a plain-HTTP webhook is rejected without echoing the secret', () => {
      const message = configError({ alertWebhookUrl: 'http://hooks.example.test/very-secret-path' });
      expect(message).to.match(/shipscan:azure\.alertWebhookUrl = "\[secret\]"/);
      expect(message).to.not.include('very-secret-path');
    });

    it('security events are on by default, and can be turned off', () => {
      expect(validateConfig({ azure: { enabled: true }, qualys: QUALYS }).azure.securityEvents).to.deep.equal({ enabled: true });
      expect(validateConfig({ azure: { enabled: true, securityEvents: { enabled: false } }, qualys: QUALYS }).azure.securityEvents).to.deep.equal({ enabled: false });
    });

    it('finding emails on Azure need an SMTP relay (the SES API serves AWS only)', () => {
      const email = { from: 'shipscan@example.test', to: ['secops@example.test'] };
      let message = '';
      try {
        validateConfig({ azure: { enabled: true }, qualys: QUALYS, findings: { email } });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).to.match(/shipscan:findings\.email\.smtp = \(unset\): on Azure email goes through an SMTP relay/);
      expect(() => validateConfig({ azure: { enabled: true }, qualys: QUALYS, findings: { email: { ...email, smtp: { host: 'smtp.example.test' } } } })).to.not.throw();
      // AWS alone sends through the SES API.
      expect(() => validateConfig({ aws: { enabled: true, qscannerLayerArn: 'arn:aws:lambda:us-east-1:123456789012:layer:qscanner:1' }, qualys: QUALYS, findings: { email } })).to.not.throw();
    });

    it('the Azure scanner needs Qualys settings and credentials', () => {
      expect(configError({}, { value: undefined })).to.match(/shipscan:qualys = \(unset\): set qualys\.pod \(or gateway\) and credentials/);
      expect(configError({}, { value: { pod: 'US2' } })).to.match(/shipscan:qualys\.accessToken = ("\[secret\]"|\(unset\)): set accessToken, or username and password/);
    });

    it('pulumi preview (the offline plan) fails with the same message before declaring anything', async () => {
      const root = bundleDir(COMPLETE);
      roots.push(root);
      const error = await runPlan({
        env: { [BUNDLE_DIR_ENV]: root },
        config: { 'shipscan:azure': { enabled: true, location: 'West Europe' }, 'shipscan:qualys': { pod: 'US2', accessToken: { secret: 'token-plan-config' } } },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(PlanError);
      expect((error as Error).message).to.match(/shipscan:azure\.location = "West Europe": an Azure region name such as westeurope/);
      expect((error as Error).message).to.not.include('token-plan-config');
    });
  });

  it('an existing system topic in another subscription fails the plan with both subscriptions named', async () => {
    const root = bundleDir(COMPLETE);
    roots.push(root);
    const foreign = '/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/ev/providers/Microsoft.EventGrid/systemTopics/arm';
    const error = await runPlan({
      env: { [BUNDLE_DIR_ENV]: root },
      config: { 'shipscan:azure': { enabled: true, existingSystemTopicId: foreign }, 'shipscan:qualys': { pod: 'US2', accessToken: { secret: 'token-foreign-topic' } } },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(PlanError);
    expect((error as Error).message).to.match(
      /shipscan:azure\.existingSystemTopicId = ".*99999999.*": the topic is in subscription 99999999-9999-9999-9999-999999999999, but this stack deploys to subscription 00000000-0000-0000-0000-000000000000/,
    );
  });

  describe('function package', () => {
    it('a missing build fails the plan with "run npm run build:functions first"', async () => {
      const empty = mkdtempSync(path.join(tmpdir(), 'shipscan-no-bundle-'));
      roots.push(empty);
      const error = await runPlan({
        env: { [BUNDLE_DIR_ENV]: empty },
        config: { 'shipscan:azure': { enabled: true }, 'shipscan:qualys': { pod: 'US2', accessToken: { secret: 'token-no-bundle' } } },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(PlanError);
      expect((error as Error).message).to.match(/Azure Functions package is missing in .*shipscan-no-bundle-.*azure .*run npm run build:functions first/);
    });

    it('names each missing file', () => {
      const root = bundleDir({ 'host.json': '{}' });
      roots.push(root);
      expect(() => locateAzureBundle({ [BUNDLE_DIR_ENV]: root }))
        .to.throw(BundleMissingError)
        .with.property('missing')
        .that.deep.equals(['package.json', path.join('dist', 'index.js')]);
    });

    it('fingerprints the package: stable for the same files, different when one changes', () => {
      const a = bundleDir(COMPLETE);
      const b = bundleDir(COMPLETE);
      const c = bundleDir({ ...COMPLETE, 'dist/index.js': 'module.exports = { changed: true };' });
      roots.push(a, b, c);
      const hash = (root: string) => locateAzureBundle({ [BUNDLE_DIR_ENV]: root }).sha256;
      expect(hash(a)).to.equal(hash(b));
      expect(hash(a)).to.not.equal(hash(c));
      expect(locateAzureBundle({ [BUNDLE_DIR_ENV]: a }).directory).to.equal(path.join(a, 'azure'));
      const withMap = bundleDir({ ...COMPLETE, 'dist/index.js.map': '{"mappings":""}' });
      roots.push(withMap);
      expect(hash(withMap), 'source maps are not part of the package').to.equal(hash(a));
      expect(locateAzureBundle({ [BUNDLE_DIR_ENV]: withMap }).files).to.deep.equal(['dist/index.js', 'host.json', 'package.json']);
    });
  });

  describe('existing system topic id', () => {
    it('splits a valid id', () => {
      expect(parseSystemTopicId('/subscriptions/s-1/resourceGroups/rg-ev/providers/Microsoft.EventGrid/systemTopics/arm')).to.deep.equal({
        subscriptionId: 's-1',
        resourceGroupName: 'rg-ev',
        name: 'arm',
      });
    });
    it('reuse needs an ARM subscription topic with a system-assigned identity', () => {
      const id = '/subscriptions/s/resourceGroups/g/providers/Microsoft.EventGrid/systemTopics/t';
      expect(existingTopicPrincipal(id, { topicType: 'Microsoft.Resources.Subscriptions', identity: { type: 'SystemAssigned, UserAssigned', principalId: 'p-1' } })).to.equal('p-1');
      expect(() => existingTopicPrincipal(id, { topicType: 'Microsoft.Resources.Subscriptions', identity: { type: 'None' } })).to.throw(
        SystemTopicIdError,
        /no system-assigned managed identity.*az eventgrid system-topic update --identity systemassigned/,
      );
      expect(() => existingTopicPrincipal(id, { topicType: 'Microsoft.Storage.StorageAccounts', identity: { type: 'SystemAssigned', principalId: 'p' } })).to.throw(
        SystemTopicIdError,
        /topic type is Microsoft\.Storage\.StorageAccounts, expected Microsoft\.Resources\.Subscriptions/,
      );
    });

    it('rejects anything else with the key and the expected shape', () => {
      expect(() => parseSystemTopicId('/subscriptions/s/resourceGroups/g/providers/Microsoft.EventGrid/topics/t')).to.throw(
        SystemTopicIdError,
        /shipscan:azure\.existingSystemTopicId = ".*": expected \/subscriptions\/<id>\/resourceGroups\/<group>\/providers\/Microsoft\.EventGrid\/systemTopics\/<name>/,
      );
    });
  });
});
