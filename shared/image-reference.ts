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
