import { expect } from 'chai';
import { FindingRecorder, NotificationError, type WrittenTransition } from '../../shared/findings/recorder';
import { MemoryFindingStore } from '../../shared/findings/memory-store';
import type { NotificationChannel } from '../../shared/findings/notifier';
import { at, observation } from './support/observations';

/**
 * RecorderOptions.onTransition: every written transition is reported once, when it is written, also when
 * its notice fails afterwards (the redelivery then decides nothing and reports nothing).
 */
describe('FindingRecorder onTransition', () => {
  function recorder(store: MemoryFindingStore, seen: WrittenTransition[], channels: NotificationChannel[] = []): FindingRecorder {
    return new FindingRecorder({
      store,
      channels,
      policy: { severityThreshold: 'HIGH', notifyOnResolve: false, mode: 'immediate' },
      suppressions: [],
      persistTouches: true,
      onTransition: (t) => seen.push(t),
    });
  }

  it('reports open, touch and resolve as they are written, and nothing for a redelivery', async () => {
    const store = new MemoryFindingStore();
    const seen: WrittenTransition[] = [];
    await recorder(store, seen).record([observation()]);
    await recorder(store, seen).record([observation()]);
    await recorder(store, seen).record([observation({ observedAt: at(5) })]);
    await recorder(store, seen).record([observation({ outcome: 'pass', observedAt: at(10) })]);
    expect(seen.map((t) => [t.kind, t.finding.state, t.previous?.state])).to.deep.equal([
      ['open', 'ACTIVE', undefined],
      ['touch', 'ACTIVE', 'ACTIVE'],
      ['resolve', 'RESOLVED', 'ACTIVE'],
    ]);
  });

  it('reports a transition whose notice then fails, once', async () => {
    const store = new MemoryFindingStore();
    const seen: WrittenTransition[] = [];
    let fail = true;
    const flaky: NotificationChannel = {
      name: 'flaky',
      send: async () => {
        if (fail) throw new Error('receiver down');
      },
    };
    const first = await recorder(store, seen, [flaky]).record([observation()]).catch((e: unknown) => e);
    expect(first).to.be.instanceOf(NotificationError);
    expect(seen.map((t) => t.kind)).to.deep.equal(['open']);
    fail = false;
    expect(await recorder(store, seen, [flaky]).record([observation()])).to.deep.equal([]);
    expect(seen.map((t) => t.kind)).to.deep.equal(['open']);
  });
});
