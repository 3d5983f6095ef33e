import { z } from 'zod';
import { erpInvoiceBalanceSchema, type ErpAdapter, type ErpCreditHold, type ErpCreditRelease } from '../integrations/erp/adapter';
import { erpCall, erpIdempotencyKey, validatedErpRequest } from './erp-failures';

export interface CreditHoldRequest {
  /** Workflow id + step id: the ERP answers a repeat of the same key with its first answer. */
  idempotencyKey: string;
  customerId: string;
  reason: string;
}

const releaseSchema = z.object({
  idempotencyKey: erpIdempotencyKey,
  customerId: erpInvoiceBalanceSchema.shape.customerId,
  reason: z.string().trim().min(1).max(500),
});
export type CreditHoldReleaseRequest = z.infer<typeof releaseSchema>;

/**
 * Credit hold through the ERP, the system of record for the customer account: placed by a cadence
 * step or an approved request, released by an approved request. Idempotent in the ERP by key, so a
 * retry after a lost answer places nothing twice; a customer already on hold (from another invoice)
 * comes back as the hold in place, and releasing an account not on hold is answered the same way.
 * Failures as every ERP call's (activities/erp-failures.ts).
 */
export function createCreditHoldActivities(deps: { erp: ErpAdapter }) {
  return {
    async placeCreditHold(req: CreditHoldRequest): Promise<ErpCreditHold> {
      return erpCall(() => deps.erp.placeCreditHold({ customerId: req.customerId, reason: req.reason, idempotencyKey: req.idempotencyKey }));
    },

    /** Lifts the credit hold on the customer's account. */
    async releaseCreditHold(req: CreditHoldReleaseRequest): Promise<ErpCreditRelease> {
      const r = validatedErpRequest(releaseSchema, req, 'credit hold release');
      return erpCall(() => deps.erp.releaseCreditHold(r));
    },
  };
}
