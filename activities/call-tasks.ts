import { insertCallTaskOnce, type CallTaskKind, type NewCallTask } from '../db/call-tasks';
import type { Sql } from '../db/sql';

export type { CallTaskKind };

/** A task to write; what is left out defaults to a first cadence call of its own. */
export interface CallTaskRequest extends Omit<NewCallTask, 'kind' | 'attempt' | 'parentTaskId' | 'workflowId'> {
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
