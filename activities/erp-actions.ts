import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import {
  ErpCustomerNotFoundError,
  ErpInvoiceNotFoundError,
  ErpRequestRejectedError,
  erpInvoiceBalanceSchema,
  type ErpAdapter,
  type ErpCreditMemo,
  type ErpCreditRelease,
  type ErpRebill,
  type ErpWriteOff,
} from '../integrations/erp/adapter';

/**
 * What the workflow asks the ERP to do once a dispute is resolved or an approval is granted: a
 * credit memo, a write-off journal, a rebill, the release of a credit hold. Each request carries an
 * idempotency key (workflow id + dispute or approval request id) that the ERP honours, so a retry
 * after a lost answer posts nothing twice.
 *
 * Failures: an unknown invoice or customer, a request the ERP refuses (amount above the open
 * amount, another currency, a key reused for another request) and an invalid request are permanent
 * (non-retryable ApplicationFailure with types ErpInvoiceNotFound, ErpCustomerNotFound,
 * ErpRequestRejected {status, code}, InvalidErpRequest); an unreachable ERP is retried by Temporal.
 */

const { invoiceNumber, customerId, currency } = erpInvoiceBalanceSchema.shape;
const idempotencyKey = z.string().trim().min(1).max(255);
const amountMinor = z.number().int().positive();
const reason = z.string().trim().min(1).max(2000);

const adjustmentSchema = z.object({ idempotencyKey, invoiceNumber, amountMinor, currency, reason });
const rebillSchema = z
  .object({ idempotencyKey, originalInvoiceNumber: invoiceNumber, amountMinor, currency, issueDate: z.iso.date(), dueDate: z.iso.date() })
  .refine((r) => r.dueDate >= r.issueDate, { path: ['dueDate'], message: 'must not be before issueDate' });
const releaseSchema = z.object({ idempotencyKey, customerId, reason: z.string().trim().min(1).max(500) });

export type CreditMemoRequest = z.infer<typeof adjustmentSchema>;
export type WriteOffRequest = z.infer<typeof adjustmentSchema>;
export type RebillRequest = z.infer<typeof rebillSchema>;
export type CreditHoldReleaseRequest = z.infer<typeof releaseSchema>;

function validated<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid ${what} request:\n${z.prettifyError(parsed.error)}`, 'InvalidErpRequest');
  return parsed.data;
}

/** Permanent ERP errors end the attempt for good; the rest (ErpUnavailableError, bad credentials) are retried. */
async function permanentFailuresNotRetried<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ErpInvoiceNotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'ErpInvoiceNotFound');
    if (err instanceof ErpCustomerNotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'ErpCustomerNotFound');
    if (err instanceof ErpRequestRejectedError)
      throw ApplicationFailure.nonRetryable(err.message, 'ErpRequestRejected', { status: err.status, code: err.code ?? null });
    throw err;
  }
}

export function createErpActionActivities(deps: { erp: ErpAdapter }) {
  return {
    /** A credit memo for a valid claim: the open amount goes down; at 0 the ERP marks the invoice 'credited'. */
    async requestCreditMemo(req: CreditMemoRequest): Promise<ErpCreditMemo> {
      const r = validated(adjustmentSchema, req, 'credit memo');
      return permanentFailuresNotRetried(() => deps.erp.requestCreditMemo(r));
    },

    /** A write-off journal (bad-debt expense): the open amount goes down; at 0 the ERP marks the invoice 'written_off'. */
    async postWriteOff(req: WriteOffRequest): Promise<ErpWriteOff> {
      const r = validated(adjustmentSchema, req, 'write-off');
      return permanentFailuresNotRetried(() => deps.erp.postWriteOff(r));
    },

    /** A corrected invoice after a credit; the ERP numbers it `${original}-R1`, `-R2`, ... */
    async createRebill(req: RebillRequest): Promise<ErpRebill> {
      const r = validated(rebillSchema, req, 'rebill');
      return permanentFailuresNotRetried(() => deps.erp.createRebill(r));
    },

    /** Lifts the credit hold on the customer's account; releasing an account not on hold is a no-op answered the same way. */
    async releaseCreditHold(req: CreditHoldReleaseRequest): Promise<ErpCreditRelease> {
      const r = validated(releaseSchema, req, 'credit hold release');
      return permanentFailuresNotRetried(() => deps.erp.releaseCreditHold(r));
    },
  };
}
