import { expect } from 'chai';
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { ImageReferenceError, parseImageReference, type ImageReference } from '../../shared/image-reference';

/* Generators built from the grammar's own pieces (alphanumeric runs, separators, domain labels, ports, tags). */
const alnumRun = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const separator = fc.constantFrom('.', '_', '__', '-', '--', '---');
const pathComponent = fc
  .tuple(alnumRun, fc.array(fc.tuple(separator, alnumRun), { maxLength: 3 }))
  .map(([head, rest]) => head + rest.map(([sep, run]) => sep + run).join(''));
/** Without a registry, a first component holding '.' would itself be read as a registry. */
const firstComponentWithoutDot = pathComponent.filter((c) => !c.includes('.'));
/** A path component with a "." that is no host name ("_" is not allowed in a host label). */
const dottedNonHost = fc
  .tuple(alnumRun, fc.constantFrom('_', '__'), alnumRun, alnumRun)
  .map(([a, underscore, b, c]) => `${a}${underscore}${b}.${c}`);
/** After a registry any path component may come first, including ones that look like a host. */
const firstComponentAfterRegistry = fc.oneof(
  firstComponentWithoutDot,
  pathComponent,
  fc.constant('localhost'),
  fc.tuple(alnumRun, alnumRun).map(([a, b]) => `${a}.${b}`),
  dottedNonHost,
);
const domainLabel = fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?$/);
const dottedHost = fc.array(domainLabel, { minLength: 2, maxLength: 3 }).map((labels) => labels.join('.'));
/** Docker reads a first part as a registry only with a '.' or ':' in it, so the address holds a ':'. */
const ipv6Host = fc.stringMatching(/^[a-fA-F0-9]{0,4}:[a-fA-F0-9:]{0,12}$/).map((address) => `[${address}]`);
const port = fc.integer({ min: 1, max: 65535 }).map((n) => `:${n}`);
const registry = fc.oneof(
  dottedHost,
  fc.tuple(dottedHost, port).map(([h, p]) => h + p),
  fc.tuple(domainLabel, port).map(([h, p]) => h + p),
  fc.tuple(ipv6Host, fc.option(port, { nil: '' })).map(([h, p]) => h + p),
  fc.constantFrom('localhost', 'localhost:5000', 'docker.io', 'index.docker.io', 'LOCALDOMAIN'),
  // Docker Hub again, so that host-like first components after it (the familiar-form exception) come up often.
  fc.constantFrom('docker.io', 'index.docker.io'),
);
const tag = fc.stringMatching(/^[\w][\w.-]{0,30}$/);
const digest = fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`);

const validReference = fc
  .option(registry, { nil: undefined })
  .chain((chosen) =>
    fc.record({
      registry: fc.constant(chosen),
      first: chosen === undefined ? firstComponentWithoutDot : firstComponentAfterRegistry,
      rest: fc.array(pathComponent, { maxLength: 3 }),
      tag: fc.option(tag, { nil: undefined }),
      digest: fc.option(digest, { nil: undefined }),
    }),
  )
  .map(
    (r) =>
      `${r.registry === undefined ? '' : `${r.registry}/`}${[r.first, ...r.rest].join('/')}` +
      `${r.tag === undefined ? '' : `:${r.tag}`}${r.digest === undefined ? '' : `@${r.digest}`}`,
  );

/** Strings dense in the characters the grammar splits on, where a backtracking matcher would struggle. */
const separatorHeavy = (maxLength: number, minLength = 0) =>
  fc.string({
    unit: fc.constantFrom('a', 'Z', '0', '.', '_', '-', '/', ':', '@', '[', ']', 's', 'h', '2', '5', '6'),
    minLength,
    maxLength,
    size: 'max',
  });

function parseOrError(input: string): ImageReference | ImageReferenceError {
  try {
    return parseImageReference(input);
  } catch (error) {
    if (error instanceof ImageReferenceError) return error;
    throw error;
  }
}

describe('parseImageReference properties', () => {
  it('parses every reference built from the grammar', () => {
    fc.assert(
      fc.property(validReference, (input) => {
        const ref = parseImageReference(input);
        expect(ref.name).to.equal(`${ref.registry}/${ref.repository}`);
      }),
      { numRuns: 500 },
    );
  });

  it('parsing the canonical form again yields the same reference', () => {
    fc.assert(
      fc.property(validReference, (input) => {
        const ref = parseImageReference(input);
        const again = parseImageReference(ref.canonical);
        expect(again.canonical).to.equal(ref.canonical);
        expect(again.name).to.equal(ref.name);
        expect(again.registry).to.equal(ref.registry);
        expect(again.repository).to.equal(ref.repository);
        expect(again.digest).to.equal(ref.digest);
        // The canonical form spells out the implicit :latest, so only that tag may appear.
        expect(again.tag).to.equal(ref.tag ?? (ref.digest === undefined ? 'latest' : undefined));
        expect(parseImageReference(again.canonical)).to.deep.equal(again);
      }),
      { numRuns: 500 },
    );
  });

  /**
   * The Docker Hub exception: `docker.io/<host-like>/<more>` (first component with a "." or `localhost`)
   * has the familiar form `<host-like>/<more>`, and that names the registry <host-like>. Go's reference
   * library (FamiliarString) behaves the same way. When <host-like> is no valid host (`my_org.io`), the
   * familiar form names a registry that cannot exist and is refused.
   */
  const familiarNamesAnotherRegistry = (ref: ImageReference): boolean => {
    if (ref.registry !== 'docker.io') return false;
    const [first, ...rest] = ref.repository.split('/');
    return rest.length > 0 && (first!.includes('.') || first === 'localhost');
  };

  it('the familiar form parses back to the same name, except for Docker Hub names that start like a host', () => {
    const seen = { otherRegistry: 0, refused: 0 };
    fc.assert(
      fc.property(validReference, (input) => {
        const ref = parseImageReference(input);
        const [first, ...rest] = ref.repository.split('/');
        if (familiarNamesAnotherRegistry(ref) && !first!.split('.').every((label) => /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(label))) {
          seen.refused += 1;
          expect(() => parseImageReference(ref.familiar)).to.throw(ImageReferenceError, /registry host label/);
          return;
        }
        const again = parseImageReference(ref.familiar);
        if (familiarNamesAnotherRegistry(ref)) {
          seen.otherRegistry += 1;
          expect(again.registry).to.equal(first);
          expect(again.repository).to.equal(rest.join('/'));
          expect(again.name).to.equal(ref.repository);
        } else {
          expect(again.name).to.equal(ref.name);
        }
        expect(again.tag).to.equal(ref.tag);
        expect(again.digest).to.equal(ref.digest);
        expect(again.familiar).to.equal(ref.familiar);
      }),
      { numRuns: 500 },
    );
    // The generator must keep producing both sides of the exception, or the property would quietly stop stating it.
    expect(seen.otherRegistry, 'familiar forms naming another registry').to.be.at.least(8);
    expect(seen.refused, 'familiar forms naming an impossible registry').to.be.at.least(4);
  });

  it('the familiar form of a 64-hex official name cannot be parsed back, as in Docker', () => {
    // Docker accepts docker.io/<64 hex> but refuses its own short form (it reads like an image ID).
    const ref = parseImageReference(`docker.io/${'ab'.repeat(32)}`);
    expect(ref.familiar).to.equal('ab'.repeat(32));
    expect(() => parseImageReference(ref.familiar)).to.throw(ImageReferenceError, /image ID/);
  });

  for (const [input, registry, repository] of [
    ['docker.io/foo.com/x', 'foo.com', 'x'],
    ['docker.io/localhost/x:1', 'localhost', 'x'],
    ['index.docker.io/a.b/c/d@sha256:' + 'e'.repeat(64), 'a.b', 'c/d'],
  ] as const) {
    it(`the familiar form of ${input} names another registry (${registry}), as in Docker`, () => {
      const ref = parseImageReference(input);
      expect(ref.registry).to.equal('docker.io');
      expect(ref.familiar).to.equal(input.replace(/^(index\.)?docker\.io\//, ''));
      const again = parseImageReference(ref.familiar);
      expect(again).to.deep.include({ registry, repository });
      expect(again.name).to.not.equal(ref.name);
      // The canonical form keeps docker.io and round-trips.
      expect(parseImageReference(ref.canonical).name).to.equal(ref.name);
    });
  }

  it('the familiar form of docker.io/my_org.io/x names a registry that is no host, and is refused', () => {
    const ref = parseImageReference('docker.io/my_org.io/x');
    expect(ref).to.deep.include({ registry: 'docker.io', repository: 'my_org.io/x', familiar: 'my_org.io/x' });
    expect(() => parseImageReference(ref.familiar)).to.throw(ImageReferenceError, /registry host label "my_org"/);
  });

  it('throws nothing but ImageReferenceError, whatever the input', () => {
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 300, size: 'max' }),
      separatorHeavy(300),
      validReference.chain((valid) =>
        fc.tuple(fc.nat({ max: valid.length }), fc.string({ unit: 'binary', maxLength: 3 })).map(
          ([at, noise]) => valid.slice(0, at) + noise + valid.slice(at),
        ),
      ),
    );
    fc.assert(
      fc.property(anyString, (input) => {
        const outcome = parseOrError(input);
        if (outcome instanceof ImageReferenceError) {
          expect(outcome.input).to.equal(input);
          expect(outcome.reason).to.be.a('string').and.not.empty;
        } else {
          // Whatever is accepted is stable under re-parsing.
          expect(parseImageReference(outcome.canonical).name).to.equal(outcome.name);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects non-string input (untyped JSON) with ImageReferenceError', () => {
    fc.assert(
      fc.property(
        fc.anything().filter((value) => typeof value !== 'string'),
        (value) => {
          expect(() => parseImageReference(value as unknown as string)).to.throw(ImageReferenceError, /expected a string/);
        },
      ),
    );
  });

  it('an uppercase letter anywhere in the repository path is rejected with that reason', () => {
    fc.assert(
      fc.property(validReference, fc.nat(), fc.constantFrom('A', 'Q', 'Z'), (input, pick, upper) => {
        const ref = parseImageReference(input);
        const lowercaseAt = [...ref.repository].flatMap((ch, i) => (/[a-z]/.test(ch) ? [i] : []));
        fc.pre(lowercaseAt.length > 0);
        const i = lowercaseAt[pick % lowercaseAt.length]!;
        const repository = ref.repository.slice(0, i) + upper + ref.repository.slice(i + 1);
        const mutated = `${ref.registry}/${repository}${ref.tag === undefined ? '' : `:${ref.tag}`}`;
        expect(() => parseImageReference(mutated)).to.throw(ImageReferenceError, /uppercase letters are not allowed in the repository path/);
      }),
      { numRuns: 300 },
    );
  });

  describe('cost grows linearly with input length (no backtracking blow-up)', () => {
    /**
     * Time per parse, the minimum over several batches: the minimum is the measurement least disturbed by
     * other processes. The batch size is calibrated so that one batch of the short input takes ~3 ms.
     */
    function timePerParse(input: string, repetitions: number): number {
      let best = Number.POSITIVE_INFINITY;
      for (let trial = 0; trial < 7; trial++) {
        const start = performance.now();
        for (let i = 0; i < repetitions; i++) parseOrError(input);
        best = Math.min(best, (performance.now() - start) / repetitions);
      }
      return best;
    }

    function calibrate(input: string): number {
      let repetitions = 1;
      for (;;) {
        const start = performance.now();
        for (let i = 0; i < repetitions; i++) parseOrError(input);
        if (performance.now() - start >= 3 || repetitions >= 1 << 20) return repetitions;
        repetitions *= 2;
      }
    }

    /**
     * 20x the input (500 B -> 10 kB) must cost far less than the ~400x a quadratic parser would need; a linear
     * one needs ~20x at most (less when it stops early). A deliberately quadratic scan measured ~90-140x here.
     */
    const SMALL = 500;
    const LARGE = 10_000;
    const MAX_RATIO = 50;

    function ratio(small: string, large: string): number {
      parseOrError(large); // warm-up, so compilation is not measured
      const repetitions = calibrate(small);
      const tSmall = timePerParse(small, repetitions);
      const tLarge = timePerParse(large, Math.max(1, Math.ceil(repetitions / (LARGE / SMALL))));
      // Sub-microsecond parses are noise-dominated; a floor keeps the ratio meaningful.
      return tLarge / Math.max(tSmall, 0.0005);
    }

    const patterns: Record<string, (n: number) => string> = {
      'a run of "-" ending badly': (n) => `a${'-'.repeat(n - 2)}!`,
      'alternating a- ending badly': (n) => `${'a-'.repeat(n / 2)}!`,
      'doubled underscores': (n) => `${'a__'.repeat(Math.floor(n / 3))}_`,
      'many path components': (n) => `${'a/'.repeat(n / 2 - 1)}a:tag`,
      'many domain labels': (n) => `${'a.'.repeat(n / 2 - 2)}-/x`,
      'long bracketed IPv6 registry': (n) => `[${':'.repeat(n - 4)}]/x`,
      'long port': (n) => `host:${'1'.repeat(n - 7)}x/y`,
      'only separators': (n) => '/'.repeat(n),
      'only colons': (n) => ':'.repeat(n),
      'long tag': (n) => `a:${'b'.repeat(n - 2)}`,
      'long digest': (n) => `a@sha256:${'f'.repeat(n - 9)}`,
      'uppercase path': (n) => `a/${'A'.repeat(n - 2)}`,
      'long valid-looking path': (n) => `a.b/${'a-b.c_d/'.repeat(n / 8 - 1)}e`,
    };

    for (const [name, build] of Object.entries(patterns)) {
      it(`${name}: 10 kB costs < ${MAX_RATIO}x 500 B`, () => {
        const small = build(SMALL);
        const large = build(LARGE);
        expect(large.length).to.be.within(LARGE - 10, LARGE + 10);
        expect(ratio(small, large)).to.be.below(MAX_RATIO);
      });
    }

    it(`random separator-heavy strings: 10 kB costs < ${MAX_RATIO}x 500 B`, () => {
      fc.assert(
        fc.property(separatorHeavy(SMALL, 50), (base) => {
          const small = base.repeat(Math.ceil(SMALL / base.length)).slice(0, SMALL);
          const large = small.repeat(LARGE / SMALL);
          expect(ratio(small, large)).to.be.below(MAX_RATIO);
        }),
        { numRuns: 15 },
      );
    });
  });
});
