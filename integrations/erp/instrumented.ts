import { withSpan } from '../../telemetry/tracing';
import type { ErpMetrics } from '../../telemetry/metrics';
import { ErpCustomerNotFoundError, ErpInvoiceNotFoundError, ErpRequestRejectedError, ErpUnavailableError, type ErpAdapter } from './adapter';

/** The adapter's calls, each measured and traced (everything else of the adapter, kind and capabilities, kept as is). */
const OPERATIONS = [
  'listChanges',
  'applyPayment',
  'getInvoiceBalance',
  'placeCreditHold',
  'releaseCreditHold',
  'getCreditStatus',
  'requestCreditMemo',
  'postWriteOff',
  'createRebill',
] as const satisfies readonly (keyof ErpAdapter)[];

export type ErpErrorKind = 'timeout' | 'unavailable' | 'rejected' | 'other';

/** A not-found answer is the ERP answering (no error): an invoice or customer it does not have. */
const isNotFound = (err: unknown): boolean => err instanceof ErpInvoiceNotFoundError || err instanceof ErpCustomerNotFoundError;

/** How an ERP call failed, for dunning_erp_errors_total{kind}. */
export function erpErrorKind(err: unknown): ErpErrorKind {
  const chain: unknown[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  if (chain.some((e) => e instanceof Error && (e.name === 'TimeoutError' || /timed? ?out/i.test(e.message)))) return 'timeout';
  if (err instanceof ErpUnavailableError) return 'unavailable';
  if (err instanceof ErpRequestRejectedError) return 'rejected';
  return 'other';
}

/**
 * The adapter with every call counted in dunning_erp_request_duration_seconds{operation, outcome: ok | not_found |
 * error} and, when it fails, dunning_erp_errors_total{operation, kind}, inside a span `erp.<operation>` (attributes
 * erp.kind and erp.operation; no amounts, no customer data). Errors pass through unchanged.
 */
export function instrumentErp<A extends ErpAdapter>(adapter: A, metrics: ErpMetrics): A {
  const wrapped: Partial<ErpAdapter> = {};
  for (const operation of OPERATIONS) {
    const call = (adapter[operation] as (...args: unknown[]) => Promise<unknown>).bind(adapter);
    (wrapped as Record<string, unknown>)[operation] = (...args: unknown[]) =>
      withSpan(`erp.${operation}`, { 'erp.kind': adapter.kind, 'erp.operation': operation }, async () => {
        const began = process.hrtime.bigint();
        const seconds = () => Number(process.hrtime.bigint() - began) / 1e9;
        try {
          const result = await call(...args);
          metrics.erpRequestDuration.observe({ operation, outcome: 'ok' }, seconds());
          return result;
        } catch (err) {
          if (isNotFound(err)) {
            metrics.erpRequestDuration.observe({ operation, outcome: 'not_found' }, seconds());
          } else {
            metrics.erpRequestDuration.observe({ operation, outcome: 'error' }, seconds());
            metrics.erpErrors.inc({ operation, kind: erpErrorKind(err) });
          }
          throw err;
        }
      });
  }
  // The adapter's own object as prototype: kind, capabilities and anything else an adapter carries read through.
  return Object.assign(Object.create(adapter) as A, wrapped);
}
