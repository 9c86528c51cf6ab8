import { expect } from 'chai';
import { nsgOpenAdminPort } from '../../../shared/rules/azure/rules/nsg-open-admin-port';
import { nsgOpenPort } from '../../../shared/rules/azure/rules/nsg-open-port';
import { allowLists, evaluate, failedSubjects, fixture, nsgWithRules, withProperties } from './support';

type Props = Record<string, unknown>;

/** rule1 of the NSG fixture is `Allow Inbound * -> 80` from `*` at priority 130: each case changes only what it names. */
const inbound = (overrides: Props): Props => overrides;

describe('azure NSG rules (azure.network.nsg-open-admin-port, azure.network.nsg-open-port)', () => {
  it('the published NSG (port 80 from *, Azure default rules) passes both rules', () => {
    const body = fixture('nsg-get');
    expect(failedSubjects(evaluate(nsgOpenAdminPort, body))).to.deep.equal([]);
    expect(failedSubjects(evaluate(nsgOpenPort, body))).to.deep.equal([]);
  });

  it('never reads defaultSecurityRules: a default rule open to * on every port is not a finding', () => {
    const body = fixture('nsg-get');
    const props = body.properties as Props;
    props.securityRules = [];
    // Even a (hypothetical) default rule that allows everything from * must not count: defaults are Azure's.
    (props.defaultSecurityRules as Props[]).push({ name: 'Weird', properties: { access: 'Allow', direction: 'Inbound', protocol: '*', sourceAddressPrefix: '*', destinationPortRange: '*' } });
    expect(failedSubjects(evaluate(nsgOpenAdminPort, body))).to.deep.equal([]);
    expect(failedSubjects(evaluate(nsgOpenPort, body))).to.deep.equal([]);
  });

  const cases: { name: string; rule: Props; admin: boolean; other: boolean; lists?: Parameters<typeof allowLists>[0] }[] = [
    { name: 'SSH from *', rule: inbound({ destinationPortRange: '22' }), admin: true, other: false },
    { name: 'RDP from Internet', rule: inbound({ destinationPortRange: '3389', sourceAddressPrefix: 'Internet' }), admin: true, other: false },
    { name: 'SSH from 0.0.0.0/0, Tcp', rule: inbound({ destinationPortRange: '22', sourceAddressPrefix: '0.0.0.0/0', protocol: 'Tcp' }), admin: true, other: false },
    { name: 'SSH from ::/0', rule: inbound({ destinationPortRange: '22', sourceAddressPrefix: '::/0' }), admin: true, other: false },
    { name: 'a range covering 22 (20-25) also reaches non-public ports', rule: inbound({ destinationPortRange: '20-25' }), admin: true, other: true },
    { name: 'every port (*) reaches admin and other ports', rule: inbound({ destinationPortRange: '*' }), admin: true, other: true },
    { name: 'destinationPortRanges with 443 and 3389', rule: inbound({ destinationPortRange: undefined, destinationPortRanges: ['443', '3389'] }), admin: true, other: false },
    { name: 'WinRM 5986 (default adminPorts)', rule: inbound({ destinationPortRange: '5986' }), admin: true, other: false },
    { name: 'a custom admin port from the allow-list', rule: inbound({ destinationPortRange: '2222' }), admin: true, other: false, lists: { adminPorts: [2222] } },
    { name: '22 stays an admin port when the allow-list names others', rule: inbound({ destinationPortRange: '22' }), admin: true, other: false, lists: { adminPorts: [2222] } },
    { name: 'a database port (5432) from *', rule: inbound({ destinationPortRange: '5432' }), admin: false, other: true },
    { name: 'sourceAddressPrefixes with a private range and Internet', rule: inbound({ sourceAddressPrefix: undefined, sourceAddressPrefixes: ['10.0.0.0/8', 'Internet'], destinationPortRange: '8080' }), admin: false, other: true },
    { name: 'case-insensitive access, direction and tag', rule: inbound({ access: 'allow', direction: 'inbound', sourceAddressPrefix: 'INTERNET', destinationPortRange: '22' }), admin: true, other: false },
    { name: 'Udp 3389 (RDP over UDP)', rule: inbound({ protocol: 'Udp', destinationPortRange: '3389' }), admin: true, other: false },
    // benign variants
    { name: 'web ports only (80, 443)', rule: inbound({ destinationPortRange: undefined, destinationPortRanges: ['80', '443'] }), admin: false, other: false },
    { name: 'a Deny rule on 22 from *', rule: inbound({ access: 'Deny', destinationPortRange: '22' }), admin: false, other: false },
    { name: 'an Outbound rule on * to *', rule: inbound({ direction: 'Outbound', destinationPortRange: '*' }), admin: false, other: false },
    { name: 'a private CIDR source on 22', rule: inbound({ sourceAddressPrefix: '10.0.0.0/8', destinationPortRange: '22' }), admin: false, other: false },
    { name: 'the VirtualNetwork tag on *', rule: inbound({ sourceAddressPrefix: 'VirtualNetwork', destinationPortRange: '*' }), admin: false, other: false },
    { name: 'a public /24 on 22 (a known office, not the internet)', rule: inbound({ sourceAddressPrefix: '203.0.113.0/24', destinationPortRange: '22' }), admin: false, other: false },
    { name: 'a trusted CIDR equal to the source', rule: inbound({ sourceAddressPrefix: '0.0.0.0/0', destinationPortRange: '22' }), admin: false, other: false, lists: { trustedCidrs: ['0.0.0.0/0'] } },
    { name: 'Icmp from * (no ports)', rule: inbound({ protocol: 'Icmp', destinationPortRange: '*' }), admin: false, other: false },
    { name: 'an extra public port on the allow-list', rule: inbound({ destinationPortRange: '8443' }), admin: false, other: false, lists: { publicPorts: [80, 443, 8443] } },
    // null / absent / junk
    { name: 'no destination port at all', rule: inbound({ destinationPortRange: undefined }), admin: false, other: false },
    { name: 'an unreadable port range', rule: inbound({ destinationPortRange: '22-x' }), admin: false, other: false },
    { name: 'a reversed range', rule: inbound({ destinationPortRange: '25-20' }), admin: false, other: false },
    { name: 'no source at all', rule: inbound({ sourceAddressPrefix: undefined, destinationPortRange: '22' }), admin: false, other: false },
    { name: 'protocol absent is read as any', rule: inbound({ protocol: undefined, destinationPortRange: '22' }), admin: true, other: false },
    { name: 'access absent', rule: inbound({ access: undefined, destinationPortRange: '22' }), admin: false, other: false },
  ];

  for (const c of cases) {
    it(`${c.name}: admin ${c.admin ? 'fails' : 'passes'}, open-port ${c.other ? 'fails' : 'passes'}`, () => {
      const body = nsgWithRules([{ name: 'r-under-test', properties: c.rule }]);
      const lists = allowLists(c.lists);
      expect(failedSubjects(evaluate(nsgOpenAdminPort, body, lists))).to.deep.equal(c.admin ? ['r-under-test'] : []);
      expect(failedSubjects(evaluate(nsgOpenPort, body, lists))).to.deep.equal(c.other ? ['r-under-test'] : []);
    });
  }

  it('reports one finding per offending security rule, with the evidence of that rule', () => {
    const body = nsgWithRules([
      { name: 'ssh', properties: { destinationPortRange: '22', priority: 100 } },
      { name: 'web', properties: { destinationPortRange: '443', priority: 110 } },
      { name: 'rdp', properties: { destinationPortRange: '3389', sourceAddressPrefix: 'Internet', priority: 120 } },
    ]);
    const result = evaluate(nsgOpenAdminPort, body);
    if (result.status !== 'evaluated') throw new Error('expected evaluated');
    expect(result.failures.map((f) => f.subject)).to.deep.equal(['ssh', 'rdp']);
    expect(result.failures[1]!.evidence).to.deep.include({ securityRule: 'rdp', priority: 120, sources: ['Internet'], destinationPorts: ['3389'], adminPorts: [3389] });
    expect(result.failures[0]!.title).to.contain('ssh').and.contain('22');
  });

  it('names the unexpected ports of a range in the evidence', () => {
    const result = evaluate(nsgOpenPort, nsgWithRules([{ name: 'r', properties: { destinationPortRange: '20-25' } }]));
    if (result.status !== 'evaluated') throw new Error('expected evaluated');
    expect(result.failures[0]!.evidence.unexpectedPorts).to.deep.equal(['20', '21', '23', '24', '25']);
  });

  it('does not apply to a row without properties, and passes an NSG without security rules', () => {
    expect(evaluate(nsgOpenAdminPort, { id: fixture('nsg-get').id, type: 'microsoft.network/networksecuritygroups' }).status).to.equal('not-applicable');
    expect(evaluate(nsgOpenPort, withProperties(fixture('nsg-get'), { securityRules: 'oops' })).status).to.equal('not-applicable');
    expect(failedSubjects(evaluate(nsgOpenAdminPort, withProperties(fixture('nsg-get'), { securityRules: undefined })))).to.deep.equal([]);
    expect(failedSubjects(evaluate(nsgOpenAdminPort, withProperties(fixture('nsg-get'), { securityRules: [null, 5, 'x', { name: 'empty' }] })))).to.deep.equal([]);
  });

  it('reads the Resource Graph spelling (lower-case type, same properties)', () => {
    const row = nsgWithRules([{ name: 'ssh', properties: { destinationPortRange: '22' } }]);
    row.type = 'microsoft.network/networksecuritygroups';
    expect(failedSubjects(evaluate(nsgOpenAdminPort, row))).to.deep.equal(['ssh']);
  });
});
