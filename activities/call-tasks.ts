import { insertCallTaskOnce, type CallTaskKind } from '../db/call-tasks';
import type { Sql } from '../db/sql';

export type { CallTaskKind };

export interface CallTaskRequest {
  idempotencyKey: string;
  tenantId: string;
  invoiceNumber: string;
  customerId: string;
  /** The collector known when the workflow started; the customer's current collector wins (portfolios move). */
  collectorId: string | null;
  dueAt: string;
  note: string;
  kind?: CallTaskKind;
  attempt?: number;
  parentTaskId?: number;
  workflowId?: string;
}

export function createCallTaskActivities(deps: { sql: Sql }) {
  return {
    /** Writes the task once per idempotency key (a cadence step, a follow-up of a task); a retry returns the task already written. */
    async createCallTask(req: CallTaskRequest): Promise<{ taskId: number; created: boolean; collectorId: string | null; dueAt: string }> {
      const { task, created } = await insertCallTaskOnce(deps.sql, {
        ...req,
        kind: req.kind ?? 'cadence',
        attempt: req.attempt ?? 1,
        parentTaskId: req.parentTaskId ?? null,
        workflowId: req.workflowId ?? null,
      });
      return { taskId: task.id, created, collectorId: task.collector_id, dueAt: task.due_at.toISOString() };
    },
  };
}
