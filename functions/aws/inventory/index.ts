/** Bundle entry of the inventory Lambdas (planner, collector, evaluator). */
import { loadInventoryEnv } from './from-env';

export { planner, collector, evaluator, postureHookFromEnv, securityEventsPostureHook, loadInventoryEnv } from './from-env';

// A wrong environment stops the function at init with a message naming the variable, as the other bundles do.
loadInventoryEnv();
