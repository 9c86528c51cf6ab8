import { expect } from 'chai';
import { ImageReferenceError, parseImageReference } from '../../shared/image-reference';

const HEX = 'e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';

function reasonFor(input: string): string {
  try {
    parseImageReference(input);
  } catch (error) {
    expect(error).to.be.instanceOf(ImageReferenceError);
    return (error as ImageReferenceError).reason;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseImageReference', () => {
  describe('normalisation', () => {
    it('fills in Docker Hub and library/ for a bare name', () => {
      expect(parseImageReference('nginx')).to.deep.equal({
        registry: 'docker.io',
        repository: 'library/nginx',
        name: 'docker.io/library/nginx',
        canonical: 'docker.io/library/nginx:latest',
        familiar: 'nginx',
      });
    });

    it('keeps a private registry, tag and digest; the canonical form carries both', () => {
      const ref = parseImageReference(`myacr.azurecr.io/team/app:1.4.2@sha256:${HEX}`);
      expect(ref).to.deep.equal({
        registry: 'myacr.azurecr.io',
        repository: 'team/app',
        tag: '1.4.2',
        digest: `sha256:${HEX}`,
        name: 'myacr.azurecr.io/team/app',
        canonical: `myacr.azurecr.io/team/app:1.4.2@sha256:${HEX}`,
        familiar: `myacr.azurecr.io/team/app:1.4.2@sha256:${HEX}`,
      });
    });

    it('adds :latest only when there is neither tag nor digest', () => {
      expect(parseImageReference(`redis@sha256:${HEX}`).canonical).to.equal(`docker.io/library/redis@sha256:${HEX}`);
      expect(parseImageReference('redis:7').canonical).to.equal('docker.io/library/redis:7');
      expect(parseImageReference('redis').tag).to.equal(undefined);
    });

    it('shortens Docker Hub names to the familiar form', () => {
      expect(parseImageReference('index.docker.io/bitnami/redis:7').familiar).to.equal('bitnami/redis:7');
      expect(parseImageReference('docker.io/library/busybox:1.36').familiar).to.equal('busybox:1.36');
    });

    it('reads localhost, host:port and bracketed IPv6 first parts as registries', () => {
      expect(parseImageReference('localhost/app').registry).to.equal('localhost');
      expect(parseImageReference('registry:5000/app').registry).to.equal('registry:5000');
      expect(parseImageReference('[fc00::1]:5000/app').registry).to.equal('[fc00::1]:5000');
      expect(parseImageReference('team/app').registry).to.equal('docker.io');
    });
  });

  describe('rejections name the bad part', () => {
    it('empty input', () => {
      expect(reasonFor('')).to.equal('empty reference');
    });

    it('uppercase in the repository path, but not in the tag', () => {
      expect(reasonFor('team/MyApp')).to.match(/uppercase letters are not allowed in the repository path \("team\/MyApp"\)/);
      expect(parseImageReference('team/myapp:Release-1').tag).to.equal('Release-1');
    });

    it('the 255-character limit applies to the repository path, not the registry', () => {
      const path255 = `team/${'a'.repeat(250)}`;
      expect(parseImageReference(`${'r'.repeat(60)}.example.com/${path255}`).repository).to.equal(path255);
      expect(reasonFor(`example.com/${path255}b`)).to.equal('repository path longer than 255 characters (256)');
    });

    it('tags: at most 128 characters of [\\w.-], not starting with "." or "-"', () => {
      expect(parseImageReference(`app:${'t'.repeat(128)}`).tag).to.have.length(128);
      expect(reasonFor(`app:${'t'.repeat(129)}`)).to.match(/tag is 129 characters; it must match \[\\w\]\[\\w.-\]\{0,127\}/);
      expect(reasonFor('app:.hidden')).to.match(/tag "\.hidden" must match \[\\w\]\[\\w.-\]\{0,127\}/);
      expect(reasonFor('app:')).to.equal('tag after ":" is empty');
    });

    it('digests: sha256 with 64 lowercase hex only', () => {
      expect(reasonFor(`app@sha256:${HEX.toUpperCase()}`)).to.match(/^digest must be sha256:<64 hex>/);
      expect(reasonFor(`app@sha256:${HEX.slice(1)}`)).to.match(/got 63 characters/);
      expect(reasonFor(`app@sha512:${HEX}${HEX}`)).to.match(/only sha256 digests are supported, not "sha512"/);
      expect(reasonFor(`app@sha256:${HEX}@sha256:${HEX}`)).to.match(/more than one "@"/);
    });

    it('registries: labels, ports and IPv6 brackets', () => {
      expect(reasonFor('my_registry.io/app')).to.match(/registry host label "my_registry" in "my_registry.io"/);
      expect(reasonFor('registry:http/app')).to.match(/registry port "http" in "registry:http" must be digits/);
      expect(reasonFor('fc00::1:5000/app')).to.match(/write IPv6 registries in brackets/);
      expect(reasonFor('[fc00::1]:5000')).to.match(/must be followed by "\/<repository>"/);
      expect(reasonFor('https://registry.example.com/app')).to.match(/no URL scheme; drop "https:\/\/"/);
    });

    it('path components: characters and separators', () => {
      expect(reasonFor('team/app$')).to.match(/component "app\$" contains "\$"/);
      expect(reasonFor('team/app-')).to.match(/component "app-" must start and end with a lowercase letter or digit/);
      expect(reasonFor('team//app')).to.match(/empty component/);
    });

    it('a bare 64-hex string is an image ID', () => {
      expect(reasonFor(HEX)).to.match(/image ID, not a reference/);
      expect(parseImageReference(`${HEX}:tag`).repository).to.equal(`library/${HEX}`);
    });

    it('the error carries the input and shortens it in the message', () => {
      const long = `x/${'A'.repeat(500)}`;
      try {
        parseImageReference(long);
        expect.fail('must throw');
      } catch (error) {
        const e = error as ImageReferenceError;
        expect(e).to.be.instanceOf(ImageReferenceError);
        expect(e.name).to.equal('ImageReferenceError');
        expect(e.input).to.equal(long);
        expect(e.message.length).to.be.below(600);
        expect(e.message).to.include('...');
      }
    });
  });
});
