import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * Stack config as the Pulumi CLI hands it to a program: one string per top-level key (structured
 * values as JSON text), plus the keys holding a secret. Secret leaves are written in two forms:
 * - `{ secure: "<ciphertext>" }` (what `Pulumi.<stack>.yaml` holds): replaced by a placeholder
 *   such as `plan-secret-1a2b3c4d`, because the plan never decrypts anything;
 * - `{ secret: "<plaintext>" }` (tests): the plaintext is used, and still marked secret.
 * Every secret value is remembered so the plan can prove none reaches a plain input or output.
 */
export interface ProgramConfig {
  config: Record<string, string>;
  secretKeys: string[];
  /** Secret plaintexts (or placeholders) by their config path, for leak scanning. */
  secretValues: { path: string; value: string }[];
}

export class PlanConfigError extends Error {
  override readonly name = 'PlanConfigError';
}

function isSecretLeaf(value: unknown): value is { secure: string } | { secret: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'secure' || keys[0] === 'secret');
}

/** Placeholders stay shaped like what the key usually holds, so config validation still passes. */
function placeholderFor(path: string): string {
  const token = `plan-secret-${createHash('sha256').update(path).digest('hex').slice(0, 8)}`;
  return /url$/i.test(path) ? `https://${token}.invalid/` : token;
}

export function toProgramConfig(raw: Record<string, unknown>): ProgramConfig {
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const secretValues: { path: string; value: string }[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (!/^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$/.test(key)) {
      throw new PlanConfigError(`config key "${key}" is not of the form <namespace>:<name> (e.g. shipscan:aws, aws:region)`);
    }
    let holdsSecret = false;
    const reveal = (node: unknown, path: string): unknown => {
      if (isSecretLeaf(node)) {
        holdsSecret = true;
        const plaintext = 'secret' in node ? node.secret : placeholderFor(path);
        if (typeof plaintext !== 'string') throw new PlanConfigError(`secret config value at ${path} must be a string`);
        secretValues.push({ path, value: plaintext });
        return plaintext;
      }
      if (Array.isArray(node)) return node.map((item, index) => reveal(item, `${path}[${index}]`));
      if (node !== null && typeof node === 'object') {
        return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, reveal(v, `${path}.${k}`)]));
      }
      return node;
    };
    const plain = reveal(value, key);
    if (plain === undefined || plain === null) continue;
    config[key] = typeof plain === 'string' ? plain : typeof plain === 'object' ? JSON.stringify(plain) : String(plain);
    if (holdsSecret) secretKeys.push(key);
  }
  return { config, secretKeys, secretValues };
}

/** Reads the `config:` map of `Pulumi.<stack>.yaml`. */
export function readStackFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new PlanConfigError(`stack file ${file} does not exist (expected Pulumi.<stack>.yaml in the project root)`);
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    // The parser's first line says what and where ("... at line 4, column 3:"); the code frame after it is noise here.
    if (error instanceof Error && error.name === 'YAMLParseError') throw new PlanConfigError(`${file}: not valid YAML: ${error.message.split('\n')[0]!.replace(/:$/, '')}`);
    throw error;
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) throw new PlanConfigError(`${file}: expected a YAML mapping`);
  const config = (document as Record<string, unknown>)['config'] ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new PlanConfigError(`${file}: "config" must be a mapping of key: value`);
  }
  return config as Record<string, unknown>;
}
