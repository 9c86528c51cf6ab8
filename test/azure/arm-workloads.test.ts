import { expect } from 'chai';
import { startArmStub, type ArmStub } from '../../local/arm-stub/server';
import { containerGroupVariant } from '../../local/arm-stub/variants';
import { ArmWorkloadReader } from '../../functions/azure/arm-workloads';
import { classifyMessage, type DeploymentEvent } from '../../functions/azure/deployment-event';
import { deploymentEventVariant, resourceId } from '../../local/arm-stub/variants';
import { loadCorpus } from '../support/corpus';

const credential = { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 60_000 }) };

function eventFor(kind: 'ACI' | 'ACA', id: string): DeploymentEvent {
  const [c] = classifyMessage(deploymentEventVariant(loadCorpus('azure/eventgrid-resourcewritesuccess-storage.azuredocs.json'), { kind, resourceUri: id, correlationId: 'c', eventId: 'e' }));
  if (c?.kind !== 'deployment') throw new Error('not a deployment event');
  return c.event;
}

describe('azure ARM reads through the SDKs against the ARM stub', () => {
  let arm: ArmStub;
  before(async () => {
    arm = await startArmStub();
  });
  after(async () => {
    await arm?.stop();
  });

  it('reads the published container group (image nginx, registry credentials) with the ACI SDK', async () => {
    const body = loadCorpus<{ id: string }>('arm/aci-containergroup-get.json');
    arm.put(body);
    const reader = new ArmWorkloadReader(credential, arm.endpoint);
    const out = await reader.read(eventFor('ACI', body.id));
    expect(out.kind).to.equal('found');
    if (out.kind !== 'found') return;
    expect(out.workload.containers).to.deep.equal([{ name: 'demo1', image: 'nginx', init: false }]);
    expect(out.workload.registryServers).to.deep.equal(['azcloudconsoleregistry.azurecr.io']);
    const req = arm.requests.at(-1)!;
    expect(req).to.include({ authorized: true, status: 200 });
    expect(req.apiVersion).to.match(/^20\d\d-\d\d-\d\d/);
  });

  it('reads the published container app with its init container through the ACA SDK', async () => {
    const body = loadCorpus<{ id: string }>('arm/aca-containerapp-get.json');
    arm.put(body);
    const out = await new ArmWorkloadReader(credential, arm.endpoint).read(eventFor('ACA', body.id));
    expect(out.kind === 'found' && out.workload.containers).to.deep.equal([
      { name: 'testcontainerapp0', image: 'repo/testcontainerapp0:v4', init: false },
      { name: 'testinitcontainerApp0', image: 'repo/testcontainerapp0:v4', init: true },
    ]);
  });

  it('collects ACI init containers, and reports a deleted workload as gone', async () => {
    const id = resourceId('ACI', 'sub-1', 'rg', 'with-init');
    arm.put(containerGroupVariant(loadCorpus('arm/aci-containergroup-get.json'), { id, images: ['nginx:1.27'], initImages: ['busybox:1.36'] }) as { id: string });
    const reader = new ArmWorkloadReader(credential, arm.endpoint);
    const out = await reader.read(eventFor('ACI', id));
    expect(out.kind === 'found' && out.workload.containers.map((c) => `${c.init ? 'init:' : ''}${c.image}`)).to.deep.equal(['nginx:1.27', 'init:busybox:1.36']);
    arm.remove(id);
    expect(await reader.read(eventFor('ACI', id))).to.deep.equal({ kind: 'gone', statusCode: 404 });
  });

  it('refuses a plain-http ARM endpoint that is not loopback', () => {
    const reader = new ArmWorkloadReader(credential, 'http://arm.example.com');
    return reader.read(eventFor('ACI', resourceId('ACI', 's', 'rg', 'x'))).then(
      () => expect.fail('expected a refusal'),
      (error: Error) => expect(error.message).to.match(/must use https/),
    );
  });
});
