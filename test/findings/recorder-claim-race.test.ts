import { expect } from 'chai';
import { FindingRecorder } from '../../shared/findings/recorder';
import { MemoryFindingStore } from '../../shared/findings/memory-store';
import type { FindingKey } from '../../shared/findings/finding';
import type { FindingStore, StoredFinding, WriteExpectation } from '../../shared/findings/store';
import type { FindingNotice, NotificationChannel } from '../../shared/findings/notifier';
import type { Observation } from '../../shared/findings/lifecycle';
import { keyOf, opened } from './support/store-contract';
import { at, observation } from './support/observations';

/**
 * The race the put rule (carriesNotificationAsStored) closes, through the real recorder: delivery B reads a
 * pending notice, delivery A claims it and is sending, B writes a touch carrying the notice as it read it. If
 * that write erased A's claim, delivery C would claim and send the same notice a second time.
 */

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** A handle on `store` whose first read waits (after reading) until `until` opens. */
function slowFirstRead(store: FindingStore, until: Promise<void>): FindingStore {
  let first = true;
  return {
    get: async (key: FindingKey) => {
      const record = await store.get(key);
      if (first) {
        first = false;
        await until;
      }
      return record;
    },
    put: (key: FindingKey, record: StoredFinding, expected: WriteExpectation) => store.put(key, record, expected),
    claimNotification: (...args) => store.claimNotification(...args),
    settleNotification: (...args) => store.settleNotification(...args),
    listByResource: (partition) => store.listByResource(partition),
    query: (q) => store.query(q),
  };
}

/** One email channel per delivery, all recording into `sent`; `before` holds a send back. */
class Channel implements NotificationChannel {
  readonly name = 'email';
  constructor(
    private readonly sent: FindingNotice[],
    private readonly before: () => Promise<void>,
  ) {}
  async send(notice: FindingNotice): Promise<void> {
    await this.before();
    this.sent.push(notice);
  }
}

describe('finding recorder: a touch racing a claimed notice', () => {
  it('sends the notice once', async () => {
    const store = new MemoryFindingStore();
    await store.put(keyOf(), opened(), { absent: true });
    const claimed = gate();
    const others = gate();
    const sent: FindingNotice[] = [];
    const recorder = (handle: FindingStore, before: () => Promise<void>) =>
      new FindingRecorder({ store: handle, channels: [new Channel(sent, before)], policy: { severityThreshold: 'HIGH', notifyOnResolve: true, mode: 'immediate' }, suppressions: [], persistTouches: true, now: () => new Date(at(1)) });
    // B: reads first (the notice pending, unclaimed), and writes its touch only after A's claim.
    const seenLater: Observation = observation({ observedAt: at(2) });
    const b = recorder(slowFirstRead(store, claimed.opened), async () => undefined).record([seenLater]);
    // A: finds the notice pending, claims it, and sends only once B and C are done.
    const claiming: FindingStore = {
      ...slowFirstRead(store, Promise.resolve()),
      claimNotification: async (...args) => {
        const ok = await store.claimNotification(...args);
        claimed.open();
        return ok;
      },
    };
    const a = recorder(claiming, () => others.opened).record([observation()]);
    await b;
    // C: a third delivery after B's touch.
    await recorder(store, async () => undefined).record([seenLater]);
    others.open();
    await a;
    expect(sent).to.have.length(1);
    const stored = await store.get(keyOf());
    expect(stored?.version).to.equal(2);
    expect(stored?.notification).to.include({ version: 1, state: 'SENT' });
  });
});
