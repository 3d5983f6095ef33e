import type { Db } from './sql';

/**
 * The outbox of customer-facing messages (outbound_messages): one row per idempotency key, claimed
 * as 'sending' before the SMTP transaction, 'sent' after it, 'uncertain' when an attempt died mid-send.
 */

export type OutboundStatus = 'sending' | 'sent' | 'uncertain';

export interface OutboundMessageRow {
  idempotency_key: string;
  tenant_id: string;
  invoice_number: string;
  invoice_numbers: string[];
  /** The cadence step of each of invoice_numbers, in the same order; null when the message belongs to no step (or predates migration 011). */
  step_ids: string[] | null;
  channel: 'email';
  recipient: string;
  subject: string;
  status: OutboundStatus;
  message_id: string;
  created_at: Date;
  sent_at: Date | null;
}

export interface OutboundClaim {
  idempotencyKey: string;
  tenantId: string;
  /** At least one; the first is also stored alone for older queries. */
  invoiceNumbers: string[];
  /** The cadence step of each invoice, aligned with invoiceNumbers; omitted for a message of no step. */
  stepIds?: string[];
  recipient: string;
  subject: string;
  messageId: string;
}

/** Claims the key as 'sending'; false when an earlier attempt claimed it already. */
export async function claimOutboundMessage(db: Db, c: OutboundClaim): Promise<boolean> {
  const rows = await db`
    insert into outbound_messages (idempotency_key, tenant_id, invoice_number, invoice_numbers, step_ids, channel, recipient, subject, status, message_id)
    values (${c.idempotencyKey}, ${c.tenantId}, ${c.invoiceNumbers[0]!}, ${c.invoiceNumbers}, ${c.stepIds ?? null}, 'email', ${c.recipient}, ${c.subject}, 'sending', ${c.messageId})
    on conflict (idempotency_key) do nothing
    returning idempotency_key`;
  return rows.length > 0;
}

/**
 * The status of a claimed key, a claim still 'sending' marked 'uncertain' first (the attempt that
 * made it died mid-send); undefined when the key was never claimed.
 */
export async function settleOutboundClaim(db: Db, idempotencyKey: string): Promise<Exclude<OutboundStatus, 'sending'> | undefined> {
  const [row] = await db<{ status: Exclude<OutboundStatus, 'sending'> }[]>`
    update outbound_messages set status = case when status = 'sending' then 'uncertain' else status end
    where idempotency_key = ${idempotencyKey} returning status`;
  return row?.status;
}

/** Gives a claim up (the server never took the message), so that a retry may send it. */
export async function releaseOutboundClaim(db: Db, idempotencyKey: string): Promise<void> {
  await db`delete from outbound_messages where idempotency_key = ${idempotencyKey} and status = 'sending'`;
}

export async function markOutboundSent(db: Db, idempotencyKey: string): Promise<void> {
  await db`update outbound_messages set status = 'sent', sent_at = now() where idempotency_key = ${idempotencyKey}`;
}

/** Every message that named the invoice (alone or in a consolidated message). */
export async function messagesOfInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<OutboundMessageRow[]> {
  return db<OutboundMessageRow[]>`
    select * from outbound_messages where tenant_id = ${tenantId} and invoice_numbers @> array[${invoiceNumber}]::text[] order by created_at, idempotency_key`;
}
