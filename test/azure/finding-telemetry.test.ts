import { expect } from 'chai';
import { MemoryTelemetry } from '../../functions/azure/telemetry';
import { emitFindingTransitions } from '../../functions/azure/finding-telemetry';
import { SECURITY_FINDING_DIMENSIONS, SECURITY_FINDING_EVENT } from '../../functions/azure/telemetry-names';
import { FindingRecorder } from '../../shared/findings/recorder';
import { MemoryFindingStore } from '../../shared/findings/memory-store';
import { observation } from '../findings/support/observations';

describe('SecurityFinding telemetry (functions/azure/finding-telemetry)', () => {
  it('emits one event per transition with the catalogued dimensions only', async () => {
    const recorder = new FindingRecorder({ store: new MemoryFindingStore(), channels: [], policy: { severityThreshold: 'HIGH', notifyOnResolve: false, mode: 'immediate' }, suppressions: [], persistTouches: true });
    const transitions = await recorder.record([observation({ cloud: 'azure', scope: { subscription: 'sub-1' }, title: 'x'.repeat(5000) })]);
    const telemetry = new MemoryTelemetry();
    emitFindingTransitions(telemetry, transitions);
    expect(telemetry.events).to.have.length(1);
    const event = telemetry.events[0]!;
    expect(event.name).to.equal(SECURITY_FINDING_EVENT);
    expect(Object.keys(event.properties).every((k) => (SECURITY_FINDING_DIMENSIONS as readonly string[]).includes(k))).to.equal(true);
    expect(event.properties).to.include({ Transition: 'open', State: 'ACTIVE', Category: 'activity', Subscription: 'sub-1', Severity: 'CRITICAL' });
    expect(String(event.properties.Title).length).to.be.at.most(1024);
  });
});
