import { ApplicationFailure } from '@temporalio/activity';
import {
  ErpCustomerNotFoundError,
  ErpRequestRejectedError,
  type ErpAdapter,
  type ErpCreditHold,
} from '../integrations/erp/adapter';

export interface CreditHoldRequest {
  /** Workflow id + step id: the ERP answers a repeat of the same key with its first answer. */
  idempotencyKey: string;
  customerId: string;
  reason: string;
}

/**
 * Credit hold through the ERP, the system of record for the customer account. Idempotent in the
 * ERP by key, so a retry after a lost answer places nothing twice; a customer already on hold (from
 * another invoice) comes back as the hold in place. An unknown customer or a request the ERP refuses
 * fails the step without retry; an unreachable ERP is retried.
 */
export function createCreditHoldActivities(deps: { erp: ErpAdapter }) {
  return {
    async placeCreditHold(req: CreditHoldRequest): Promise<ErpCreditHold> {
      try {
        return await deps.erp.placeCreditHold({ customerId: req.customerId, reason: req.reason, idempotencyKey: req.idempotencyKey });
      } catch (err) {
        if (err instanceof ErpCustomerNotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'ErpCustomerNotFound');
        if (err instanceof ErpRequestRejectedError) throw ApplicationFailure.nonRetryable(err.message, 'ErpRequestRejected', { status: err.status });
        throw err;
      }
    },
  };
}
