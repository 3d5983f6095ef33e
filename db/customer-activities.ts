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
