import { patched, setHandler } from '@temporalio/workflow';
import { applyPayment, type PaymentNotice, type PaymentResult } from '../../domain/invoice-state';
import { claimPayment } from '../../domain/invoice-transitions';
import { dueAfter } from '../../domain/schedule';
import { paymentNotifiedSignal, recordPaymentUpdate } from '../messages';
import type { InvoiceRun } from './run';

/** Business days a reported payment has to show up in the ERP before dunning resumes with a task. */
const CLAIM_BUSINESS_DAYS = 3;

/**
 * Payments: the ERP's word (its webhook, a signal) applies at once; a payment reported through the API is a
 * person's claim, which pauses dunning until the ERP shows it (see holdForPause). The loop audits payments.
 */
export function registerPaymentHandlers(run: InvoiceRun): void {
  const receive = (payment: PaymentNotice): PaymentResult => {
    const { state, result } = applyPayment(run.state, payment);
    run.commit(state);
    return result;
  };
  const claim = async (payment: PaymentNotice): Promise<PaymentResult> => {
    const calendar = run.state.calendar ? { calendar: run.state.calendar } : {};
    const checkAt = dueAfter({ amount: CLAIM_BUSINESS_DAYS, unit: 'business_days' }, new Date(), { timeZone: run.customer.timeZone, ...calendar }, run.cadence.sendAt);
    const { state, result } = claimPayment(run.state, payment, checkAt, run.planContext());
    if (!result.claimed) return result;
    run.commit(state);
    run.wake++;
    await run.audit('payment_claimed', { paymentId: payment.paymentId, amountMinor: payment.amountMinor, currency: payment.currency, checkAt });
    return result;
  };
  setHandler(paymentNotifiedSignal, (payment) => void receive(payment));
  setHandler(recordPaymentUpdate, (payment) => (payment.source === 'api' && patched('payment-claims') ? claim(payment) : receive(payment)), {
    validator: (payment) => run.validate({ kind: 'payment', payment }),
  });
}
