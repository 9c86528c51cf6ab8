import { expect } from 'chai';
import { containerAppInsecureIngress } from '../../../shared/rules/azure/rules/container-app-insecure-ingress';
import { containerGroupPublicPort } from '../../../shared/rules/azure/rules/container-group-public-port';
import { roleAssignmentPrivileged } from '../../../shared/rules/azure/rules/role-assignment-privileged';
import { ACA_GET, ACI_GET, allowLists, corpusBody, evaluate, failedSubjects, fixture, withProperties } from './support';

type Props = Record<string, unknown>;

const ROLE = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  uaa: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
};

/** The published role assignment with another role (subscription form of roleDefinitionId) and/or scope. */
function assignment(role: string, scope?: string, extra: Props = {}): Props {
  const body = fixture('role-assignment-get');
  const props = body.properties as Props;
  const sub = (props.scope as string).split('/')[2];
  const patch: Props = { roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`, ...extra };
  if (scope !== undefined) {
    patch.scope = scope;
    body.id = `${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleAssignments/${body.name as string}`;
  }
  return withProperties(body, patch);
}

describe('azure role assignment rule (azure.authorization.privileged-role-assignment)', () => {
  it('the published assignment (a non-privileged role at subscription scope) passes', () => {
    expect(failedSubjects(evaluate(roleAssignmentPrivileged, fixture('role-assignment-get')))).to.deep.equal([]);
  });

  const MG = '/providers/Microsoft.Management/managementGroups/contoso-root';
  const cases: { name: string; body: () => Props; fails: string[] }[] = [
    { name: 'Owner at subscription scope', body: () => assignment(ROLE.owner), fails: ['Owner'] },
    { name: 'Contributor at subscription scope', body: () => assignment(ROLE.contributor), fails: ['Contributor'] },
    { name: 'User Access Administrator at subscription scope', body: () => assignment(ROLE.uaa), fails: ['User Access Administrator'] },
    { name: 'Owner at management-group scope', body: () => assignment(ROLE.owner, MG), fails: ['Owner'] },
    { name: 'Owner at the tenant root', body: () => assignment(ROLE.owner, '/'), fails: ['Owner'] },
    { name: 'Owner in the tenant form of roleDefinitionId', body: () => withProperties(assignment(ROLE.owner), { roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${ROLE.owner.toUpperCase()}` }), fails: ['Owner'] },
    { name: 'Owner with the scope only in the id', body: () => withProperties(assignment(ROLE.owner), { scope: undefined }), fails: ['Owner'] },
    { name: 'Owner with a trailing slash on the scope', body: () => withProperties(assignment(ROLE.owner), { scope: `${(fixture('role-assignment-get').properties as Props).scope as string}/` }), fails: ['Owner'] },
    // benign
    { name: 'Reader at subscription scope', body: () => assignment(ROLE.reader), fails: [] },
    { name: 'Reader at management-group scope', body: () => assignment(ROLE.reader, MG), fails: [] },
    { name: 'Owner at resource-group scope', body: () => assignment(ROLE.owner, `/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2/resourceGroups/app-rg`), fails: [] },
    { name: 'Contributor on one resource', body: () => assignment(ROLE.contributor, `/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2/resourceGroups/app-rg/providers/Microsoft.Storage/storageAccounts/data1`), fails: [] },
    { name: 'a roleDefinitionId that is not a GUID path', body: () => withProperties(assignment(ROLE.owner), { roleDefinitionId: 'Owner' }), fails: [] },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.fails.length ? 'fails' : 'passes'}`, () => {
      expect(failedSubjects(evaluate(roleAssignmentPrivileged, c.body()))).to.deep.equal(c.fails);
    });
  }

  it('a trusted principal (by object id, any case) is expected automation', () => {
    const body = assignment(ROLE.owner);
    const principal = (body.properties as Props).principalId as string;
    expect(failedSubjects(evaluate(roleAssignmentPrivileged, body, allowLists({ trustedPrincipals: [principal.toUpperCase()] })))).to.deep.equal([]);
    expect(failedSubjects(evaluate(roleAssignmentPrivileged, body, allowLists({ trustedPrincipals: ['someone-else'] })))).to.deep.equal(['Owner']);
  });

  it('names role, principal and scope kind in the finding', () => {
    const result = evaluate(roleAssignmentPrivileged, assignment(ROLE.uaa, MG));
    if (result.status !== 'evaluated') throw new Error('expected evaluated');
    expect(result.failures[0]!.title).to.equal('User Access Administrator assigned at management group scope');
    expect(result.failures[0]!.evidence).to.deep.include({ role: 'User Access Administrator', principalId: 'ce2ce14e-85d7-4629-bdbc-454d0519d987', principalType: 'User', scope: MG, scopeKind: 'management group' });
  });

  it('does not apply without properties or without a roleDefinitionId', () => {
    expect(evaluate(roleAssignmentPrivileged, { id: fixture('role-assignment-get').id }).status).to.equal('not-applicable');
    expect(evaluate(roleAssignmentPrivileged, withProperties(fixture('role-assignment-get'), { roleDefinitionId: undefined })).status).to.equal('not-applicable');
  });
});

/** The corpus container group (public IP, port 80) with its public ports replaced. */
function containerGroup(ports: unknown[], type = 'Public'): Props {
  const body = corpusBody(ACI_GET);
  const ipAddress = { ...((body.properties as Props).ipAddress as Props), ports, type };
  return withProperties(body, { ipAddress });
}

describe('azure container group rule (azure.containerinstance.public-port)', () => {
  it('the corpus container group (public IP, TCP 80) passes with the default allow-list', () => {
    expect(failedSubjects(evaluate(containerGroupPublicPort, corpusBody(ACI_GET)))).to.deep.equal([]);
  });

  it('the corpus list item with instanceView reads the same', () => {
    expect(failedSubjects(evaluate(containerGroupPublicPort, corpusBody('arm/aci-containergroup-list-item-instanceview.json')))).to.deep.equal([]);
  });

  it('port 80 fails once 80 leaves the allow-list', () => {
    expect(failedSubjects(evaluate(containerGroupPublicPort, corpusBody(ACI_GET), allowLists({ publicPorts: [443] })))).to.deep.equal(['TCP/80']);
  });

  const cases: { name: string; body: () => Props; fails: string[]; severities?: string[] }[] = [
    { name: 'SSH on the public IP', body: () => containerGroup([{ port: 22, protocol: 'TCP' }]), fails: ['TCP/22'], severities: ['CRITICAL'] },
    { name: 'RDP (protocol absent = TCP)', body: () => containerGroup([{ port: 3389 }]), fails: ['TCP/3389'], severities: ['CRITICAL'] },
    { name: 'a database port', body: () => containerGroup([{ port: 80, protocol: 'TCP' }, { port: 6379, protocol: 'TCP' }]), fails: ['TCP/6379'], severities: ['HIGH'] },
    { name: 'UDP 53 and SSH, deduplicated', body: () => containerGroup([{ port: 53, protocol: 'UDP' }, { port: 22 }, { port: 22, protocol: 'tcp' }]), fails: ['UDP/53', 'TCP/22'], severities: ['HIGH', 'CRITICAL'] },
    { name: 'public type in lower case', body: () => containerGroup([{ port: 22 }], 'public'), fails: ['TCP/22'] },
    // benign
    { name: 'web ports only', body: () => containerGroup([{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }]), fails: [] },
    { name: 'SSH on a private IP (virtual network)', body: () => containerGroup([{ port: 22, protocol: 'TCP' }], 'Private'), fails: [] },
    { name: 'no ipAddress at all', body: () => withProperties(corpusBody(ACI_GET), { ipAddress: undefined }), fails: [] },
    { name: 'junk port entries', body: () => containerGroup([null, { port: 'x' }, { port: 70000 }, { port: 0 }, 'p']), fails: [] },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.fails.length ? `fails ${c.fails.join(', ')}` : 'passes'}`, () => {
      const result = evaluate(containerGroupPublicPort, c.body());
      expect(failedSubjects(result)).to.deep.equal(c.fails);
      if (c.severities && result.status === 'evaluated') expect(result.failures.map((f) => f.severity)).to.deep.equal(c.severities);
    });
  }

  it('does not apply without properties', () => {
    expect(evaluate(containerGroupPublicPort, { id: corpusBody(ACI_GET).id }).status).to.equal('not-applicable');
  });
});

/** The corpus container app with its ingress overridden (a key set to undefined is removed). */
function containerApp(ingressPatch: Props | null): Props {
  const body = corpusBody(ACA_GET);
  const configuration = { ...((body.properties as Props).configuration as Props) };
  if (ingressPatch === null) delete configuration.ingress;
  else {
    const ingress = { ...(configuration.ingress as Props) };
    for (const [k, v] of Object.entries(ingressPatch)) {
      if (v === undefined) delete ingress[k];
      else ingress[k] = v;
    }
    configuration.ingress = ingress;
  }
  return withProperties(body, { configuration });
}

describe('azure container app rule (azure.containerapps.insecure-ingress)', () => {
  const cases: { name: string; body: () => Props; fails: boolean }[] = [
    { name: 'the corpus app (external, allowInsecure absent)', body: () => corpusBody(ACA_GET), fails: false },
    { name: 'external with allowInsecure true', body: () => containerApp({ allowInsecure: true }), fails: true },
    { name: 'external with allowInsecure "true"', body: () => containerApp({ allowInsecure: 'true' }), fails: true },
    { name: 'external with allowInsecure false', body: () => containerApp({ allowInsecure: false }), fails: false },
    { name: 'internal ingress with allowInsecure true', body: () => containerApp({ external: false, allowInsecure: true }), fails: false },
    { name: 'external absent (internal by default) with allowInsecure true', body: () => containerApp({ external: undefined, allowInsecure: true }), fails: false },
    { name: 'no ingress at all', body: () => containerApp(null), fails: false },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.fails ? 'fails' : 'passes'}`, () => {
      expect(failedSubjects(evaluate(containerAppInsecureIngress, c.body()))).to.deep.equal(c.fails ? ['ingress'] : []);
    });
  }

  it('shows the ingress it judged', () => {
    const result = evaluate(containerAppInsecureIngress, containerApp({ allowInsecure: true }));
    if (result.status !== 'evaluated') throw new Error('expected evaluated');
    expect(result.failures[0]!.evidence).to.deep.include({ external: true, allowInsecure: true, targetPort: 3000, transport: 'auto' });
  });
});
