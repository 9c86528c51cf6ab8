import { expect } from 'chai';
import { ImageReferenceError, parseImageReference } from '../../shared/image-reference';
import { loadCorpus } from '../support/corpus';

/** One case of Go distribution/reference's own test tables, with that library's computed answers. */
interface DistributionCase {
  input: string;
  valid: boolean;
  domain: string | null;
  path: string | null;
  tag: string | null;
  digest: string | null;
  name: string | null;
  normalized: string | null;
  familiar: string | null;
  error: string | null;
}

const CASES = loadCorpus<DistributionCase[]>('reference/distribution-reference-cases.json');

function label(input: string): string {
  return JSON.stringify(input.length > 70 ? `${input.slice(0, 70)}...(${input.length} chars)` : input);
}

/** The reason we give must point at the same problem Docker reports, in words a person can act on. */
function expectedReason(goError: string): RegExp | undefined {
  if (goError.includes('must be lowercase')) return /uppercase letters are not allowed in the repository path/;
  if (goError.includes('must not be more than 255 characters')) return /repository path longer than 255 characters/;
  if (goError.includes('invalid checksum digest length')) return /digest must be sha256:<64 hex>/;
  if (goError.includes('unsupported digest algorithm')) return /only sha256 digests are supported|digest must be sha256/;
  if (goError.includes('64-byte hexadecimal')) return /64-character hex string is an image ID/;
  return undefined;
}

describe('parseImageReference agrees with Go distribution/reference (corpus)', () => {
  it('loads all 174 cases', () => {
    expect(CASES).to.have.length(174);
  });

  CASES.forEach((c, index) => {
    if (c.valid) {
      it(`#${index} accepts ${label(c.input)}`, () => {
        const ref = parseImageReference(c.input);
        expect(ref.registry, 'domain').to.equal(c.domain);
        expect(ref.repository, 'path').to.equal(c.path);
        expect(ref.tag, 'tag').to.equal(c.tag ?? undefined);
        expect(ref.digest, 'digest').to.equal(c.digest ?? undefined);
        expect(ref.name, 'name').to.equal(c.name);
        expect(ref.canonical, 'normalized').to.equal(c.normalized);
        expect(ref.familiar, 'familiar').to.equal(c.familiar);
      });
    } else {
      it(`#${index} rejects ${label(c.input)}`, () => {
        let thrown: unknown;
        try {
          parseImageReference(c.input);
        } catch (error) {
          thrown = error;
        }
        expect(thrown, 'must throw').to.be.instanceOf(ImageReferenceError);
        const error = thrown as ImageReferenceError;
        expect(error.input).to.equal(c.input);
        expect(error.reason).to.be.a('string').and.not.empty;
        const reason = expectedReason(c.error ?? '');
        if (reason) expect(error.reason).to.match(reason);
      });
    }
  });
});
