import type { TrailShape } from '../shapes';

/**
 * Whether a trail records every management event (read and write). Basic selectors: one with management
 * events on (the default when none is stored) and ReadWriteType All. Advanced selectors: one selecting
 * eventCategory Management without a readOnly field (which would keep only reads or only writes).
 */
export function recordsAllManagementEvents(trail: TrailShape): boolean {
  const basic = trail.EventSelectors.EventSelectors;
  const advanced = trail.EventSelectors.AdvancedEventSelectors;
  if (advanced && advanced.length > 0) {
    return advanced.some((selector) => {
      const fields = selector.FieldSelectors ?? [];
      const management = fields.some((f) => f.Field === 'eventCategory' && (f.Equals ?? []).includes('Management'));
      return management && !fields.some((f) => f.Field === 'readOnly');
    });
  }
  if (!basic || basic.length === 0) return true;
  return basic.some((s) => s.IncludeManagementEvents !== false && (s.ReadWriteType ?? 'All') === 'All');
}
