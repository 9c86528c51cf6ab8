import { expect } from 'chai';
import { run, type DetectorCase } from './records';

/** Runs table cases: the detections must be exactly the expected ones (no more), and no detector may fail. */
export function detectorTable(cases: readonly DetectorCase[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const result = run(c.input(), c.allow);
      expect(result.errors, 'detector errors').to.deep.equal([]);
      const summary = result.outcomes.map((o) => `${o.ruleId} ${o.outcome} ${JSON.stringify(o.subject)} ${o.severity}`);
      expect(summary, `detections: ${JSON.stringify(summary)}`).to.have.length(c.expect.length);
      c.expect.forEach((expected, i) => expect(result.outcomes[i], `detection ${i}`).to.include(expected));
    });
  }
}
