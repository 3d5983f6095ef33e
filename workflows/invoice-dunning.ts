import {
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { contact, system } from './activity-proxies';
import { applyContactCap, planNextStep, daysPastDue } from '../domain/schedule';
import { CUSTOMER_FACING, type Cadence, type CadenceStep } from '../domain/cadence';
import { evaluateConditions } from '../domain/step-conditions';
import { customerMessageResultSignal, type CustomerMessageResult } from './customer-messages';
import { runInternalAction } from './step-actions';
import { stepIdempotencyKey } from '../domain/ids';
import {
  cadenceChangedSignal,
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

/** Outcomes that mean the customer was (or may have been) contacted: they count against the cap. */
const CONTACTED: readonly StepRecord['outcome'][] = ['sent', 'already_sent', 'uncertain'];

/** One workflow per overdue invoice: runs the cadence until the invoice is paid or closed in the ERP. */
export async function invoiceDunning(input: InvoiceDunningInput): Promise<DunningState> {
  const { tenantId, invoice, customer } = input;
  let cadence = input.cadence;
  let pendingCadence: Cadence | undefined;
  // Workflows started before cadence v2 replay the v1 behaviour; new ones record the marker.
  const v2 = patched('cadence-v2');
  const messageResults = new Map<string, CustomerMessageResult>();
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
  const scheduleCtx = () => ({ dueDate: invoice.dueDate, timeZone: customer.timeZone, calendar: state.calendar });

  const audit = (type: string, details: Record<string, unknown> = {}) =>
    system.recordDunningEvent({
      eventKey: `${workflowId}:event:${++state.eventSeq}`,
      tenantId,
      invoiceNumber: invoice.number,
      workflowId,
      type,
      stage: state.stage,
      openAmountMinor: state.openAmountMinor,
      nextStep: isClosed() ? null : state.nextStep, // a closed invoice has no next step, whatever the loop last planned
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
      if (pendingCadence) break;
      const woken = () => isClosed() || state.payments.length > auditedPayments || pendingCadence !== undefined;
      await (Number.isFinite(remaining) ? condition(woken, remaining) : condition(woken));
      await auditNewPayments();
    }
  };

  setHandler(dunningStateQuery, () => state);
  setHandler(cadenceChangedSignal, (next) => {
    if (next.id !== cadence.id || next.version !== cadence.version) pendingCadence = next;
  });
  setHandler(customerMessageResultSignal, (result) => void messageResults.set(result.requestId, result));
  setHandler(paymentNotifiedSignal, (payment) => void applyPayment(payment));
  setHandler(recordPaymentUpdate, applyPayment, {
    validator: (payment) => {
      if (!Number.isSafeInteger(payment.amountMinor) || payment.amountMinor <= 0) throw new Error('amountMinor must be a positive integer');
      if (payment.currency !== invoice.currency) throw new Error(`payment currency ${payment.currency} differs from invoice currency ${invoice.currency}`);
      if (!payment.paymentId) throw new Error('paymentId is required');
    },
  });

  /** Version 1 of the step runner: what workflows started before cadence v2 keep doing on replay. */
  const runStepV1 = async (step: CadenceStep, key: string, pastDue: number): Promise<Pick<StepRecord, 'outcome'>> => {
    if (step.action.type === 'email') {
      const sent = await contact.sendDunningEmail({
        idempotencyKey: key,
        tenantId,
        invoice,
        customer,
        template: step.action.template,
        openAmountMinor: state.openAmountMinor,
        daysPastDue: pastDue,
      });
      return { outcome: sent.status };
    }
    if (step.action.type === 'call_task') {
      await system.createCallTask({
        idempotencyKey: key,
        tenantId,
        invoiceNumber: invoice.number,
        customerId: customer.id,
        collectorId: customer.collectorId ?? null,
        dueAt: new Date().toISOString(),
        note: step.action.note,
      });
      return { outcome: 'task_created' };
    }
    throw ApplicationFailure.nonRetryable(`action ${step.action.type} needs the cadence-v2 worker code`, 'UnsupportedAction');
  };

  // What the database mirror shows as "next step": the plan as of now.
  const upcoming = (): DunningState['nextStep'] => {
    const next = planNextStep(cadence, scheduleCtx(), state.steps, new Date())?.next;
    return next ? { stepId: next.step.id, action: next.step.action.type, at: next.at } : null;
  };

  if (v2 && customer.country && !state.calendar) {
    const year = new Date().getUTCFullYear();
    state.calendar = await system.getBusinessCalendar({ country: customer.country, region: customer.region, fromYear: year - 1, toYear: year + 2 });
  }

  if (!input.state) {
    state.nextStep = upcoming();
    upsertSearchAttributes([{ key: dunningStageKey, value: state.stage }]);
    await audit('enrolled', { cadence: state.cadence });
  }

  while (!isClosed()) {
    if (pendingCadence) {
      const from = state.cadence;
      cadence = pendingCadence;
      pendingCadence = undefined;
      state.cadence = { id: cadence.id, version: cadence.version };
      state.nextStep = upcoming();
      await audit('cadence_migrated', { from, to: state.cadence });
    }
    const plan = planNextStep(cadence, scheduleCtx(), state.steps, new Date());
    if (!plan) {
      state.nextStep = null;
      break;
    }
    for (const skipped of plan.superseded) {
      state.steps.push({ stepId: skipped.step.id, action: skipped.step.action.type, at: skipped.at, outcome: 'superseded' });
      await audit('step_superseded', { stepId: skipped.step.id, scheduledAt: skipped.at });
    }
    const { step } = plan.next;
    // The step's instant, as previewCadence dates it: its planned time, or now when caught up late.
    let at = v2 && Date.now() > Date.parse(plan.next.at) ? new Date().toISOString() : plan.next.at;
    state.nextStep = { stepId: step.id, action: step.action.type, at };
    await waitUntil(Date.parse(at));
    if (isClosed()) break;
    if (pendingCadence) continue; // re-plan with the new version before doing anything
    if (v2 && CUSTOMER_FACING.includes(step.action.type)) {
      // Into the send window, and this invoice's own contacts within the cap (the customer workflow adds the other invoices').
      const own = state.steps.filter((s) => CUSTOMER_FACING.includes(s.action) && CONTACTED.includes(s.outcome)).map((s) => s.at);
      const allowed = applyContactCap(at, own, cadence.contactCap, cadence.sendWindow, scheduleCtx());
      if (allowed !== at) {
        at = allowed;
        state.nextStep = { stepId: step.id, action: step.action.type, at };
        await waitUntil(Date.parse(at));
        if (isClosed()) break;
        if (pendingCadence) continue;
      }
    }

    // The ERP is the system of record: re-read the balance right before contacting anyone.
    const balance = await system.getInvoiceBalance(invoice.number);
    if (isClosed()) break;
    state.openAmountMinor = balance.openAmountMinor;
    if (balance.status !== 'open' || balance.openAmountMinor <= 0) {
      setStage(balance.status === 'credited' ? 'cancelled' : balance.status === 'written_off' ? 'written_off' : 'paid');
      break;
    }

    const key = stepIdempotencyKey(workflowId, step.id);
    const pastDue = daysPastDue(scheduleCtx(), new Date());
    let result: Pick<StepRecord, 'outcome' | 'detail'>;
    if (!v2) {
      result = await runStepV1(step, key, pastDue);
    } else {
      const facts = await system.getCustomerFacts({ tenantId, customerId: customer.id });
      const verdict = evaluateConditions(step, {
        currency: invoice.currency,
        openAmountMinor: state.openAmountMinor,
        segment: facts.segment,
        promiseActive: false,
        disputeActive: false,
        doNotContact: facts.doNotContact,
      });
      if (!verdict.run) {
        result = { outcome: 'skipped', detail: verdict.reason };
      } else if (step.action.type === 'email' || step.action.type === 'statement') {
        await system.queueCustomerMessage({
          requestId: key,
          tenantId,
          invoiceWorkflowId: workflowId,
          stepId: step.id,
          kind: step.action.type,
          template: step.action.template,
          invoice,
          customer,
          daysPastDue: pastDue,
          requestedAt: at,
          contactCap: cadence.contactCap,
          sendWindow: cadence.sendWindow,
          ...(state.calendar ? { calendar: state.calendar } : {}),
        });
        // Wait for the answer even if the invoice closes meanwhile: the message may already be on its way, and the
        // step must be recorded either way (a paid invoice is answered 'paid_before_send' if it was not).
        // The bound outlasts the longest contact cap a cadence may set (90 days).
        const answered = await condition(() => messageResults.has(key), '100 days');
        const answer = messageResults.get(key);
        result = !answered || !answer
          ? { outcome: 'uncertain', detail: 'no answer from the customer contact workflow' }
          : { outcome: answer.outcome, ...(answer.batchSize > 1 ? { detail: `one message for ${answer.batchSize} invoices` } : {}) };
        if (result.outcome === 'uncertain') {
          // At most once means never resending; a person decides whether the customer got it.
          await system.notifyInternal({
            idempotencyKey: `${key}:uncertain`,
            tenantId,
            invoiceNumber: invoice.number,
            customerId: customer.id,
            role: 'ar_manager',
            note: `Delivery of step ${step.id} is uncertain (the send was interrupted) and will not be repeated: confirm with the customer before the next contact.`,
            openAmountMinor: state.openAmountMinor,
            currency: invoice.currency,
            daysPastDue: pastDue,
          });
        }
      } else {
        result = await runInternalAction(step, { idempotencyKey: key, tenantId, invoice, customer, openAmountMinor: state.openAmountMinor, daysPastDue: pastDue });
      }
    }
    state.steps.push({ stepId: step.id, action: step.action.type, at: v2 ? at : new Date().toISOString(), ...result });
    state.nextStep = upcoming();
    await audit('step_done', { stepId: step.id, action: step.action.type, ...result });

    // Handlers are synchronous, so no message is half-handled when the state moves to the next run.
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof invoiceDunning>({ ...input, cadence, state });
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
