/**
 * A last line of defence for text a scanner reports about secrets (titles, locations): whatever a scanner
 * release prints, the value of a key never reaches a result, a finding or a log. Known shapes are masked: AWS
 * access key ids, PEM private key blocks (or a dangling BEGIN line), and `secret=...`-style assignments.
 */
const PATTERNS: readonly RegExp[] = [
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(aws_secret_access_key|secret|password|passwd|token|api[_-]?key)(\s*[:=]\s*)("[^"]*"|'[^']*'|\S+)/gi,
];

export const REDACTED = '[REDACTED]';

export function redactSecretText(text: string): string {
  let out = text;
  out = out.replace(PATTERNS[0]!, REDACTED);
  out = out.replace(PATTERNS[1]!, REDACTED);
  out = out.replace(PATTERNS[2]!, (_match, name: string, sep: string) => `${name}${sep}${REDACTED}`);
  return out;
}
