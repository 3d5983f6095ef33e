import type { Sql } from '../db/sql';

export interface CallTaskRequest {
  idempotencyKey: string;
  tenantId: string;
  invoiceNumber: string;
  customerId: string;
  collectorId: string | null;
  dueAt: string;
  note: string;
}

export function createCallTaskActivities(deps: { sql: Sql }) {
  return {
    /** Writes the task once per cadence step; a retry returns the task already written. */
    async createCallTask(req: CallTaskRequest): Promise<{ taskId: number; created: boolean }> {
      const [inserted] = await deps.sql<{ id: number }[]>`
        insert into call_tasks (idempotency_key, tenant_id, invoice_number, customer_id, collector_id, due_at, note)
        values (${req.idempotencyKey}, ${req.tenantId}, ${req.invoiceNumber}, ${req.customerId}, ${req.collectorId}, ${req.dueAt}, ${req.note})
        on conflict (idempotency_key) do nothing
        returning id`;
      if (inserted) return { taskId: inserted.id, created: true };
      const [existing] = await deps.sql<{ id: number }[]>`select id from call_tasks where idempotency_key = ${req.idempotencyKey}`;
      return { taskId: existing!.id, created: false };
    },
  };
}
