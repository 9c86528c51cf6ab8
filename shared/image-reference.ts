/** A parsed, normalised container image reference (Docker's `ParseNormalizedNamed` + `TagNameOnly`). */
export interface ImageReference {
  /** Docker's domain, e.g. `docker.io`, `myacr.azurecr.io`, `localhost:5000`. */
  registry: string;
  /** Docker's path, e.g. `library/nginx`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` */
  digest?: string;
  /** `registry/repository` */
  name: string;
  /** `name[:tag][@digest]`, with `:latest` only when there is neither tag nor digest. */
  canonical: string;
  /** Docker's short form, e.g. `nginx`, `bitnami/redis:7`. */
  familiar: string;
}

export class ImageReferenceError extends Error {
  override readonly name = 'ImageReferenceError';
  constructor(readonly input: string, readonly reason: string) {
    super(`invalid image reference ${JSON.stringify(input.length > 200 ? `${input.slice(0, 200)}...` : input)}: ${reason}`);
  }
}

/*
 * The grammar, in the pieces Go's distribution/reference names in its regexp.go:
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain "/"] path-component ("/" path-component)*
 *   domain           := (domain-component ("." domain-component)* | "[" ipv6 "]") [":" port]
 *   path-component   := alphanumeric (separator alphanumeric)*
 *
 * Instead of one big regexp over the whole input, the input is first split at the only characters that can
 * delimit its parts ('@', the last ':' after the last '/', '/', '.', ':'), and each part is then checked by
 * the anchored piece that describes it. Every split is a single indexOf/split pass, every part is checked
 * once, and no piece nests quantifiers over overlapping characters, so the cost stays linear in the input
 * length whatever the input looks like. It also tells the user exactly which part is wrong.
 */
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6_ADDRESS = '[a-fA-F0-9:]+';
const PORT = '[0-9]+';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST_ALGORITHM = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*';
const SHA256_HEX = '[a-f0-9]{64}';
/** Docker refuses a bare 64-hex string: it is an image ID, not a name. */
const IDENTIFIER = '[a-f0-9]{64}';

const anchored = (source: string): RegExp => new RegExp(`^${source}$`);

const PATH_COMPONENT_RE = anchored(PATH_COMPONENT);
/** Fast path for the whole (length-checked, so bounded) path; the per-component checks only explain failures. */
const REPOSITORY_PATH_RE = anchored(`${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`);
const DOMAIN_COMPONENT_RE = anchored(DOMAIN_COMPONENT);
const IPV6_ADDRESS_RE = anchored(IPV6_ADDRESS);
const PORT_RE = anchored(PORT);
const TAG_RE = anchored(TAG);
const DIGEST_ALGORITHM_RE = anchored(DIGEST_ALGORITHM);
const SHA256_HEX_RE = anchored(SHA256_HEX);
const IDENTIFIER_RE = anchored(IDENTIFIER);
const PATH_CHARACTER_RE = /[^a-z0-9._-]/;
const UPPERCASE_RE = /[A-Z]/;
const URL_SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

export const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_REPOSITORY_PREFIX = 'library/';
const LOCALHOST = 'localhost';
/** Docker limits the repository path (not the registry) to 255 characters. */
export const REPOSITORY_PATH_MAX = 255;
const TAG_MAX = 128;

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

const REGISTRY_RULE =
  '(the first part of a name is read as a registry when it contains "." or ":", is "localhost" or has uppercase letters)';

/** Docker reads the first path part as a registry only when it looks like a host (or is uppercase). */
function looksLikeRegistry(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === LOCALHOST || first.toLowerCase() !== first;
}

/** Returns a reason when `domain` is not a registry host[:port], or undefined when it is one. */
function registryProblem(domain: string): string | undefined {
  let host: string;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close === -1) return `registry ${quote(domain)} opens "[" without closing "]"`;
    const address = domain.slice(1, close);
    if (!IPV6_ADDRESS_RE.test(address)) {
      return `registry ${quote(domain)} is not a bracketed IPv6 address (only hex digits and ":" inside "[...]")`;
    }
    const after = domain.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return `registry ${quote(domain)} has ${quote(after)} after "]"; only ":<port>" may follow`;
      port = after.slice(1);
    }
    host = domain.slice(0, close + 1);
  } else {
    const colon = domain.indexOf(':');
    host = colon === -1 ? domain : domain.slice(0, colon);
    port = colon === -1 ? undefined : domain.slice(colon + 1);
    if (host === '') return `registry ${quote(domain)} has no host name before ":"`;
    for (const component of host.split('.')) {
      if (!DOMAIN_COMPONENT_RE.test(component)) {
        return component === ''
          ? `registry host ${quote(host)} has an empty label (".." or a leading/trailing ".")`
          : `registry host label ${quote(component)} in ${quote(host)} must be letters, digits and "-", not starting or ending with "-"`;
      }
    }
  }
  if (port !== undefined && !PORT_RE.test(port)) {
    const hint = port.includes(':') ? '; write IPv6 registries in brackets, e.g. [fc00::1]:5000' : '';
    return port === ''
      ? `registry ${quote(domain)} has an empty port after ":"`
      : `registry port ${quote(port)} in ${quote(domain)} must be digits${hint}`;
  }
  return undefined;
}

/** Returns a reason when `path` is not a valid repository path, or undefined when it is one. */
function repositoryProblem(path: string): string | undefined {
  if (path.length > REPOSITORY_PATH_MAX) {
    return `repository path longer than ${REPOSITORY_PATH_MAX} characters (${path.length})`;
  }
  if (REPOSITORY_PATH_RE.test(path)) return undefined;
  for (const component of path.split('/')) {
    if (component === '') {
      return `repository path ${quote(path)} has an empty component (a leading, trailing or doubled "/")`;
    }
    if (PATH_COMPONENT_RE.test(component)) continue;
    if (UPPERCASE_RE.test(component)) {
      return `uppercase letters are not allowed in the repository path (${quote(path)}); only the registry and the tag may use them`;
    }
    const bad = PATH_CHARACTER_RE.exec(component);
    if (bad) {
      return `repository path component ${quote(component)} contains ${quote(bad[0])}; only lowercase letters, digits, ".", "_" and "-" are allowed`;
    }
    return `repository path component ${quote(component)} must start and end with a lowercase letter or digit, with one ".", one or two "_", or any number of "-" between them`;
  }
  return undefined;
}

function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'tag after ":" is empty';
  if (tag.length > TAG_MAX) return `tag is ${tag.length} characters; it must match [\\w][\\w.-]{0,127} (at most ${TAG_MAX})`;
  if (!TAG_RE.test(tag)) {
    return `tag ${quote(tag)} must match [\\w][\\w.-]{0,127} (letters, digits, "_", "." and "-", not starting with "." or "-")`;
  }
  return undefined;
}

function digestProblem(digest: string): string | undefined {
  if (digest.includes('@')) return 'more than one "@" (only one digest may follow the name)';
  const colon = digest.indexOf(':');
  if (colon === -1) return `digest ${quote(digest)} must be sha256:<64 hex>`;
  const algorithm = digest.slice(0, colon);
  if (algorithm !== 'sha256') {
    return DIGEST_ALGORITHM_RE.test(algorithm)
      ? `only sha256 digests are supported, not ${quote(algorithm)}; digest must be sha256:<64 hex>`
      : `digest algorithm ${quote(algorithm)} is malformed; digest must be sha256:<64 hex>`;
  }
  const hex = digest.slice(colon + 1);
  if (!SHA256_HEX_RE.test(hex)) {
    return `digest must be sha256:<64 hex> (lowercase); got ${hex.length} characters after "sha256:"`;
  }
  return undefined;
}

function familiarName(registry: string, repository: string): string {
  if (registry !== DEFAULT_REGISTRY) return `${registry}/${repository}`;
  if (repository.startsWith(OFFICIAL_REPOSITORY_PREFIX)) {
    const short = repository.slice(OFFICIAL_REPOSITORY_PREFIX.length);
    if (!short.includes('/')) return short;
  }
  return repository;
}

/**
 * Parses an image reference the way Docker does (`ParseNormalizedNamed`): `nginx` becomes
 * `docker.io/library/nginx`, `index.docker.io` becomes `docker.io`, and the canonical form carries `:latest`
 * only when there is neither a tag nor a digest. Only sha256 digests are accepted.
 *
 * Deliberate difference: when the first part looks like a registry (it has a "." or ":") but is not a valid
 * host, e.g. `foo_bar.com/app`, Docker falls back to a name with no registry at all; this parser rejects it,
 * because such a name cannot be pulled from anywhere.
 *
 * @throws ImageReferenceError naming the part that is wrong and what it must look like.
 */
export function parseImageReference(input: string): ImageReference {
  if (typeof input !== 'string') {
    // Object.prototype.toString cannot be overridden by the value, unlike String(value).
    const shown = typeof input === 'object' || typeof input === 'function' ? Object.prototype.toString.call(input) : String(input);
    throw new ImageReferenceError(shown, `expected a string, got ${input === null ? 'null' : typeof input}`);
  }
  const fail = (reason: string): never => {
    throw new ImageReferenceError(input, reason);
  };
  if (input === '') fail('empty reference');
  if (input.length === 64 && IDENTIFIER_RE.test(input)) {
    fail('a bare 64-character hex string is an image ID, not a reference; name the repository, e.g. repo@sha256:<hex>');
  }
  const scheme = input.includes('://') ? URL_SCHEME_RE.exec(input) : null;
  if (scheme) fail(`a reference has no URL scheme; drop ${quote(scheme[0])}`);

  // The digest is everything after the first '@' (no other part may contain '@').
  const at = input.indexOf('@');
  const beforeDigest = at === -1 ? input : input.slice(0, at);
  const digest = at === -1 ? undefined : input.slice(at + 1);

  // A tag can only follow the last ':' when that ':' is after the last '/': earlier ':'s belong to the registry.
  const lastColon = beforeDigest.lastIndexOf(':');
  const hasTag = lastColon > beforeDigest.lastIndexOf('/');
  const namePart = hasTag ? beforeDigest.slice(0, lastColon) : beforeDigest;
  const tag = hasTag ? beforeDigest.slice(lastColon + 1) : undefined;

  if (namePart === '') fail(`missing repository name before ${quote(hasTag ? ':' : '@')}`);
  if (input.startsWith('[') && !namePart.includes('/')) {
    fail('a bracketed IPv6 registry must be followed by "/<repository>", e.g. [fc00::1]:5000/app');
  }

  const slash = namePart.indexOf('/');
  let registry = DEFAULT_REGISTRY;
  let repository = namePart;
  if (slash !== -1 && looksLikeRegistry(namePart.slice(0, slash))) {
    registry = namePart.slice(0, slash);
    repository = namePart.slice(slash + 1);
    const problem = registryProblem(registry);
    if (problem !== undefined) fail(`${problem} ${REGISTRY_RULE}`);
    if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  }
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = OFFICIAL_REPOSITORY_PREFIX + repository;

  const pathProblem = repositoryProblem(repository);
  if (pathProblem !== undefined) fail(pathProblem);
  if (tag !== undefined) {
    const problem = tagProblem(tag);
    if (problem !== undefined) fail(problem);
  }
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) fail(problem);
  }

  const name = `${registry}/${repository}`;
  const suffix = `${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
  const reference: ImageReference = {
    registry,
    repository,
    name,
    canonical: name + (suffix === '' ? ':latest' : suffix),
    familiar: familiarName(registry, repository) + suffix,
  };
  if (tag !== undefined) reference.tag = tag;
  if (digest !== undefined) reference.digest = digest;
  return reference;
}
