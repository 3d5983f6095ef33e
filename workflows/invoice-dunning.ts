import {
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { planNextStep, daysPastDue } from '../domain/schedule';
import { stepIdempotencyKey } from '../domain/ids';
import {
  dunningStageKey,
  dunningStateQuery,
  paymentNotifiedSignal,
  recordPaymentUpdate,
  TERMINAL_STAGES,
  type DunningStage,
  type DunningState,
  type InvoiceDunningInput,
  type PaymentNotice,
  type PaymentResult,
  type StepRecord,
} from './messages';

type Activities = ReturnType<typeof createActivities>;

/** ERP and database calls: quick, retried with backoff for as long as it takes (the ERP may be down for hours). */
const SYSTEM_CALLS = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
} as const;
/** Customer-facing sends: the activity itself guarantees at most once; Temporal retries transient SMTP failures. */
const CUSTOMER_CONTACT = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
} as const;

const system = proxyActivities<Activities>(SYSTEM_CALLS);
const contact = proxyActivities<Activities>(CUSTOMER_CONTACT);

/** One workflow per overdue invoice: runs the cadence until the invoice is paid or closed in the ERP. */
export async function invoiceDunning(input: InvoiceDunningInput): Promise<DunningState> {
  const { tenantId, invoice, customer, cadence } = input;
  const { workflowId } = workflowInfo();
  const state: DunningState = input.state ?? {
    stage: 'active',
    openAmountMinor: invoice.amountMinor,
    currency: invoice.currency,
    cadence: { id: cadence.id, version: cadence.version },
    nextStep: null,
    steps: [],
    payments: [],
    eventSeq: 0,
  };
  const isClosed = () => TERMINAL_STAGES.includes(state.stage);
  const scheduleCtx = { dueDate: invoice.dueDate, timeZone: customer.timeZone };

  const audit = (type: string, details: Record<string, unknown> = {}) =>
    system.recordDunningEvent({
      eventKey: `${workflowId}:event:${++state.eventSeq}`,
      tenantId,
      invoiceNumber: invoice.number,
      workflowId,
      type,
      stage: state.stage,
      openAmountMinor: state.openAmountMinor,
      nextStep: state.nextStep,
      details,
    });

  const setStage = (stage: DunningStage) => {
    if (state.stage === stage) return;
    state.stage = stage;
    upsertSearchAttributes([{ key: dunningStageKey, value: stage }]);
  };

  const applyPayment = (payment: PaymentNotice): PaymentResult => {
    const duplicate = state.payments.some((p) => p.paymentId === payment.paymentId);
    if (!duplicate && !isClosed()) {
      state.payments.push(payment);
      state.openAmountMinor = Math.max(0, payment.openAmountMinorAfter ?? state.openAmountMinor - payment.amountMinor);
      if (state.openAmountMinor === 0) setStage('paid');
    } else if (!duplicate) {
      state.payments.push(payment); // recorded, but a closed invoice stays closed
    }
    return { duplicate, stage: state.stage, openAmountMinor: state.openAmountMinor };
  };

  let auditedPayments = state.payments.length;
  const auditNewPayments = async () => {
    while (auditedPayments < state.payments.length) {
      const { paymentId, amountMinor, currency, source } = state.payments[auditedPayments++]!;
      await audit('payment_received', { paymentId, amountMinor, currency, source });
    }
  };
  /** Sleeps until `deadline` (epoch ms) or closure, recording payments as they arrive. */
  const waitUntil = async (deadline: number) => {
    while (!isClosed()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const woken = () => isClosed() || state.payments.length > auditedPayments;
      await (Number.isFinite(remaining) ? condition(woken, remaining) : condition(woken));
      await auditNewPayments();
    }
  };

  setHandler(dunningStateQuery, () => state);
  setHandler(paymentNotifiedSignal, (payment) => void applyPayment(payment));
  setHandler(recordPaymentUpdate, applyPayment, {
    validator: (payment) => {
      if (!Number.isSafeInteger(payment.amountMinor) || payment.amountMinor <= 0) throw new Error('amountMinor must be a positive integer');
      if (payment.currency !== invoice.currency) throw new Error(`payment currency ${payment.currency} differs from invoice currency ${invoice.currency}`);
      if (!payment.paymentId) throw new Error('paymentId is required');
    },
  });

  // What the database mirror shows as "next step": the plan as of now.
  const upcoming = (): DunningState['nextStep'] => {
    const next = planNextStep(cadence, scheduleCtx, state.steps, new Date())?.next;
    return next ? { stepId: next.step.id, action: next.step.action.type, at: next.at } : null;
  };

  if (!input.state) {
    state.nextStep = upcoming();
    upsertSearchAttributes([{ key: dunningStageKey, value: state.stage }]);
    await audit('enrolled', { cadence: state.cadence });
  }

  while (!isClosed()) {
    const plan = planNextStep(cadence, scheduleCtx, state.steps, new Date());
    if (!plan) {
      state.nextStep = null;
      break;
    }
    for (const skipped of plan.superseded) {
      state.steps.push({ stepId: skipped.step.id, action: skipped.step.action.type, at: skipped.at, outcome: 'superseded' });
      await audit('step_superseded', { stepId: skipped.step.id, scheduledAt: skipped.at });
    }
    const { step, at } = plan.next;
    state.nextStep = { stepId: step.id, action: step.action.type, at };
    await waitUntil(Date.parse(at));
    if (isClosed()) break;

    // The ERP is the system of record: re-read the balance right before contacting anyone.
    const balance = await system.getInvoiceBalance(invoice.number);
    if (isClosed()) break;
    state.openAmountMinor = balance.openAmountMinor;
    if (balance.status !== 'open' || balance.openAmountMinor <= 0) {
      setStage(balance.status === 'credited' ? 'cancelled' : balance.status === 'written_off' ? 'written_off' : 'paid');
      break;
    }

    const key = stepIdempotencyKey(workflowId, step.id);
    let outcome: StepRecord['outcome'];
    if (step.action.type === 'email') {
      const sent = await contact.sendDunningEmail({
        idempotencyKey: key,
        tenantId,
        invoice,
        customer,
        template: step.action.template,
        openAmountMinor: state.openAmountMinor,
        daysPastDue: daysPastDue(scheduleCtx, new Date()),
      });
      outcome = sent.status;
    } else if (step.action.type === 'call_task') {
      await system.createCallTask({
        idempotencyKey: key,
        tenantId,
        invoiceNumber: invoice.number,
        customerId: customer.id,
        collectorId: customer.collectorId ?? null,
        dueAt: new Date().toISOString(),
        note: step.action.note,
      });
      outcome = 'task_created';
    } else {
      throw ApplicationFailure.nonRetryable(`action ${step.action.type} is not supported by this worker yet`, 'UnsupportedAction');
    }
    state.steps.push({ stepId: step.id, action: step.action.type, at: new Date().toISOString(), outcome });
    state.nextStep = upcoming();
    await audit('step_done', { stepId: step.id, action: step.action.type, outcome });

    // Handlers are synchronous, so no message is half-handled when the state moves to the next run.
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof invoiceDunning>({ ...input, state });
  }

  if (!isClosed()) {
    await audit('cadence_completed');
    // The cadence is over but the invoice is still open: keep listening for its payment or closure.
    await waitUntil(Infinity);
  }
  state.nextStep = null;
  await auditNewPayments();
  await audit('closed', { stage: state.stage });
  return state;
}
