import { z } from 'zod';
import { erpInvoiceBalanceSchema, type ErpAdapter, type ErpCreditMemo, type ErpRebill, type ErpWriteOff } from '../integrations/erp/adapter';
import { erpCall, erpIdempotencyKey as idempotencyKey, validatedErpRequest as validated } from './erp-failures';

/**
 * What the workflow asks the ERP to do once a dispute is resolved or an approval is granted: a
 * credit memo, a write-off journal, a rebill (the credit hold and its release are in
 * activities/credit-hold.ts). Each request carries an idempotency key (workflow id + dispute or
 * approval request id) that the ERP honours, so a retry after a lost answer posts nothing twice.
 *
 * Failures as every ERP call's (activities/erp-failures.ts): an unknown invoice, a request the ERP
 * refuses (amount above the open amount, another currency, a key reused for another request) and
 * an invalid request are permanent; an unreachable ERP is retried by Temporal.
 */

const { invoiceNumber, currency } = erpInvoiceBalanceSchema.shape;
const amountMinor = z.number().int().positive();
const reason = z.string().trim().min(1).max(2000);

const adjustmentSchema = z.object({ idempotencyKey, invoiceNumber, amountMinor, currency, reason });
const rebillSchema = z
  .object({ idempotencyKey, originalInvoiceNumber: invoiceNumber, amountMinor, currency, issueDate: z.iso.date(), dueDate: z.iso.date() })
  .refine((r) => r.dueDate >= r.issueDate, { path: ['dueDate'], message: 'must not be before issueDate' });

export type CreditMemoRequest = z.infer<typeof adjustmentSchema>;
export type WriteOffRequest = z.infer<typeof adjustmentSchema>;
export type RebillRequest = z.infer<typeof rebillSchema>;

export function createErpActionActivities(deps: { erp: ErpAdapter }) {
  return {
    /** A credit memo for a valid claim: the open amount goes down; at 0 the ERP marks the invoice 'credited'. */
    async requestCreditMemo(req: CreditMemoRequest): Promise<ErpCreditMemo> {
      const r = validated(adjustmentSchema, req, 'credit memo');
      return erpCall(() => deps.erp.requestCreditMemo(r));
    },

    /** A write-off journal (bad-debt expense): the open amount goes down; at 0 the ERP marks the invoice 'written_off'. */
    async postWriteOff(req: WriteOffRequest): Promise<ErpWriteOff> {
      const r = validated(adjustmentSchema, req, 'write-off');
      return erpCall(() => deps.erp.postWriteOff(r));
    },

    /** A corrected invoice after a credit; the ERP numbers it `${original}-R1`, `-R2`, ... */
    async createRebill(req: RebillRequest): Promise<ErpRebill> {
      const r = validated(rebillSchema, req, 'rebill');
      return erpCall(() => deps.erp.createRebill(r));
    },
  };
}
