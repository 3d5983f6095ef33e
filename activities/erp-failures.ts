import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { ErpCustomerNotFoundError, ErpInvoiceNotFoundError, ErpRequestRejectedError } from '../integrations/erp/adapter';

/**
 * One mapping of ERP errors to Temporal failures, for every activity that calls the ERP. Permanent
 * errors end the attempt for good, as non-retryable ApplicationFailures of these types:
 * - ErpInvoiceNotFound, ErpCustomerNotFound: the ERP does not know the invoice or customer;
 * - ErpRequestRejected, details [{ status, code }]: the ERP refused the request (amount above the
 *   open amount, another currency, a key reused for another request...);
 * - InvalidErpRequest: the request failed our own validation before it was sent.
 * Everything else (ErpUnavailableError, bad credentials, a malformed answer) is thrown as is and
 * retried by Temporal: the ERP may be down for hours.
 */
export async function erpCall<T>(call: () => Promise<T>): Promise<T> {
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

/** The request as the schema reads it, or a permanent InvalidErpRequest naming every issue. */
export function validatedErpRequest<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid ${what} request:\n${z.prettifyError(parsed.error)}`, 'InvalidErpRequest');
  return parsed.data;
}

/** Workflow id + step, dispute or approval request id: the ERP answers a repeat of the same key with its first answer. */
export const erpIdempotencyKey = z.string().trim().min(1).max(255);
