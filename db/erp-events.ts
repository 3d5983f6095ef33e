import type { TransactionSql } from './sql';

/**
 * The ERP's newest word on each invoice (invoices.erp_event_*): which payment.applied event's open amount
 * the invoice follows. Events are ordered by the ERP's own sequence number when both have one, else by its
 * own time (occurredAt); an event that is not newer than the one applied is recorded by the caller but
 * never applied, so an old event (replayed, or delivered out of order) cannot reopen or change an invoice.
 */
export type ErpEventOrder = 'newer' | 'same' | 'older';

export async function orderErpEvent(
  tx: TransactionSql,
  ref: { tenantId: string; invoiceNumber: string },
  event: { eventId: string; occurredAt: string; sequence: number | null },
): Promise<ErpEventOrder> {
  const [row] = await tx<{ erp_event_at: Date | null; erp_event_sequence: number | null; erp_event_id: string | null }[]>`
    select erp_event_at, erp_event_sequence, erp_event_id from invoices
    where tenant_id = ${ref.tenantId} and invoice_number = ${ref.invoiceNumber} for update`;
  if (!row) throw new Error(`invoice ${ref.invoiceNumber} not found`);
  if (row.erp_event_id === event.eventId) return 'same'; // a retried delivery of the event applied last
  const newer =
    row.erp_event_at === null ||
    (row.erp_event_sequence !== null && event.sequence !== null
      ? event.sequence > row.erp_event_sequence
      : Date.parse(event.occurredAt) > row.erp_event_at.getTime());
  if (!newer) return 'older';
  await tx`
    update invoices set erp_event_at = ${event.occurredAt}, erp_event_sequence = ${event.sequence}, erp_event_id = ${event.eventId}
    where tenant_id = ${ref.tenantId} and invoice_number = ${ref.invoiceNumber}`;
  return 'newer';
}
