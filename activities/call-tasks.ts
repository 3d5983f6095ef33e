import type { Sql } from '../db/sql';

export type CallTaskKind = 'cadence' | 'manual' | 'follow_up' | 'callback' | 'broken_promise' | 'dispute_rejected';

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
      const [inserted] = await deps.sql<{ id: number; collector_id: string | null; due_at: Date }[]>`
        insert into call_tasks (idempotency_key, tenant_id, invoice_number, customer_id, collector_id, due_at, note, kind, attempt, parent_task_id, workflow_id)
        values (${req.idempotencyKey}, ${req.tenantId}, ${req.invoiceNumber}, ${req.customerId},
                coalesce((select collector_id from customers where tenant_id = ${req.tenantId} and customer_id = ${req.customerId}), ${req.collectorId}),
                ${req.dueAt}, ${req.note}, ${req.kind ?? 'cadence'}, ${req.attempt ?? 1}, ${req.parentTaskId ?? null}, ${req.workflowId ?? null})
        on conflict (idempotency_key) do nothing
        returning id, collector_id, due_at`;
      const row = inserted ?? (await deps.sql<{ id: number; collector_id: string | null; due_at: Date }[]>`
        select id, collector_id, due_at from call_tasks where idempotency_key = ${req.idempotencyKey}`)[0]!;
      return { taskId: row.id, created: inserted !== undefined, collectorId: row.collector_id, dueAt: row.due_at.toISOString() };
    },
  };
}
