import { z } from 'zod';
import { erpInvoiceBalanceSchema, type ErpAdapter, type ErpCreditHold, type ErpCreditRelease } from '../integrations/erp/adapter';
import { erpCall, erpIdempotencyKey, validatedErpRequest } from './erp-failures';
import type { Sql } from '../db/sql';
import { setCustomerCreditHold } from '../db/portfolio';

export interface CreditHoldRequest {
  /** Workflow id + step id: the ERP answers a repeat of the same key with its first answer. */
  idempotencyKey: string;
  customerId: string;
  reason: string;
  /** The tenant: with it (and the database), the customer's credit_hold flag follows the ERP's answer. */
  tenantId?: string;
}

const releaseSchema = z.object({
  idempotencyKey: erpIdempotencyKey,
  customerId: erpInvoiceBalanceSchema.shape.customerId,
  reason: z.string().trim().min(1).max(500),
  tenantId: z.string().min(1).optional(),
});
export type CreditHoldReleaseRequest = z.infer<typeof releaseSchema>;

/**
 * Credit hold through the ERP, the system of record for the customer account: placed by a cadence
 * step or an approved request, released by an approved request. Idempotent in the ERP by key, so a
 * retry after a lost answer places nothing twice; a customer already on hold (from another invoice)
 * comes back as the hold in place, and releasing an account not on hold is answered the same way.
 * Failures as every ERP call's (activities/erp-failures.ts).
 */
export function createCreditHoldActivities(deps: { erp: ErpAdapter; sql?: Sql }) {
  /**
   * Once the ERP answered, customers.credit_hold says what the ERP said (the portfolio views filter on it), and the
   * customer's trail records it once per key (db/portfolio.ts). A retry after the ERP answered writes nothing twice.
   */
  async function follow(tenantId: string | undefined, req: { customerId: string; reason: string; idempotencyKey: string }, placed: boolean) {
    if (!deps.sql || tenantId === undefined) return;
    await setCustomerCreditHold(deps.sql, { tenantId, customerId: req.customerId, placed, reason: req.reason, idempotencyKey: req.idempotencyKey });
  }

  return {
    async placeCreditHold(req: CreditHoldRequest): Promise<ErpCreditHold> {
      const hold = await erpCall(() => deps.erp.placeCreditHold({ customerId: req.customerId, reason: req.reason, idempotencyKey: req.idempotencyKey }));
      await follow(req.tenantId, req, hold.onHold);
      return hold;
    },

    /** Lifts the credit hold on the customer's account. */
    async releaseCreditHold(req: CreditHoldReleaseRequest): Promise<ErpCreditRelease> {
      const { tenantId, ...r } = validatedErpRequest(releaseSchema, req, 'credit hold release');
      const release = await erpCall(() => deps.erp.releaseCreditHold(r));
      await follow(tenantId, r, release.onHold);
      return release;
    },
  };
}
