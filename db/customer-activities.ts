import type { Db } from './sql';

/** The customer's history (customer_activities), newest first in the views: calls, notes, promises, pauses. */

export type CustomerActivityKind =
  | 'call_outcome'
  | 'note'
  | 'promise'
  | 'promise_verdict'
  | 'payment_plan'
  | 'pause'
  | 'resume'
  | 'contact_update'
  | 'reassignment';

export interface CustomerActivityRow {
  id: number;
  event_key: string | null;
  tenant_id: string;
  customer_id: string;
  invoice_number: string | null;
  task_id: number | null;
  occurred_at: Date;
  actor: string;
  kind: CustomerActivityKind;
  outcome: string | null;
  reached: boolean;
  note: string;
  details: Record<string, unknown>;
}

export interface CustomerActivity {
  /** Deterministic: a repeat with the same key writes nothing. */
  eventKey: string;
  tenantId: string;
  customerId: string;
  invoiceNumber?: string | null;
  taskId?: number | null;
  actor: string;
  kind: CustomerActivityKind;
  outcome?: string | null;
  /** A call that reached the customer (the worklist's last successful contact). */
  reached?: boolean;
  note: string;
  details?: object;
}

/** Appends the entry once per key; returns the row written, undefined when the key was there already. */
export async function appendCustomerActivity(db: Db, a: CustomerActivity): Promise<Pick<CustomerActivityRow, 'id' | 'occurred_at'> | undefined> {
  const [row] = await db<Pick<CustomerActivityRow, 'id' | 'occurred_at'>[]>`
    insert into customer_activities (event_key, tenant_id, customer_id, invoice_number, task_id, actor, kind, outcome, reached, note, details)
    values (${a.eventKey}, ${a.tenantId}, ${a.customerId}, ${a.invoiceNumber ?? null}, ${a.taskId ?? null}, ${a.actor}, ${a.kind},
            ${a.outcome ?? null}, ${a.reached ?? false}, ${a.note}, ${db.json((a.details ?? {}) as never)})
    on conflict (event_key) do nothing
    returning id, occurred_at`;
  return row;
}

/** The customer's whole history, oldest first. */
export async function activitiesOfCustomer(db: Db, tenantId: string, customerId: string): Promise<CustomerActivityRow[]> {
  return db<CustomerActivityRow[]>`
    select * from customer_activities where tenant_id = ${tenantId} and customer_id = ${customerId} order by occurred_at, id`;
}

/**
 * How many entries of this kind the customer's history holds (on one invoice, or customer-wide with
 * invoiceNumber null, when given): the number of the next change in a deterministic key. Count under
 * the customer's lock (db/customers.ts lockCustomer) so that two changes never get the same number.
 */
export async function countCustomerActivities(
  db: Db,
  tenantId: string,
  customerId: string,
  kind: CustomerActivityKind,
  opts: { invoiceNumber?: string | null } = {},
): Promise<number> {
  const [row] = await db<{ n: number }[]>`
    select count(*)::int as n from customer_activities
    where tenant_id = ${tenantId} and customer_id = ${customerId} and kind = ${kind}
      ${opts.invoiceNumber === undefined ? db`` : opts.invoiceNumber === null ? db`and invoice_number is null` : db`and invoice_number = ${opts.invoiceNumber}`}`;
  return row!.n;
}

/** The entry written with this key, if any. */
export async function customerActivityByKey(db: Db, eventKey: string): Promise<Pick<CustomerActivityRow, 'id' | 'occurred_at'> | undefined> {
  const [row] = await db<Pick<CustomerActivityRow, 'id' | 'occurred_at'>[]>`select id, occurred_at from customer_activities where event_key = ${eventKey}`;
  return row;
}

/** A page of the customer's history, newest first, with the number of entries in all. */
export async function pageOfCustomerActivities(
  db: Db,
  tenantId: string,
  customerId: string,
  page: { limit: number; offset: number },
): Promise<{ total: number; rows: CustomerActivityRow[] }> {
  const rows = await db<(CustomerActivityRow & { total: number })[]>`
    select *, count(*) over ()::int as total
    from customer_activities where tenant_id = ${tenantId} and customer_id = ${customerId}
    order by occurred_at desc, id desc limit ${page.limit} offset ${page.offset}`;
  return { total: rows[0]?.total ?? 0, rows };
}
