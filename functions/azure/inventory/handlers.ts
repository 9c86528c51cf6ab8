import { randomUUID } from 'node:crypto';
import type { InvocationContext, Timer } from '@azure/functions';
import { createLogger } from '../log';
import type { Telemetry } from '../telemetry';
import { InventoryRequestError, parseInventoryRequest, requestOf, type InventoryRequest } from './request';
import { runInventory, type InventoryDeps, type RunReport } from './run';
import type { InventorySettings } from './settings';

/**
 * The Azure inventory's three functions: two timers (the weekly inventory and the daily evaluation, both over
 * everything configured) and the `inventory-requests` queue for manual runs. Handlers are thin: parse, run,
 * log what the run did.
 */

export const INVENTORY_FUNCTION_NAMES = {
  inventorySchedule: 'inventorySchedule',
  evaluationSchedule: 'evaluationSchedule',
  inventoryRequest: 'inventoryRequest',
} as const;

export const INVENTORY_REJECTED_EVENT = 'InventoryRequestRejected' as const;

export type TimerHandler = (timer: Timer, context: InvocationContext) => Promise<void>;

export interface TimerDefinition {
  name: string;
  /** NCRONTAB, or `%SETTING%` naming the app setting that holds it (how the host reads it in Azure). */
  schedule: string;
  handler: TimerHandler;
}

export interface InventoryHandlerDeps extends InventoryDeps {
  telemetry: Telemetry;
  /** Called with each run's report (the local stack prints from it). */
  onReport?: (report: RunReport) => void;
}

function runIdOf(prefix: string, at: Date): string {
  return `${prefix}-${at.toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
}

function summary(report: RunReport): Record<string, unknown> {
  return {
    runId: report.runId,
    mode: report.mode,
    complete: report.complete,
    queries: report.collect?.queries,
    pages: report.collect?.pages,
    rows: report.collect?.rows,
    deleted: report.deleted,
    resources: report.evaluation.resources,
    evaluations: report.evaluation.evaluations,
    transitions: report.transitions.length,
    digest: report.digest,
    errors: report.errors.slice(0, 5),
  };
}

export function allRequest(settings: InventorySettings, mode: InventoryRequest['mode']): InventoryRequest {
  return { ...requestOf({ service: 'all', mode }, { subscriptions: settings.subscriptions, types: settings.types, disabledRules: settings.findings.disabledRules }) };
}

export function createInventoryTimer(mode: InventoryRequest['mode'], settings: InventorySettings, deps: InventoryHandlerDeps): TimerHandler {
  return async (timer, context) => {
    const log = createLogger(context, { component: 'inventory', function: context.functionName });
    const now = deps.now?.() ?? new Date();
    const report = await runInventory(allRequest(settings, mode), runIdOf(mode === 'inventory' ? 'weekly' : 'daily', now), 'schedule', deps);
    deps.onReport?.(report);
    log.info(`scheduled ${mode} run ${report.runId} done${timer.isPastDue ? ' (past due)' : ''}`, summary(report));
  };
}

export function createInventoryQueueHandler(settings: InventorySettings, deps: InventoryHandlerDeps): (message: unknown, context: InvocationContext) => Promise<RunReport | undefined> {
  return async (message, context) => {
    const log = createLogger(context, { component: 'inventory', function: context.functionName });
    let request: InventoryRequest;
    try {
      request = parseInventoryRequest(message, { subscriptions: settings.subscriptions, types: settings.types, disabledRules: settings.findings.disabledRules });
    } catch (error) {
      if (!(error instanceof InventoryRequestError)) throw error;
      // A request that cannot be run never will: retrying it would only walk it to the poison queue.
      log.warn(`inventory request rejected: ${error.message}`);
      deps.telemetry.event(INVENTORY_REJECTED_EVENT, { Reason: error.message.slice(0, 1000) });
      return undefined;
    }
    // The message id names the run, so a redelivered message is the same run (its digest goes out once).
    const messageId = (context.triggerMetadata as Record<string, unknown> | undefined)?.id;
    const runId = typeof messageId === 'string' && messageId ? `manual-${messageId}` : runIdOf('manual', deps.now?.() ?? new Date());
    const report = await runInventory(request, runId, 'manual', deps);
    deps.onReport?.(report);
    log.info(`manual ${request.mode} run ${report.runId} done`, summary(report));
    return report;
  };
}
