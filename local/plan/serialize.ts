import * as rpc from '@pulumi/pulumi/runtime/rpc';

/** Placeholder written wherever a resource input is a secret Output. */
export const SECRET_MASK = '[secret]';
/** Placeholder for values that are unknown at plan time. */
export const UNKNOWN_MARK = '[unknown]';

export type PlanValue = null | boolean | number | string | PlanValue[] | { [key: string]: PlanValue };

/**
 * Turns the wire form of resource properties (what the Pulumi SDK sends to the resource monitor,
 * as plain JavaScript) into plain JSON for the plan file. Secrets become "[secret]" without their
 * value ever being read; assets and archives become `{ "@asset"/"@archive": <path or text> }`;
 * resource references become their URN.
 */
export function toPlanValue(wire: unknown): PlanValue {
  if (wire === undefined || wire === null) return null;
  if (wire === rpc.unknownValue) return UNKNOWN_MARK;
  if (typeof wire === 'boolean' || typeof wire === 'number' || typeof wire === 'string') return wire;
  if (Array.isArray(wire)) return wire.map(toPlanValue);
  if (typeof wire !== 'object') return String(wire);
  const record = wire as Record<string, unknown>;
  switch (record[rpc.specialSigKey]) {
    case undefined:
      break;
    case rpc.specialSecretSig:
      return SECRET_MASK;
    case rpc.specialAssetSig:
      return { '@asset': toPlanValue(record['path'] ?? record['text'] ?? record['uri']) };
    case rpc.specialArchiveSig:
      if (record['assets'] !== undefined) return { '@archive': toPlanValue(record['assets']) };
      return { '@archive': toPlanValue(record['path'] ?? record['uri']) };
    case rpc.specialResourceSig:
      return toPlanValue(record['urn']);
    default:
      // Output values (only sent when the monitor supports them, which mocks do not) and future kinds.
      if ('secret' in record && record['secret'] === true) return SECRET_MASK;
      return 'value' in record ? toPlanValue(record['value']) : UNKNOWN_MARK;
  }
  const out: Record<string, PlanValue> = {};
  for (const key of Object.keys(record).sort()) {
    if (record[key] === undefined) continue;
    out[key] = toPlanValue(record[key]);
  }
  return out;
}

/** Every string leaf with its JSON-pointer-like path, for leak scans. */
export function* stringLeaves(value: PlanValue, path = ''): Generator<{ path: string; value: string }> {
  if (typeof value === 'string') {
    yield { path, value };
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* stringLeaves(item, `${path}/${index}`);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) yield* stringLeaves(item, `${path}/${key}`);
  }
}
