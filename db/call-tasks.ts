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

/**
 * The worklist's stored priority (migration 010). A task's score holds from `priority_from` until
 * `priority_until` (its customer's local day, or earlier when a broken promise leaves the 12-month window);
 * outside it, or after one of its inputs changed, it is stale and the API scores it again.
 */

/**
 * Whether any open task of the tenant needs scoring at `at` (queued invalidations count). Three index
 * probes: the earliest priority_until and the latest priority_from of the open tasks, each the first
 * entry of its index (migration 010). Asked as min/max, not as `exists (... priority_until <= at)`: with
 * statistics taken while every score was stale, PostgreSQL expected that predicate to match at once and
 * scanned the whole table when none did (35 ms per worklist request at 150k tasks).
 */
export async function prioritiesStale(db: Db, tenantId: string, at: Date): Promise<boolean> {
  const [row] = await db<{ stale: boolean }[]>`
    select exists (select 1 from worklist_priority_dirty where tenant_id = ${tenantId})
        or coalesce((select min(priority_until) from call_tasks where tenant_id = ${tenantId} and status = 'open') <= ${at}, false)
        or coalesce((select max(priority_from) from call_tasks where tenant_id = ${tenantId} and status = 'open') > ${at}, false) as stale`;
  return row!.stale;
}

/**
 * Takes the queued invalidations (invoices and customers whose inputs changed) and marks their open tasks
 * stale. What commits after this statement stays queued, so that nothing changed is ever missed.
 */
export async function takePriorityInvalidations(db: Db, tenantId: string): Promise<void> {
  await db`
    with taken as (delete from worklist_priority_dirty where tenant_id = ${tenantId} returning customer_id, invoice_number)
    update call_tasks t set priority_until = '-infinity'
    where t.tenant_id = ${tenantId} and t.status = 'open'
      and (t.customer_id in (select customer_id from taken where customer_id is not null)
           or t.invoice_number in (select invoice_number from taken where invoice_number is not null))`;
}

/** What scoring a task needs, its day counts computed in its customer's time zone at `at`. */
export interface PriorityInputRow {
  id: number;
  /** due_at as PostgreSQL writes it (microseconds kept): storing the score compares it. */
  due_at_key: string;
  currency: string;
  open_amount_minor: number;
  stage: DunningStage;
  segment: Segment;
  days_past_due: number;
  broken_promises: number;
  /** Days since the last call that reached the customer; null = never. */
  days_since_reached: number | null;
  task_due_in_days: number;
  /** The customer's local day at `at`: from its start to the next (or to the first broken promise's leaving the 12-month window). */
  valid_from: Date;
  valid_until: Date;
}

/** Up to `limit` open tasks whose score is stale at `at`, with their inputs. */
export async function stalePriorityInputs(db: Db, tenantId: string, at: Date, limit: number): Promise<PriorityInputRow[]> {
  return db<PriorityInputRow[]>`
    select t.id, t.due_at::text as due_at_key, i.currency, i.open_amount_minor, i.stage, c.segment,
           (d.today - i.due_date) as days_past_due, bp.broken_promises,
           case when lr.last_reached_at is null then null else greatest(0, d.today - (lr.last_reached_at at time zone c.time_zone)::date) end as days_since_reached,
           ((t.due_at at time zone c.time_zone)::date - d.today) as task_due_in_days,
           (d.today::timestamp at time zone c.time_zone) as valid_from,
           least(((d.today + 1)::timestamp at time zone c.time_zone), bp.first_leaves) as valid_until
    from call_tasks t
    join customers c using (tenant_id, customer_id)
    join invoices i on i.tenant_id = t.tenant_id and i.invoice_number = t.invoice_number
    cross join lateral (select (${at}::timestamptz at time zone c.time_zone)::date as today) d
    left join lateral (
      select count(*)::int as broken_promises, min(p.evaluated_at) + interval '12 months' as first_leaves from promises p
      where p.tenant_id = t.tenant_id and p.customer_id = t.customer_id and p.status = 'broken' and p.evaluated_at > now() - interval '12 months'
    ) bp on true
    left join lateral (
      select max(a.occurred_at) as last_reached_at from customer_activities a
      where a.tenant_id = t.tenant_id and a.customer_id = t.customer_id and a.reached
    ) lr on true
    where t.tenant_id = ${tenantId} and t.status = 'open' and (t.priority_until <= ${at} or t.priority_from > ${at})
    order by t.id
    limit ${limit}`;
}

export interface StoredPriority {
  id: number;
  /** The due_at the score was computed with (PostgreSQL's text): a task whose due date moved since keeps its stale mark. */
  dueAtKey: string;
  score: number;
  amountReportingMinor: number;
  from: Date;
  until: Date;
}

/** Stores scores; a task changed meanwhile (closed, due date moved) is left stale for the next pass. */
export async function storePriorities(db: Db, tenantId: string, rows: StoredPriority[]): Promise<void> {
  if (rows.length === 0) return;
  await db`
    update call_tasks t set priority_score = u.score, priority_amount_reporting_minor = u.amount, priority_from = u.valid_from, priority_until = u.valid_until
    from unnest(${db.array(rows.map((r) => r.id))}::bigint[], ${db.array(rows.map((r) => r.dueAtKey))}::timestamptz[],
                ${db.array(rows.map((r) => r.score))}::int[], ${db.array(rows.map((r) => r.amountReportingMinor))}::bigint[],
                ${db.array(rows.map((r) => r.from.toISOString()))}::timestamptz[], ${db.array(rows.map((r) => r.until.toISOString()))}::timestamptz[])
         as u(id, due_at, score, amount, valid_from, valid_until)
    where t.tenant_id = ${tenantId} and t.id = u.id and t.due_at = u.due_at and t.status = 'open'`;
}

/** Where a page of the worklist starts: after this task in the order (score desc, due_at, id). */
export interface WorklistCursor {
  score: number;
  /** due_at as PostgreSQL writes it (microseconds kept). */
  dueAt: string;
  id: number;
}

export interface OpenWorklistFilter {
  collectorId?: string;
  customerId?: string;
  dueBefore?: string;
  dueAfter?: string;
  /** Days past due in the customer's time zone at `at`, inclusive bounds (an aging bucket). */
  pastDue?: { min: number | null; max: number | null; at: Date };
}

const openWorklistWhere = (db: Db, tenantId: string, f: OpenWorklistFilter) => db`
  t.tenant_id = ${tenantId} and t.status = 'open'
  ${f.collectorId !== undefined ? db`and t.collector_id = ${f.collectorId}` : db``}
  ${f.customerId ? db`and t.customer_id = ${f.customerId}` : db``}
  ${f.dueBefore ? db`and t.due_at < ${f.dueBefore}` : db``}
  ${f.dueAfter ? db`and t.due_at >= ${f.dueAfter}` : db``}
  ${f.pastDue
    ? db`and exists (select 1 from invoices i join customers c on c.tenant_id = i.tenant_id and c.customer_id = i.customer_id
                     where i.tenant_id = t.tenant_id and i.invoice_number = t.invoice_number
                       ${f.pastDue.min === null ? db`` : db`and ((${f.pastDue.at}::timestamptz at time zone c.time_zone)::date - i.due_date) >= ${f.pastDue.min}`}
                       ${f.pastDue.max === null ? db`` : db`and ((${f.pastDue.at}::timestamptz at time zone c.time_zone)::date - i.due_date) <= ${f.pastDue.max}`})`
    : db``}`;

/** A page of open tasks in the stored priority's order (score desc, due_at, id), after `cursor` or from `offset`. */
export async function openWorklistPage(
  db: Db,
  tenantId: string,
  f: OpenWorklistFilter & { after?: WorklistCursor; offset: number; limit: number },
): Promise<(WorklistTaskRow & { priority_score: number; due_at_key: string })[]> {
  return db<(WorklistTaskRow & { priority_score: number; due_at_key: string })[]>`
    select ${worklistColumns(db)}, t.priority_score, t.due_at::text as due_at_key from ${worklistSource(db)}
    where ${openWorklistWhere(db, tenantId, f)}
      ${f.after
        ? db`and t.priority_score <= ${f.after.score}
             and (t.priority_score < ${f.after.score} or (t.due_at, t.id) > (${f.after.dueAt}::timestamptz, ${f.after.id}::bigint))`
        : db``}
    order by t.priority_score desc, t.due_at, t.id
    limit ${f.limit} offset ${f.after ? 0 : f.offset}`;
}

/** How many open tasks the filter selects, and the open amount (reporting currency) of their invoices, each invoice once. */
export async function openWorklistTotals(db: Db, tenantId: string, f: OpenWorklistFilter): Promise<{ total: number; amount: number }> {
  const [row] = await db<{ total: number; amount: number }[]>`
    select coalesce(sum(n), 0)::int as total, coalesce(sum(amount), 0)::bigint as amount from (
      select t.invoice_number, count(*) as n, max(t.priority_amount_reporting_minor) as amount
      from call_tasks t where ${openWorklistWhere(db, tenantId, f)}
      group by t.invoice_number) per_invoice`;
  return row!;
}
