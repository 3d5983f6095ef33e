import type { Client } from '@temporalio/client';
import type { Db, Sql } from '../db/sql';
import type { PaymentAppliedEvent } from '../integrations/erp/payment-applied-event';
import { auditEventByKey, type AuditEvent } from '../db/audit-events';
import type { InvoiceDays } from '../db/invoices';
import { insertPaymentOnce } from '../db/payments';
import { orderErpEvent } from '../db/erp-events';
import { openDisputeUpdate, paymentNotifiedSignal, recordPaymentUpdate } from '../workflows/messages';
import type { PaymentNotice, PaymentResult } from '../domain/invoice-state';
import { DomainError, notFound, UpdateNotCompleted } from './errors';
import { isWorkflowClosed, runUpdate, UntypedWorkflowFailure } from './workflow-updates';

/** An audit event of this tenant's invoice (the tenant and invoice are filled in). */
export type InvoiceAuditEvent = AuditEvent extends infer E ? (E extends unknown ? Omit<E, 'tenantId' | 'invoiceNumber' | 'workflowId' | 'eventKey' | 'actor'> : never) : never;

/**
 * Payments of an invoice: the ERP's word (its webhook) applies, in the ERP's own order; a person's report is a
 * claim the workflow holds until the ERP shows it. Part of the invoice service (api/invoice-service.ts).
 */
export function createInvoicePayments(
  deps: { sql: Sql; temporal: Client; tenantId: string },
  invoice: {
    findInvoice: (invoiceNumber: string) => Promise<InvoiceDays | undefined>;
    audit: (eventKey: string, actor: string, invoiceNumber: string, workflowId: string, event: InvoiceAuditEvent) => Promise<void>;
  },
) {
  const { sql, temporal, tenantId } = deps;
  const { findInvoice, audit } = invoice;
  type InvoiceRow = InvoiceDays;

  /** Stores the payment once; the same id with other data is a conflict, never a second payment. */
  async function storePayment(invoiceNumber: string, p: PaymentNotice, db: Db = sql): Promise<void> {
    const row = await insertPaymentOnce(db, {
      tenantId, paymentId: p.paymentId, invoiceNumber, amountMinor: p.amountMinor, currency: p.currency, receivedAt: p.receivedAt, source: p.source,
    });
    if (row && (row.invoice_number !== invoiceNumber || row.amount_minor !== p.amountMinor || row.currency !== p.currency))
      throw new DomainError('payment_conflict', `payment ${p.paymentId} was already recorded with other data`);
  }

  /**
   * A short payment with a reason code: the customer disputes the deducted amount. The dispute is
   * opened on the invoice workflow (once per payment: the update id); one it cannot take (the invoice
   * is already disputed, or closed) is recorded for a person to look at, never lost.
   */
  async function disputeDeduction(row: InvoiceRow, event: PaymentAppliedEvent) {
    const deduction = event.deduction!;
    const disputeId = `ERP-${event.payment.paymentId}`.slice(0, 64);
    let reason = 'invoice closed';
    try {
      const opened = await runUpdate(temporal, row.workflow_id, (h) =>
        h.executeUpdate(openDisputeUpdate, {
          updateId: disputeId,
          args: [{ disputeId, reasonCode: deduction.reasonCode, amountMinor: deduction.amountMinor, source: 'erp', actor: 'erp',
                   note: `Short payment ${event.payment.paymentId}: ${deduction.amountMinor} ${event.payment.currency} deducted (${deduction.reasonCode}).` }],
        }),
      );
      if (opened) return;
    } catch (err) {
      // Held by Temporal: the workflow opens the dispute when its worker is back. Not even held: the ERP delivers again.
      if (err instanceof UpdateNotCompleted && err.admitted) return;
      if (!(err instanceof DomainError || err instanceof UntypedWorkflowFailure)) throw err;
      reason = err.message;
    }
    await audit(`deduction:${tenantId}:${event.payment.paymentId}`, 'erp', row.invoice_number, row.workflow_id, {
      type: 'deduction_not_disputed',
      details: { paymentId: event.payment.paymentId, deduction, reason },
    });
  }

  return {
    /**
     * A payment reported by a person is a claim, not a payment: only the ERP's word closes an invoice. The
     * workflow's validator bounds it by the open amount (422 invalid_amount); it pauses dunning until the ERP
     * shows it (3 business days at most; unconfirmed, dunning resumes with a task for the collector). Nothing
     * here marks the invoice paid: the claim is not stored as a payment (the payments table holds what the ERP
     * applied) but in the audit trail, once per payment id (the same id with other data is 409 payment_conflict).
     */
    async reportPayment(invoiceNumber: string, payment: Omit<PaymentNotice, 'source'>, actor: string): Promise<PaymentResult> {
      const row = await findInvoice(invoiceNumber);
      if (!row) throw notFound(`invoice ${invoiceNumber}`);
      if (payment.currency !== row.currency)
        throw new DomainError('currency_mismatch', `payment in ${payment.currency} for an invoice in ${row.currency}`);
      const notice: PaymentNotice = { ...payment, source: 'api' };
      const eventKey = `claim:${tenantId}:${payment.paymentId}`;
      const before = await auditEventByKey(sql, eventKey);
      if (before && (before.invoice_number !== invoiceNumber || before.details.amountMinor !== payment.amountMinor || before.details.currency !== payment.currency))
        throw new DomainError('payment_conflict', `payment ${payment.paymentId} was already reported with other data`);
      const result = await runUpdate(temporal, row.workflow_id, (h) => h.executeUpdate(recordPaymentUpdate, { updateId: `claim-${payment.paymentId}-${payment.amountMinor}-${payment.currency}`, args: [notice] }));
      if (!result || (!result.claimed && !result.duplicate)) throw new DomainError('invoice_closed', `invoice ${invoiceNumber} is no longer in dunning (${result?.stage ?? row.stage})`);
      await audit(eventKey, actor, invoiceNumber, row.workflow_id, { type: 'payment_reported', details: { ...notice, claim: true } });
      return result;
    },

    /**
     * A payment the ERP applied (webhook): the ERP's open amount is authoritative, its newest word wins. Unknown
     * invoices are not ours. The invoice follows the open amount of the ERP's latest event (by its sequence, else
     * its time: db/erp-events.ts); an older event (delivered late or out of order, or replayed within the
     * signature's window) is recorded, its payment stored and audited with applied: false, but never reaches the
     * workflow, so it cannot reopen or change the invoice: 'stale'. A deduction it carries still opens its dispute.
     */
    async applyErpPayment(event: PaymentAppliedEvent): Promise<'applied' | 'ignored' | 'stale'> {
      if (event.invoice.invoiceNumber !== event.payment.invoiceNumber)
        throw new DomainError('inconsistent_event', 'payment and invoice numbers differ in the event');
      const row = await findInvoice(event.payment.invoiceNumber);
      if (!row) return 'ignored';
      if (event.payment.currency !== row.currency)
        throw new DomainError('currency_mismatch', `payment in ${event.payment.currency} for an invoice in ${row.currency}`);
      const notice: PaymentNotice = { ...event.payment, source: 'erp_webhook', openAmountMinorAfter: event.invoice.openAmountMinor };
      const order = await sql.begin(async (tx) => {
        const placed = await orderErpEvent(tx, { tenantId, invoiceNumber: row.invoice_number }, { eventId: event.eventId, occurredAt: event.occurredAt, sequence: event.sequence ?? null });
        await storePayment(row.invoice_number, notice, tx);
        return placed;
      });
      const applied = order !== 'older';
      await audit(`payment:${tenantId}:${event.payment.paymentId}`, 'erp', row.invoice_number, row.workflow_id, {
        type: 'payment_reported',
        details: { ...notice, eventId: event.eventId, occurredAt: event.occurredAt, sequence: event.sequence ?? null, applied },
      });
      if (applied) {
        try {
          await temporal.workflow.getHandle(row.workflow_id).signal(paymentNotifiedSignal, notice);
        } catch (err) {
          if (!isWorkflowClosed(err)) throw err; // a closed workflow needs no news
          return 'applied';
        }
      }
      if (event.deduction) await disputeDeduction(row, event);
      return applied ? 'applied' : 'stale';
    },
  };
}
