import type { Segment } from '../domain/cadence';
import type { DunningStage } from '../domain/invoice-state';
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

/** How many tasks of this kind the invoice has had: the number of the next one in a deterministic key (count under the customer's lock). */
export async function countCallTasks(db: Db, tenantId: string, invoiceNumber: string, kind: CallTaskKind): Promise<number> {
  const [row] = await db<{ n: number }[]>`
    select count(*)::int as n from call_tasks where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} and kind = ${kind}`;
  return row!.n;
}

export interface NewManualTask {
  idempotencyKey: string;
  tenantId: string;
  invoiceNumber: string;
  customerId: string;
  workflowId: string;
  dueAt: string;
  note: string;
  createdBy: string;
}

/** A task made by a person, for the customer's collector now; once per idempotency key. The task's id, new or found. */
export async function insertManualTaskOnce(db: Db, t: NewManualTask): Promise<number> {
  const [row] = await db<{ id: number }[]>`
    insert into call_tasks (idempotency_key, tenant_id, invoice_number, customer_id, collector_id, due_at, note, kind, workflow_id, created_by)
    values (${t.idempotencyKey}, ${t.tenantId}, ${t.invoiceNumber}, ${t.customerId},
            (select collector_id from customers where tenant_id = ${t.tenantId} and customer_id = ${t.customerId}),
            ${t.dueAt}, ${t.note}, 'manual', ${t.workflowId}, ${t.createdBy})
    on conflict (idempotency_key) do nothing
    returning id`;
  if (row) return row.id;
  const [existing] = await db<{ id: number }[]>`select id from call_tasks where idempotency_key = ${t.idempotencyKey}`;
  return existing!.id;
}

/** Closes an open task with the call's outcome; false when it was no longer open (completed or cancelled). */
export async function completeOpenCallTask(
  db: Db,
  tenantId: string,
  taskId: number,
  done: { outcome: { code: string }; note: string; completedBy: string },
): Promise<boolean> {
  const rows = await db`
    update call_tasks set status = 'done', outcome = ${done.outcome.code}, outcome_note = ${done.note}, outcome_details = ${db.json(done.outcome as never)},
           completed_at = now(), completed_by = ${done.completedBy}
    where tenant_id = ${tenantId} and id = ${taskId} and status = 'open' returning id`;
  return rows.length > 0;
}

/** A task as the worklist shows it: with its customer and invoice, and what its priority needs. */
export interface WorklistTaskRow {
  id: number;
  kind: CallTaskKind;
  status: CallTaskRow['status'];
  attempt: number;
  parent_task_id: number | null;
  due_at: Date;
  note: string;
  collector_id: string | null;
  invoice_number: string;
  customer_id: string;
  outcome: string | null;
  outcome_note: string | null;
  completed_at: Date | null;
  completed_by: string | null;
  cancelled_reason: string | null;
  created_at: Date;
  customer_name: string;
  segment: Segment;
  time_zone: string;
  currency: string;
  open_amount_minor: number;
  /** YYYY-MM-DD */
  due_date: string;
  stage: DunningStage;
  workflow_id: string;
  /** The customer's broken promises of the last 12 months. */
  broken_promises: number;
  /** The customer's last call that reached them. */
  last_reached_at: Date | null;
}

const worklistColumns = (db: Db) => db`
  t.id, t.kind, t.status, t.attempt, t.parent_task_id, t.due_at, t.note, t.collector_id, t.invoice_number, t.customer_id,
  t.outcome, t.outcome_note, t.completed_at, t.completed_by, t.cancelled_reason, t.created_at,
  c.name as customer_name, c.segment, c.time_zone, i.currency, i.open_amount_minor, to_char(i.due_date, 'YYYY-MM-DD') as due_date, i.stage, i.workflow_id,
  bp.broken_promises, lr.last_reached_at`;

/**
 * Tasks with their customer and invoice, and the customer's broken promises (12 months) and last
 * reached call. Lateral joins let PostgreSQL compute those once per customer (Memoize), not once per task.
 */
const worklistSource = (db: Db) => db`
  call_tasks t
  join customers c using (tenant_id, customer_id)
  join invoices i on i.tenant_id = t.tenant_id and i.invoice_number = t.invoice_number
  left join lateral (
    select count(*)::int as broken_promises from promises p
    where p.tenant_id = t.tenant_id and p.customer_id = t.customer_id and p.status = 'broken' and p.evaluated_at > now() - interval '12 months'
  ) bp on true
  left join lateral (
    select max(a.occurred_at) as last_reached_at from customer_activities a
    where a.tenant_id = t.tenant_id and a.customer_id = t.customer_id and a.reached
  ) lr on true`;

export async function worklistTask(db: Db, tenantId: string, taskId: number): Promise<WorklistTaskRow | undefined> {
  const [row] = await db<WorklistTaskRow[]>`
    select ${worklistColumns(db)} from ${worklistSource(db)}
    where t.tenant_id = ${tenantId} and t.id = ${taskId}`;
  return row;
}

export interface WorklistTaskFilter {
  collectorId?: string;
  customerId?: string;
  status: CallTaskRow['status'] | 'all';
  dueBefore?: string;
  dueAfter?: string;
}

/** The tasks the filter selects, unordered (the worklist orders them by priority). */
export async function worklistTasks(db: Db, tenantId: string, filter: WorklistTaskFilter): Promise<WorklistTaskRow[]> {
  return db<WorklistTaskRow[]>`
    select ${worklistColumns(db)} from ${worklistSource(db)}
    where t.tenant_id = ${tenantId}
      ${filter.collectorId !== undefined ? db`and t.collector_id = ${filter.collectorId}` : db``}
      ${filter.customerId ? db`and t.customer_id = ${filter.customerId}` : db``}
      ${filter.status !== 'all' ? db`and t.status = ${filter.status}` : db``}
      ${filter.dueBefore ? db`and t.due_at < ${filter.dueBefore}` : db``}
      ${filter.dueAfter ? db`and t.due_at >= ${filter.dueAfter}` : db``}`;
}

/** The customer's open tasks move to `collectorId`; the ids of those that moved (were someone else's). */
export async function moveOpenCallTasks(db: Db, tenantId: string, customerId: string, collectorId: string): Promise<number[]> {
  const rows = await db<{ id: number }[]>`
    update call_tasks set collector_id = ${collectorId}
    where tenant_id = ${tenantId} and customer_id = ${customerId} and status = 'open' and collector_id is distinct from ${collectorId}
    returning id`;
  return rows.map((r) => r.id).sort((a, b) => a - b);
}
