import type { Db } from './sql';

/** Calls for collectors (call_tasks): from cadence steps, follow-ups of outcomes, people's own. */

export type CallTaskKind = 'cadence' | 'manual' | 'follow_up' | 'callback' | 'broken_promise' | 'dispute_rejected';

export interface CallTaskRow {
  id: number;
  idempotency_key: string | null;
  tenant_id: string;
  invoice_number: string;
  customer_id: string;
  collector_id: string | null;
  due_at: Date;
  status: 'open' | 'done' | 'cancelled';
  note: string;
  kind: CallTaskKind;
  attempt: number;
  parent_task_id: number | null;
  workflow_id: string | null;
  created_by: string;
  outcome: string | null;
  outcome_note: string | null;
  outcome_details: unknown;
  completed_at: Date | null;
  completed_by: string | null;
  cancelled_reason: string | null;
  created_at: Date;
}

export interface NewCallTask {
  idempotencyKey: string;
  tenantId: string;
  invoiceNumber: string;
  customerId: string;
  /** The collector known when the workflow started; the customer's current collector wins (portfolios move). */
  collectorId: string | null;
  dueAt: string;
  note: string;
  kind: CallTaskKind;
  attempt: number;
  parentTaskId: number | null;
  workflowId: string | null;
}

type TaskRef = Pick<CallTaskRow, 'id' | 'collector_id' | 'due_at'>;

/** Writes the task once per idempotency key; a repeat returns the task already written (created: false). */
export async function insertCallTaskOnce(db: Db, t: NewCallTask): Promise<{ task: TaskRef; created: boolean }> {
  const [inserted] = await db<TaskRef[]>`
    insert into call_tasks (idempotency_key, tenant_id, invoice_number, customer_id, collector_id, due_at, note, kind, attempt, parent_task_id, workflow_id)
    values (${t.idempotencyKey}, ${t.tenantId}, ${t.invoiceNumber}, ${t.customerId},
            coalesce((select collector_id from customers where tenant_id = ${t.tenantId} and customer_id = ${t.customerId}), ${t.collectorId}),
            ${t.dueAt}, ${t.note}, ${t.kind}, ${t.attempt}, ${t.parentTaskId}, ${t.workflowId})
    on conflict (idempotency_key) do nothing
    returning id, collector_id, due_at`;
  if (inserted) return { task: inserted, created: true };
  const [existing] = await db<TaskRef[]>`select id, collector_id, due_at from call_tasks where idempotency_key = ${t.idempotencyKey}`;
  return { task: existing!, created: false };
}

/** The invoice's open tasks leave the worklist, saying why (the invoice closed). */
export async function cancelOpenCallTasks(db: Db, ref: { tenantId: string; invoiceNumber: string }, reason: string): Promise<void> {
  await db`update call_tasks set status = 'cancelled', cancelled_reason = ${reason}
           where tenant_id = ${ref.tenantId} and invoice_number = ${ref.invoiceNumber} and status = 'open'`;
}

export async function callTasksOfInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<CallTaskRow[]> {
  return db<CallTaskRow[]>`select * from call_tasks where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by created_at, id`;
}
