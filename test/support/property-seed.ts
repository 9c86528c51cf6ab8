/**
 * Property tests run the same cases on every machine: a red CI run can be reproduced, and a green one
 * means the same inputs passed. `FUZZ_SEED=<n>` searches elsewhere by hand; a test that sets its own
 * seed keeps it.
 */
import fc from 'fast-check';

export const PROPERTY_SEED = Number(process.env.FUZZ_SEED ?? 20261203);

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: PROPERTY_SEED });
