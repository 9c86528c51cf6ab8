/** How the client proves who it is. Passed in by the caller (from Key Vault / Secrets Manager), never read from env. */
export type QualysCredentials =
  | { kind: 'token'; token: string }
  | { kind: 'password'; username: string; password: string };

/** Qualys documents a 4-hour JWT lifetime. */
export const JWT_LIFETIME_MS = 4 * 3600 * 1000;

/** Reads `exp` from a JWT payload when it has one; the token is not verified (the server does that). */
export function jwtExpiry(jwt: string): number | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
