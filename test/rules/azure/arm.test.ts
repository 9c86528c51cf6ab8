import { expect } from 'chai';
import { isArmResource, parseArmId, resourceKeyOf } from '../../../shared/rules/azure/arm';
import { adminPortsIn, isWorldSource, parsePortRange, reachesUnexpectedPort } from '../../../shared/rules/azure/network';
import { allowLists, SUB } from './support';

const RG = `/subscriptions/${SUB}/resourceGroups/rg-sec`;

describe('azure ARM ids and network arithmetic', () => {
  const ids: [string, Partial<ReturnType<typeof parseArmId>> | undefined][] = [
    [`/subscriptions/${SUB}`, { type: 'microsoft.resources/subscriptions', name: SUB, subscriptionId: SUB }],
    [RG, { type: 'microsoft.resources/resourcegroups', name: 'rg-sec', resourceGroup: 'rg-sec', parentId: `/subscriptions/${SUB}` }],
    [`${RG}/providers/Microsoft.Network/networkSecurityGroups/web`, { type: 'microsoft.network/networksecuritygroups', name: 'web', parentId: RG }],
    [`${RG}/providers/Microsoft.Network/networkSecurityGroups/web/securityRules/ssh`, { type: 'microsoft.network/networksecuritygroups/securityrules', name: 'ssh', parentId: `${RG}/providers/Microsoft.Network/networkSecurityGroups/web` }],
    [`${RG}/providers/Microsoft.KeyVault/vaults/kv/providers/microsoft.insights/diagnosticSettings/d1`, { type: 'microsoft.insights/diagnosticsettings', name: 'd1', parentId: `${RG}/providers/Microsoft.KeyVault/vaults/kv` }],
    [`/subscriptions/${SUB}/providers/microsoft.insights/diagnosticSettings/d2`, { type: 'microsoft.insights/diagnosticsettings', parentId: `/subscriptions/${SUB}` }],
    ['/providers/Microsoft.Management/managementGroups/mg1', { type: 'microsoft.management/managementgroups', name: 'mg1', managementGroup: 'mg1' }],
    ['/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/roleAssignments/ra', { type: 'microsoft.authorization/roleassignments', managementGroup: 'mg1', parentId: '/providers/Microsoft.Management/managementGroups/mg1' }],
    ['/providers/Microsoft.Authorization/roleAssignments/ra', { type: 'microsoft.authorization/roleassignments', parentId: undefined }],
    [`${RG}/providers/Microsoft.Storage/storageAccounts/st1/`, { id: `${RG}/providers/Microsoft.Storage/storageAccounts/st1`, name: 'st1' }],
    [`${RG}/providers/Microsoft.Storage/storageAccounts/providers`, { type: 'microsoft.storage/storageaccounts', name: 'providers' }],
    [`/subscriptions/${SUB}/resourceGroups/providers/providers/Microsoft.KeyVault/vaults/kv`, { type: 'microsoft.keyvault/vaults', resourceGroup: 'providers', name: 'kv' }],
    // not ARM ids
    [`${RG}/deployments/d1`, undefined],
    [`${RG}/providers/Microsoft.Network/networkSecurityGroups`, undefined],
    [`${RG}//providers/Microsoft.Network/networkSecurityGroups/x`, undefined],
    ['subscriptions/x', undefined],
    ['/', undefined],
    ['/weird/providers/Microsoft.X/y/z', undefined],
  ];
  for (const [id, expected] of ids) {
    it(`parses ${id}`, () => {
      const parsed = parseArmId(id);
      if (expected === undefined) expect(parsed).to.equal(undefined);
      else expect(parsed).to.deep.include(expected);
    });
  }

  it('keys resources case-insensitively', () => {
    expect(resourceKeyOf(`${RG}/providers/Microsoft.KeyVault/vaults/KV/`)).to.equal(`/subscriptions/${SUB}/resourcegroups/rg-sec/providers/microsoft.keyvault/vaults/kv`);
  });

  it('narrows the ARM resource shape', () => {
    expect(isArmResource({ id: RG })).to.equal(true);
    expect(isArmResource({ id: RG, properties: null })).to.equal(true);
    expect(isArmResource({ id: '' })).to.equal(false);
    expect(isArmResource({ id: RG, properties: 'x' })).to.equal(false);
    expect(isArmResource({ id: RG, name: 5 })).to.equal(false);
  });

  it('reads port ranges as NSGs write them', () => {
    expect(parsePortRange('*')).to.deep.equal({ from: 0, to: 65535 });
    expect(parsePortRange(' 22 ')).to.deep.equal({ from: 22, to: 22 });
    expect(parsePortRange('20 - 25')).to.deep.equal({ from: 20, to: 25 });
    for (const bad of ['', '-', '25-20', '70000', '1-70000', 'ssh', '1e3', '0x16']) expect(parsePortRange(bad), bad).to.equal(undefined);
  });

  it('knows the internet when it sees it', () => {
    const lists = allowLists();
    for (const world of ['*', 'Internet', 'internet', '0.0.0.0/0', '::/0', '10.0.0.0/0']) expect(isWorldSource(world, lists), world).to.equal(true);
    for (const not of ['VirtualNetwork', 'AzureLoadBalancer', '10.0.0.0/8', '0.0.0.0/1', '203.0.113.7', '::/1']) expect(isWorldSource(not, lists), not).to.equal(false);
    expect(isWorldSource('0.0.0.0/0', allowLists({ trustedCidrs: ['0.0.0.0/0'] }))).to.equal(false);
  });

  it('finds admin ports and unexpected ports in ranges', () => {
    const lists = allowLists();
    expect(adminPortsIn([{ from: 20, to: 3390 }], [22, 3389, 5985])).to.deep.equal([22, 3389]);
    expect(reachesUnexpectedPort([{ from: 80, to: 80 }, { from: 443, to: 443 }], lists)).to.equal(false);
    expect(reachesUnexpectedPort([{ from: 22, to: 22 }], lists)).to.equal(false);
    expect(reachesUnexpectedPort([{ from: 79, to: 80 }], lists)).to.equal(true);
  });
});
