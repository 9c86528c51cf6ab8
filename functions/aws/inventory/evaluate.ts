import { evaluatePosture, type PostureRegistry } from '../../../shared/rules/aws/posture/registry';
import type { Failure } from '../../../shared/rules/aws/posture/rules/common';
import { inScope, type RuleScope } from '../../../shared/rules/aws/posture/scope';
import type { AwsPostureContext, AwsPostureRule, PostureResource } from '../../../shared/rules/aws/posture/types';

/**
 * What the rules say about one stored resource, shared by the scheduled evaluation and the real-time path:
 * which rules decide its findings this time (`decided`, with why a rule's open findings would resolve) and
 * what fails. A rule that errors decides nothing (its findings stay as they are); a rule out of its scope
 * or not applicable decides "nothing fails" (its open findings resolve with that reason).
 */

export interface RuleDecision {
  rule: AwsPostureRule;
  failures: Failure[];
  /** Why an open finding of this rule no longer failing is resolved. */
  resolvedReason: string;
}

export interface ResourceEvaluation {
  decisions: RuleDecision[];
  /** Rules that threw (a bug): counted, their findings untouched. */
  errors: { ruleId: string; reason: string }[];
  /** Rule evaluations run (resource x rule): the throughput figure. */
  evaluations: number;
}

export interface EvaluateOptions {
  registry: PostureRegistry;
  /** Only these rules (a one-rule or one-service run); all of the type's rules when absent. */
  ruleIds?: ReadonlySet<string>;
  scopes: Readonly<Record<string, RuleScope>>;
  context: AwsPostureContext;
}

export function rulesToRun(type: string, options: Pick<EvaluateOptions, 'registry' | 'ruleIds'>): readonly AwsPostureRule[] {
  const all = options.registry.rulesFor(type);
  return options.ruleIds ? all.filter((rule) => options.ruleIds!.has(rule.id)) : all;
}

export function evaluateResource(resource: PostureResource, options: EvaluateOptions): ResourceEvaluation {
  const rules = rulesToRun(resource.type, options);
  const decisions: RuleDecision[] = [];
  const errors: ResourceEvaluation['errors'] = [];
  const inScopeRules: AwsPostureRule[] = [];
  for (const rule of rules) {
    if (inScope(options.scopes[rule.id], resource)) inScopeRules.push(rule);
    else decisions.push({ rule, failures: [], resolvedReason: 'out of rule scope' });
  }
  const outcomes = evaluatePosture(resource, inScopeRules, options.context);
  outcomes.forEach((outcome, index) => {
    const rule = inScopeRules[index]!;
    if (outcome.status === 'error') errors.push({ ruleId: rule.id, reason: outcome.reason ?? 'error' });
    else decisions.push({ rule, failures: outcome.failures, resolvedReason: outcome.status === 'not-applicable' ? `rule not applicable: ${outcome.reason ?? ''}`.trim() : 'fixed' });
  });
  return { decisions, errors, evaluations: inScopeRules.length };
}
