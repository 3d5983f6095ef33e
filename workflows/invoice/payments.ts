import { setHandler } from '@temporalio/workflow';
import { applyPayment, type PaymentNotice, type PaymentResult } from '../../domain/invoice-state';
import { paymentNotifiedSignal, recordPaymentUpdate } from '../messages';
import type { InvoiceRun } from './run';

/** Payments: from the ERP's webhook (a signal) or reported through the API (a validated update). The loop audits them. */
export function registerPaymentHandlers(run: InvoiceRun): void {
  const receive = (payment: PaymentNotice): PaymentResult => {
    const { state, result } = applyPayment(run.state, payment);
    run.commit(state);
    return result;
  };
  setHandler(paymentNotifiedSignal, (payment) => void receive(payment));
  setHandler(recordPaymentUpdate, receive, { validator: (payment) => run.validate({ kind: 'payment', payment }) });
}
