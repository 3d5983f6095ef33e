import { allHandlersFinished, condition, continueAsNew, patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { runReadsLocally, system } from './activity-proxies';
import { customerMessageResultSignal, messageDeferredSignal } from './customer-messages';
import { cadenceChangedSignal, collectorChangedSignal, collectorIdKey, dunningStageKey, dunningStateQuery, messageWantedQuery, type InvoiceDunningInput } from './messages';
import { applyContactCap, planEscalatedStep, planNextStep } from '../domain/schedule';
import { CUSTOMER_FACING } from '../domain/cadence';
import { stepIdempotencyKey } from '../domain/ids';
import { formatMoney } from '../domain/money';
import { onHold, upcomingStep, type DunningState, type StepRecord } from '../domain/invoice-state';
import { InvoiceRun } from './invoice/run';
import { registerPaymentHandlers } from './invoice/payments';
import { registerPromiseHandlers } from './invoice/promises';
import { registerDisputeHandlers, applyDisputeOutcome } from './invoice/disputes';
import { registerApprovalHandlers, applyApprovalOutcome } from './invoice/approvals';
import { registerCallOutcomeHandler } from './invoice/call-outcomes';
import { registerPauseHandlers } from './invoice/pauses';
import { registerLedgerHandler } from './invoice/ledger';
import { hold } from './invoice/holds';
import { runStep } from './invoice/steps';
import { runStepV1 } from './invoice/v1';
import { close } from './invoice/closing';
import { attentionProblem, park } from './invoice/attention';

/** Outcomes that mean the customer was (or may have been) contacted: they count against the cap. */
const CONTACTED: readonly StepRecord['outcome'][] = ['sent', 'already_sent', 'uncertain'];

/**
 * One workflow per overdue invoice: runs the cadence until the invoice is paid or closed in the ERP.
 * This file is the cadence loop; what people and other systems do to the invoice arrives through the
 * handlers in ./invoice/, and the rules those follow are plain functions in domain/invoice-state.ts.
 */
export async function invoiceDunning(input: InvoiceDunningInput): Promise<DunningState> {
  // Workflows started before cadence v2 replay the v1 behaviour; new ones record the marker.
  const v2 = patched('cadence-v2');
  // Since this marker its reads (the ERP balance, the customer's facts, the calendar) run as local activities.
  runReadsLocally(patched('local-reads'));
  const run = new InvoiceRun(input);
  const { customer } = run;

  setHandler(dunningStateQuery, () => run.state);
  setHandler(messageWantedQuery, (requestId) => run.wantsMessage(requestId));
  setHandler(cadenceChangedSignal, (next) => {
    if (next.id !== run.cadence.id || next.version !== run.cadence.version) run.pendingCadence = next;
  });
  setHandler(customerMessageResultSignal, (result) => void run.messageResults.set(result.requestId, result));
  setHandler(messageDeferredSignal, async ({ requestId, until }) => {
    // The customer's cap or window holds the message queued for the current step: the step shows as deferred.
    const next = run.state.nextStep;
    if (!next || run.messageResults.has(requestId) || !run.queuedMessages.has(requestId) || next.at === until) return;
    run.update({ nextStep: { ...next, at: until, deferred: { from: next.deferred?.from ?? next.at, reason: 'customer_contact_cap' } } });
    await run.audit('step_deferred', { stepId: next.stepId, from: next.at, until, reason: 'customer_contact_cap' });
  });
  setHandler(collectorChangedSignal, (collectorId) => {
    // The customer moved to another portfolio: later tasks go to the new collector, and the workflow lists under them.
    if (customer.collectorId === collectorId) return;
    customer.collectorId = collectorId;
    upsertSearchAttributes([{ key: collectorIdKey, value: collectorId }]);
  });
  registerPaymentHandlers(run);
  registerDisputeHandlers(run);
  registerApprovalHandlers(run);
  registerCallOutcomeHandler(run);
  registerPromiseHandlers(run);
  registerPauseHandlers(run);
  registerLedgerHandler(run);

  if (v2 && customer.country && !run.state.calendar) {
    const year = new Date().getUTCFullYear();
    run.update({ calendar: await system.getBusinessCalendar({ country: customer.country, region: customer.region, fromYear: year - 1, toYear: year + 2 }) });
  }

  if (!input.state) {
    run.update({ nextStep: upcomingStep(run.state, run.planContext()) });
    upsertSearchAttributes([{ key: dunningStageKey, value: run.state.stage }]);
    await run.audit('enrolled', { cadence: run.state.cadence, ...(input.carriedFrom ? { carriedFrom: input.carriedFrom.invoiceNumber, carriedSteps: input.carriedFrom.steps.map((s) => s.stepId) } : {}) });
  }

  while (!run.isClosed()) {
    if (run.pendingCadence) await migrateCadence(run);
    if (run.state.disputeOutcomes?.length || run.state.approvalOutcomes?.length || onHold(run.state)) {
      try {
        if (run.state.disputeOutcomes?.length) await applyDisputeOutcome(run);
        else if (run.state.approvalOutcomes?.length) await applyApprovalOutcome(run);
        else await hold(run);
      } catch (err) {
        // An outcome or a promise check that cannot be applied (the ERP refuses or does not know the invoice) parks it too.
        const problem = attentionProblem(err);
        if (!problem) throw err;
        await park(run, problem, null);
      }
      continue;
    }

    const ctx = run.scheduleCtx();
    const resumeAt = run.state.resumeAt;
    const plan = resumeAt
      ? planEscalatedStep(run.cadence, ctx, run.state.steps, new Date(), resumeAt.stepId)
      : planNextStep(run.cadence, ctx, run.state.steps, new Date(), patched('supersede-by-due-time'));
    if (!plan) {
      run.update({ nextStep: null, resumeAt: undefined });
      if (!run.state.cadenceDone) {
        run.update({ cadenceDone: true });
        await run.audit('cadence_completed');
        // An open invoice always has a next step, a hold with an end, or a task for someone: here, the collector's.
        if (patched('cadence-end-task')) await run.createTask('follow_up', `${run.workflowId}:cadence-done:${run.state.cadence.id}:${run.state.cadence.version}`, new Date().toISOString(), 1, cadenceDoneNote(run));
      }
      // The cadence is over but the invoice is still open: keep listening for its payment, closure, a new version or people's work.
      await run.waitUntil(Infinity);
      continue;
    }
    for (const skipped of plan.superseded) {
      const superseded: StepRecord = { stepId: skipped.step.id, action: skipped.step.action.type, at: skipped.at, outcome: 'superseded', ...(resumeAt ? { detail: resumeAt.reason } : {}) };
      run.update({ steps: [...run.state.steps, superseded] });
      await run.audit('step_superseded', { stepId: skipped.step.id, action: skipped.step.action.type, scheduledAt: skipped.at });
    }

    const { step } = plan.next;
    // The step's instant, as previewCadence dates it: its planned time, or now when caught up late.
    let at = v2 && Date.now() > Date.parse(plan.next.at) ? new Date().toISOString() : plan.next.at;
    run.update({ nextStep: { stepId: step.id, action: step.action.type, at } });
    await run.waitUntil(Date.parse(at));
    if (run.isClosed()) break;
    if (run.pendingCadence) continue; // re-plan with the new version before doing anything
    if (Date.now() < Date.parse(at)) continue; // woken early by people's work (a promise, a pause): re-plan
    if (v2 && CUSTOMER_FACING.includes(step.action.type)) {
      // Into the send window, and this invoice's own contacts within the cap (the customer workflow adds the other invoices').
      const own = run.state.steps.filter((s) => CUSTOMER_FACING.includes(s.action) && CONTACTED.includes(s.outcome)).map((s) => s.at);
      const allowed = applyContactCap(at, own, run.cadence.contactCap, run.cadence.sendWindow, run.scheduleCtx());
      if (allowed !== at) {
        const from = at;
        at = allowed;
        run.update({ nextStep: { stepId: step.id, action: step.action.type, at, deferred: { from, reason: 'send_window_or_cap' } } });
        // The mirror shows the deferral (it would show the step's instant, now past, otherwise).
        if (patched('audit-deferral')) await run.audit('step_deferred', { stepId: step.id, from, until: at, reason: 'send_window_or_cap' });
        await run.waitUntil(Date.parse(at));
        if (run.isClosed()) break;
        if (run.pendingCadence || Date.now() < Date.parse(at)) continue;
      }
    }

    const key = stepIdempotencyKey(run.workflowId, step.id);
    let result: Pick<StepRecord, 'outcome' | 'detail'>;
    try {
      // The ERP is the system of record: re-read the balance right before contacting anyone.
      if (!(await run.rereadBalance())) break;
      const pastDue = run.pastDue();
      result = v2 ? await runStep(run, step, at, key, pastDue) : await runStepV1(run, step, key, pastDue);
    } catch (err) {
      // A configuration or data problem parks the invoice visibly; it never fails the workflow.
      const problem = attentionProblem(err);
      if (!problem) throw err;
      await park(run, problem, step.id);
      continue;
    }
    const done: StepRecord = { stepId: step.id, action: step.action.type, at: v2 ? at : new Date().toISOString(), ...result };
    run.update({ steps: [...run.state.steps, done], resumeAt: undefined, ...(run.state.attentionStreak ? { attentionStreak: undefined } : {}) });
    run.update({ nextStep: run.describeNext() });
    await run.audit('step_done', { stepId: step.id, action: step.action.type, ...result });

    if (workflowInfo().continueAsNewSuggested) {
      // Update handlers call activities: let them finish so that no message is half-handled when the state moves to the next run.
      await condition(allHandlersFinished);
      await continueAsNew<typeof invoiceDunning>({ ...input, cadence: run.cadence, state: run.state });
    }
  }

  await close(run);
  return run.state;
}

function cadenceDoneNote(run: InvoiceRun): string {
  const open = formatMoney({ amountMinor: run.state.openAmountMinor, currency: run.invoice.currency }, run.customer.locale);
  return `Every step of cadence ${run.state.cadence.id} v${run.state.cadence.version} has run and ${open} is still open: call the customer, agree a plan, or request a write-off or hand-off.`;
}

/** A new cadence version takes effect at the step boundary: the plan starts again from the steps handled so far. */
async function migrateCadence(run: InvoiceRun): Promise<void> {
  const from = run.state.cadence;
  run.cadence = run.pendingCadence!;
  run.pendingCadence = undefined;
  run.update({ cadence: { id: run.cadence.id, version: run.cadence.version }, cadenceDone: false });
  run.update({ nextStep: run.describeNext() });
  await run.audit('cadence_migrated', { from, to: run.state.cadence });
}
