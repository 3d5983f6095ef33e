import type { Role } from '../domain/roles';
import type { Db } from './sql';

/** Work for people inside the company (internal_notifications): escalations, disputes to resolve, approvals to decide. */

export type InternalNotificationKind =
  | 'escalation'
  | 'dispute_assigned'
  | 'dispute_reminder'
  | 'dispute_overdue'
  | 'approval_requested'
  | 'approval_escalated';

export interface InternalNotificationRow {
  id: number;
  idempotency_key: string;
  tenant_id: string;
  role: NotificationRole | null;
  recipient_user_id: string | null;
  kind: InternalNotificationKind;
  invoice_number: string;
  customer_id: string;
  note: string;
  details: Record<string, unknown>;
  status: 'open' | 'acknowledged';
  dispute_id: string | null;
  request_id: string | null;
  created_at: Date;
}

/** The roles notifications go to: the users' roles, and the account's sales owner (no user role). */
export type NotificationRole = Role | 'sales_owner';

/** To a role, a person, or both (at least one). */
export interface NewInternalNotification {
  /** Deterministic: a repeat with the same key writes nothing and answers the first notification's id. */
  idempotencyKey: string;
  tenantId: string;
  kind: InternalNotificationKind;
  role?: NotificationRole | null;
  recipientUserId?: string | null;
  invoiceNumber: string;
  customerId: string;
  note: string;
  disputeId?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

/** Writes the notification once per key; returns its id (the first one's on a repeat). */
export async function insertInternalNotificationOnce(db: Db, n: NewInternalNotification): Promise<number> {
  const [row] = await db<{ id: number }[]>`
    insert into internal_notifications (idempotency_key, tenant_id, role, recipient_user_id, kind, invoice_number, customer_id, note, dispute_id, request_id, details)
    values (${n.idempotencyKey}, ${n.tenantId}, ${n.role ?? null}, ${n.recipientUserId ?? null}, ${n.kind}, ${n.invoiceNumber}, ${n.customerId}, ${n.note},
            ${n.disputeId ?? null}, ${n.requestId ?? null}, ${db.json((n.details ?? {}) as never)})
    on conflict (idempotency_key) do update set idempotency_key = excluded.idempotency_key
    returning id`;
  return row!.id;
}

export async function notificationsOfInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<InternalNotificationRow[]> {
  return db<InternalNotificationRow[]>`
    select * from internal_notifications where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by created_at, id`;
}

/** Whom a notification reaches: addressed to the user, or to their role. */
export interface NotificationReader {
  userId: string;
  role: Role;
}

/** A page of the reader's notifications, newest first, with the number of them in all. */
export async function pageOfNotifications(
  db: Db,
  tenantId: string,
  reader: NotificationReader,
  q: { status: InternalNotificationRow['status'] | 'all'; limit: number; offset: number },
): Promise<{ total: number; rows: InternalNotificationRow[] }> {
  const rows = await db<(InternalNotificationRow & { total: number })[]>`
    select *, count(*) over ()::int as total
    from internal_notifications
    where tenant_id = ${tenantId} and (recipient_user_id = ${reader.userId} or role = ${reader.role})
      ${q.status !== 'all' ? db`and status = ${q.status}` : db``}
    order by created_at desc, id desc limit ${q.limit} offset ${q.offset}`;
  return { total: rows[0]?.total ?? 0, rows };
}

/** Acknowledges one of the reader's notifications; false when the reader has no such notification. */
export async function acknowledgeNotification(db: Db, tenantId: string, id: number, reader: NotificationReader): Promise<boolean> {
  const rows = await db`
    update internal_notifications set status = 'acknowledged'
    where tenant_id = ${tenantId} and id = ${id} and (recipient_user_id = ${reader.userId} or role = ${reader.role}) returning id`;
  return rows.length > 0;
}
