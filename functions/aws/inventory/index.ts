/** Bundle entry of the inventory Lambdas (planner, collector, evaluator); the environment is validated at first use. */
export { planner, collector, evaluator, postureHookFromEnv, loadInventoryEnv } from './from-env';
