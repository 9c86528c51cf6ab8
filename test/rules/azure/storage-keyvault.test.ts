import { expect } from 'chai';
import { keyVaultPublicNetworkAccess } from '../../../shared/rules/azure/rules/keyvault-public-network-access';
import { keyVaultPurgeProtection } from '../../../shared/rules/azure/rules/keyvault-purge-protection';
import { storageMinimumTls } from '../../../shared/rules/azure/rules/storage-minimum-tls';
import { storagePublicBlobAccess } from '../../../shared/rules/azure/rules/storage-public-blob-access';
import { storagePublicNetworkAccess } from '../../../shared/rules/azure/rules/storage-public-network-access';
import { storageSharedKeyAccess } from '../../../shared/rules/azure/rules/storage-shared-key-access';
import type { AzurePostureRule } from '../../../shared/rules/azure/types';
import { evaluate, failedSubjects, fixture, withProperties } from './support';

type Props = Record<string, unknown>;
const OMIT = undefined;

describe('azure storage account rules', () => {
  describe('the published bodies', () => {
    it('StorageAccountGetProperties (no hardening properties at all) fails every storage rule, each on its own property', () => {
      const body = fixture('storage-account-getproperties');
      expect(failedSubjects(evaluate(storagePublicBlobAccess, body))).to.deep.equal(['allowBlobPublicAccess']);
      expect(failedSubjects(evaluate(storageSharedKeyAccess, body))).to.deep.equal(['allowSharedKeyAccess']);
      expect(failedSubjects(evaluate(storageMinimumTls, body))).to.deep.equal(['minimumTlsVersion']);
      expect(failedSubjects(evaluate(storagePublicNetworkAccess, body))).to.deep.equal(['publicNetworkAccess']);
    });

    it('the StorageAccountCreate response (blob access off, TLS1_2, shared keys on, no firewall) fails shared keys and network only', () => {
      const body = fixture('storage-account-create-response');
      expect(failedSubjects(evaluate(storagePublicBlobAccess, body))).to.deep.equal([]);
      expect(failedSubjects(evaluate(storageMinimumTls, body))).to.deep.equal([]);
      expect(failedSubjects(evaluate(storageSharedKeyAccess, body))).to.deep.equal(['allowSharedKeyAccess']);
      expect(failedSubjects(evaluate(storagePublicNetworkAccess, body))).to.deep.equal(['publicNetworkAccess']);
    });
  });

  const table: { rule: AzurePostureRule; patch: Props; fails: boolean; why: string }[] = [
    { rule: storagePublicBlobAccess, patch: { allowBlobPublicAccess: true }, fails: true, why: 'explicitly allowed' },
    { rule: storagePublicBlobAccess, patch: { allowBlobPublicAccess: OMIT }, fails: true, why: 'absent (only an explicit false passes)' },
    { rule: storagePublicBlobAccess, patch: { allowBlobPublicAccess: null }, fails: true, why: 'null' },
    { rule: storagePublicBlobAccess, patch: { allowBlobPublicAccess: false }, fails: false, why: 'disallowed' },
    { rule: storagePublicBlobAccess, patch: { allowBlobPublicAccess: 'false' }, fails: false, why: 'disallowed, as a string' },
    { rule: storageSharedKeyAccess, patch: { allowSharedKeyAccess: true }, fails: true, why: 'explicitly allowed' },
    { rule: storageSharedKeyAccess, patch: { allowSharedKeyAccess: OMIT }, fails: true, why: 'absent (ARM: null is equivalent to true)' },
    { rule: storageSharedKeyAccess, patch: { allowSharedKeyAccess: false }, fails: false, why: 'disallowed' },
    { rule: storageMinimumTls, patch: { minimumTlsVersion: 'TLS1_0' }, fails: true, why: 'TLS1_0' },
    { rule: storageMinimumTls, patch: { minimumTlsVersion: 'TLS1_1' }, fails: true, why: 'TLS1_1' },
    { rule: storageMinimumTls, patch: { minimumTlsVersion: OMIT }, fails: true, why: 'absent (default interpretation TLS 1.0)' },
    { rule: storageMinimumTls, patch: { minimumTlsVersion: 12 }, fails: true, why: 'not a string' },
    { rule: storageMinimumTls, patch: { minimumTlsVersion: 'TLS1_2' }, fails: false, why: 'TLS1_2' },
    { rule: storageMinimumTls, patch: { minimumTlsVersion: 'tls1_3' }, fails: false, why: 'TLS1_3, any case' },
    { rule: storagePublicNetworkAccess, patch: { publicNetworkAccess: 'Enabled', networkAcls: { defaultAction: 'Allow' } }, fails: true, why: 'enabled and Allow' },
    { rule: storagePublicNetworkAccess, patch: { publicNetworkAccess: OMIT, networkAcls: OMIT }, fails: true, why: 'neither set (ARM defaults: enabled, Allow)' },
    { rule: storagePublicNetworkAccess, patch: { publicNetworkAccess: 'Enabled', networkAcls: { defaultAction: 'Deny', ipRules: [{ value: '203.0.113.0/24' }] } }, fails: false, why: 'firewall default Deny' },
    { rule: storagePublicNetworkAccess, patch: { publicNetworkAccess: 'Disabled', networkAcls: { defaultAction: 'Allow' } }, fails: false, why: 'public network access disabled' },
    { rule: storagePublicNetworkAccess, patch: { publicNetworkAccess: 'SecuredByPerimeter' }, fails: false, why: 'a network security perimeter decides' },
  ];
  for (const c of table) {
    it(`${c.rule.id} ${c.fails ? 'fails' : 'passes'} when ${c.why}`, () => {
      const body = withProperties(fixture('storage-account-create-response'), c.patch);
      const subjects = failedSubjects(evaluate(c.rule, body));
      expect(subjects).to.have.length(c.fails ? 1 : 0);
    });
  }

  it('tells an absent value from an explicit one in the evidence', () => {
    const absent = evaluate(storagePublicBlobAccess, withProperties(fixture('storage-account-create-response'), { allowBlobPublicAccess: OMIT }));
    const explicit = evaluate(storagePublicBlobAccess, withProperties(fixture('storage-account-create-response'), { allowBlobPublicAccess: true }));
    if (absent.status !== 'evaluated' || explicit.status !== 'evaluated') throw new Error('expected evaluated');
    expect(absent.failures[0]!.evidence).to.deep.equal({ allowBlobPublicAccess: null, absent: true });
    expect(absent.failures[0]!.title).to.match(/unset/);
    expect(explicit.failures[0]!.evidence).to.deep.equal({ allowBlobPublicAccess: true, absent: false });
    expect(explicit.failures[0]).not.to.have.property('title');
  });

  it('does not apply to a resource without properties', () => {
    for (const rule of [storagePublicBlobAccess, storageSharedKeyAccess, storageMinimumTls, storagePublicNetworkAccess]) {
      expect(evaluate(rule, { id: fixture('storage-account-create-response').id }).status, rule.id).to.equal('not-applicable');
    }
  });
});

describe('azure Key Vault rules', () => {
  it('the published vault (public, no networkAcls, no purge protection) fails both rules', () => {
    const body = fixture('key-vault-get');
    expect(failedSubjects(evaluate(keyVaultPublicNetworkAccess, body))).to.deep.equal(['publicNetworkAccess']);
    expect(failedSubjects(evaluate(keyVaultPurgeProtection, body))).to.deep.equal(['enablePurgeProtection']);
  });

  const table: { rule: AzurePostureRule; patch: Props; fails: boolean; why: string }[] = [
    { rule: keyVaultPublicNetworkAccess, patch: { networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' } }, fails: true, why: 'firewall default Allow' },
    { rule: keyVaultPublicNetworkAccess, patch: { publicNetworkAccess: OMIT, networkAcls: OMIT }, fails: true, why: 'nothing set' },
    { rule: keyVaultPublicNetworkAccess, patch: { networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' } }, fails: false, why: 'firewall default Deny' },
    { rule: keyVaultPublicNetworkAccess, patch: { publicNetworkAccess: 'Disabled' }, fails: false, why: 'public network access disabled' },
    { rule: keyVaultPublicNetworkAccess, patch: { publicNetworkAccess: 'disabled', networkAcls: { defaultAction: 'Allow' } }, fails: false, why: 'disabled in another case' },
    { rule: keyVaultPurgeProtection, patch: { enablePurgeProtection: true }, fails: false, why: 'purge protection on' },
    { rule: keyVaultPurgeProtection, patch: { enablePurgeProtection: false }, fails: true, why: 'purge protection explicitly off' },
    { rule: keyVaultPurgeProtection, patch: { enablePurgeProtection: null }, fails: true, why: 'purge protection null' },
  ];
  for (const c of table) {
    it(`${c.rule.id} ${c.fails ? 'fails' : 'passes'} when ${c.why}`, () => {
      expect(failedSubjects(evaluate(c.rule, withProperties(fixture('key-vault-get'), c.patch)))).to.have.length(c.fails ? 1 : 0);
    });
  }

  it('keeps the soft-delete settings beside purge protection in the evidence', () => {
    const result = evaluate(keyVaultPurgeProtection, withProperties(fixture('key-vault-get'), { enableSoftDelete: true, softDeleteRetentionInDays: 90 }));
    if (result.status !== 'evaluated') throw new Error('expected evaluated');
    expect(result.failures[0]!.evidence).to.deep.equal({ enablePurgeProtection: null, enableSoftDelete: true, softDeleteRetentionInDays: 90 });
  });
});
