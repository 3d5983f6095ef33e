import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  startChild,
  continueAsNew,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { contact, system } from './activity-proxies';
import { applyContactCap, planNextStep, planEscalatedStep, daysPastDue, dueAfter } from '../domain/schedule';
import { collectionPolicyOf } from '../domain/collection-policy';
import { cancelPending, checkInstallments, courtesyDone, localDate, newPromise, nextPromiseEvent, promiseProblems, type PromiseInstallment, type PromiseRequest } from '../domain/promises';
import { CUSTOMER_FACING, type Cadence, type CadenceStep } from '../domain/cadence';
import { evaluateConditions } from '../domain/step-conditions';
import { customerMessageResultSignal, type CustomerMessageResult } from './customer-messages';
import { runInternalAction } from './step-actions';
import { disputeWorkflow } from './dispute';
import { approvalWorkflow } from './approval';
import { disputeSettledSignal, disputeWorkflowId } from './dispute-messages';
import { approvalDecidedSignal, approvalWorkflowId, type ApprovalDetails } from './approval-messages';
import type { ApprovalAction } from '../domain/authority-matrix';
import type { ErpInvoiceBalance } from '../integrations/erp/adapter';
import { stepIdempotencyKey } from '../domain/ids';
import {
  cadenceChangedSignal,
  collectorChangedSignal,
  collectorIdKey,
  dunningStageKey,
  makePromiseUpdate,
  openDisputeUpdate,
  requestApprovalUpdate,
  pauseUpdate,
  recordCallOutcomeUpdate,
  resumeUpdate,
  type CallOutcomeInput,
  type OpenDisputeRequest,
  type OpenDisputeResult,
  type ApprovalRequestInput,
  type ApprovalRequestResult,
  type CallOutcomeResult,
  type FollowUpTask,
  type StageResult,
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

/** Cadence steps that need an approval (credit_hold only when the authority matrix says so). */
const isApprovalStep = (type: CadenceStep['action']['type']) => type === 'request_write_off' || type === 'handoff' || type === 'credit_hold';
function approvalActionOf(action: CadenceStep['action']): ApprovalAction {
  if (action.type === 'request_write_off') return 'write_off';
  if (action.type === 'handoff') return action.to === 'legal' ? 'legal_handoff' : 'agency_handoff';
  return 'credit_hold';
}
function stepReason(action: CadenceStep['action']): string {
  return 'reason' in action ? action.reason : 'note' in action ? action.note : action.type;
}

/** The stage of an invoice the ERP shows closed, or with nothing left open. */
const closedStageOf = (status: ErpInvoiceBalance['status']): DunningStage => (status === 'credited' ? 'cancelled' : status === 'written_off' ? 'written_off' : 'paid');

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
      hold: {
        pausedUntil: isClosed() ? null : (state.pause?.until ?? null),
        promiseDate: isClosed() ? null : (state.promise?.installments.find((i) => i.status === 'pending')?.dueDate ?? null),
      },
      details,
    });

  const setStage = (stage: DunningStage) => {
    if (state.stage === stage) return;
    state.stage = stage;
    upsertSearchAttributes([{ key: dunningStageKey, value: stage }]);
  };

  /** Re-reads the ERP balance (the system of record); false when the invoice is closed, the ERP's closure applied. */
  const rereadBalance = async (): Promise<boolean> => {
    const balance = await system.getInvoiceBalance(invoice.number);
    if (isClosed()) return false;
    state.openAmountMinor = balance.openAmountMinor;
    if (balance.status === 'open' && balance.openAmountMinor > 0) return true;
    setStage(closedStageOf(balance.status));
    return false;
  };

  // People change the invoice's course (a promise, a pause, a dispute): `wake` tells the main loop to look again.
  let wake = 0;
  // A partial dispute leaves the undisputed rest in dunning; a full one, like a pause or a pending approval, holds the cadence.
  const fullDispute = () => state.dispute !== undefined && state.dispute.full;
  const onHold = () => state.pause !== undefined || fullDispute() || state.approval !== undefined || state.promise !== undefined;
  const openStage = (): DunningStage =>
    state.pause ? 'paused' : fullDispute() ? 'disputed' : state.approval ? 'awaiting_approval' : state.promise ? 'promised' : 'active';
  const hasOutcomes = () => (state.disputeOutcomes?.length ?? 0) + (state.approvalOutcomes?.length ?? 0) > 0;
  const policy = () => collectionPolicyOf(cadence);
  const today = () => localDate(Date.now(), customer.timeZone);
  const changeCourse = () => {
    if (!isClosed()) setStage(openStage());
    state.nextStep = describeNext();
    wake++;
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
  /** Sleeps until `deadline` (epoch ms), closure, a new cadence version or a change of course, recording payments as they arrive. */
  const waitUntil = async (deadline: number) => {
    const since = wake;
    while (!isClosed()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      if (pendingCadence || wake !== since) break;
      const woken = () => isClosed() || state.payments.length > auditedPayments || pendingCadence !== undefined || wake !== since;
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
  setHandler(disputeSettledSignal, (outcome) => {
    if (state.dispute?.disputeId !== outcome.disputeId) return; // a repeated or stray signal
    state.disputeOutcomes = [...(state.disputeOutcomes ?? []).filter((o) => o.disputeId !== outcome.disputeId), outcome];
    wake++;
  });
  setHandler(approvalDecidedSignal, (outcome) => {
    if (state.approval?.requestId !== outcome.requestId) return;
    state.approvalOutcomes = [...(state.approvalOutcomes ?? []).filter((o) => o.requestId !== outcome.requestId), outcome];
    wake++;
  });
  setHandler(collectorChangedSignal, (collectorId) => {
    // The customer moved to another portfolio: later tasks go to the new collector, and the workflow lists under them.
    if (customer.collectorId === collectorId) return;
    customer.collectorId = collectorId;
    upsertSearchAttributes([{ key: collectorIdKey, value: collectorId }]);
  });
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

  /** What the invoice waits for next: the end of a pause, a promise's courtesy reminder or check, or the cadence's next step. */
  const describeNext = (): DunningState['nextStep'] => {
    if (isClosed()) return null;
    if (state.pause) return state.pause.until ? { stepId: 'pause-ends', action: 'resume', at: state.pause.until } : null;
    if (fullDispute() || state.approval) return null;
    if (state.promise) {
      const event = nextPromiseEvent(state.promise, { timeZone: customer.timeZone, sendAt: cadence.sendAt });
      return event ? { stepId: `promise-${event.installment.no}`, action: event.kind === 'check' ? 'promise_check' : 'promise_courtesy', at: event.at } : null;
    }
    return upcoming();
  };

  const createTask = async (kind: FollowUpTask['kind'], key: string, dueAt: string, attempt: number, note: string, parentTaskId?: number): Promise<FollowUpTask> => {
    const task = await system.createCallTask({
      idempotencyKey: key,
      tenantId,
      invoiceNumber: invoice.number,
      customerId: customer.id,
      collectorId: customer.collectorId ?? null,
      dueAt,
      note,
      kind,
      attempt,
      workflowId,
      ...(parentTaskId !== undefined ? { parentTaskId } : {}),
    });
    return { taskId: task.taskId, kind, dueAt: task.dueAt, attempt };
  };

  const promiseRules = () => {
    const p = policy();
    return {
      toleranceBusinessDays: p.promise.toleranceBusinessDays,
      maxDaysAhead: p.promise.maxDaysAhead,
      maxMissed: p.paymentPlan.maxMissedInstallments,
      ...(p.promise.courtesyReminder ? { courtesyBusinessDaysBefore: p.promise.courtesyReminder.businessDaysBefore } : {}),
    };
  };
  /** Throws every reason the promise (or plan, settlement) cannot be followed, as the validators' message. */
  const assertPromiseFits = (req: PromiseRequest) => {
    const problems = promiseProblems(req, { openAmountMinor: state.openAmountMinor, today: today(), rules: promiseRules() });
    if (problems.length) throw new Error(problems.join('; '));
  };
  const checkDisputeAllowed = (req: OpenDisputeRequest) => {
    if (isClosed()) throw new Error(`invoice ${invoice.number} is ${state.stage}`);
    if (state.dispute) throw new Error(`the invoice is already disputed (${state.dispute.disputeId})`);
    if (state.approval) throw new Error(`approval request ${state.approval.requestId} is pending: decide it before opening a dispute`);
    const amount = req.amountMinor ?? state.openAmountMinor;
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > state.openAmountMinor)
      throw new Error(`the disputed amount must be between 1 and the open amount ${state.openAmountMinor}`);
    if (!req.note.trim() && req.source !== 'erp') throw new Error('a dispute needs a note: what the customer contests and why');
  };

  /** Routes the dispute by the resolution matrix, records it, tells the owner, and hands it to its child workflow. */
  const openDispute = async (req: OpenDisputeRequest): Promise<OpenDisputeResult> => {
    const amountMinor = req.amountMinor ?? state.openAmountMinor;
    // Claimed before the first await, so that a second request is refused by the validator meanwhile.
    state.dispute = {
      disputeId: req.disputeId, reasonCode: req.reasonCode, amountMinor, full: amountMinor >= state.openAmountMinor, note: req.note,
      openedAt: new Date().toISOString(), openedBy: req.actor, source: req.source, ownerTeam: '', owner: null, deadlineDate: '',
    };
    if (state.promise) {
      // A disputed invoice is not collected on a promise: the promise is called off.
      await system.recordPromiseVerdict({
        tenantId, invoiceNumber: invoice.number, customerId: customer.id, promise: state.promise,
        settled: cancelPending(state.promise),
        eventKey: `${workflowId}:promise:${state.promise.promiseId}:disputed`,
      });
      state.promise = undefined;
    }
    const route = await system.routeDispute({
      tenantId, customerId: customer.id, reasonCode: req.reasonCode, amountMinor, currency: invoice.currency, timeZone: customer.timeZone,
      ...(state.calendar ? { calendar: state.calendar } : {}),
    });
    state.dispute = { ...state.dispute, ownerTeam: route.ownerTeam, owner: route.owner, deadlineDate: route.deadlineDate };
    changeCourse();
    await system.recordDispute({
      tenantId, disputeId: req.disputeId, invoiceNumber: invoice.number, customerId: customer.id, workflowId: disputeWorkflowId(tenantId, req.disputeId),
      disputedAmountMinor: amountMinor, currency: invoice.currency, reasonCode: req.reasonCode, note: req.note, source: req.source, openedBy: req.actor, route,
    });
    await startChild(disputeWorkflow, {
      workflowId: disputeWorkflowId(tenantId, req.disputeId),
      parentClosePolicy: 'ABANDON', // it reports by signal, so it outlives a continue-as-new of this workflow
      args: [{
        tenantId, disputeId: req.disputeId, invoiceWorkflowId: workflowId, invoice, customer, disputedAmountMinor: amountMinor, reasonCode: req.reasonCode,
        note: req.note, source: req.source, openedBy: req.actor, route, ...(state.calendar ? { calendar: state.calendar } : {}),
      }],
    });
    await audit('dispute_opened', { disputeId: req.disputeId, reasonCode: req.reasonCode, amountMinor, full: state.dispute.full, by: req.actor, source: req.source, ownerTeam: route.ownerTeam, owner: route.owner, deadlineDate: route.deadlineDate });
    return { disputeId: req.disputeId, disputeWorkflowId: disputeWorkflowId(tenantId, req.disputeId), amountMinor, route, stage: state.stage };
  };

  const checkApprovalAllowed = (req: ApprovalRequestInput) => {
    if (isClosed()) throw new Error(`invoice ${invoice.number} is ${state.stage}`);
    if (state.approval) throw new Error(`approval request ${state.approval.requestId} is still pending`);
    if (!req.reason.trim()) throw new Error('an approval request needs a reason');
    if (req.action === 'settlement') {
      const s = req.details.settlement;
      if (!s || !Number.isSafeInteger(s.amountMinor) || s.amountMinor <= 0 || s.amountMinor >= state.openAmountMinor)
        throw new Error(`a settlement accepts less than the open amount ${state.openAmountMinor}: settlement.amountMinor between 1 and ${state.openAmountMinor - 1}`);
      assertPromiseFits({ promiseId: 'settlement', madeBy: 'customer', recordedBy: req.actor, installments: [{ dueDate: s.payBy, amountMinor: s.amountMinor }] });
    }
    if (req.action === 'extended_payment_plan') {
      const installments = req.details.installments ?? [];
      if (installments.length < 2) throw new Error('an extended payment plan needs at least two installments');
      assertPromiseFits({ promiseId: 'plan', planId: 'plan', madeBy: 'customer', recordedBy: req.actor, installments });
    }
  };

  /** Registers the request with the authority matrix's minimum role and hands it to its child workflow. */
  const requestApproval = async (req: ApprovalRequestInput, source: 'cadence' | 'api'): Promise<ApprovalRequestResult> => {
    const amountMinor = req.amountMinor ?? (req.action === 'settlement' ? state.openAmountMinor - req.details.settlement!.amountMinor : state.openAmountMinor);
    state.approval = { requestId: req.requestId, action: req.action, requiredRole: 'team_lead', requestedBy: req.actor, ...(req.details.stepId ? { stepId: req.details.stepId } : {}) };
    const reg = await system.registerApprovalRequest({
      tenantId, requestId: req.requestId, invoiceNumber: invoice.number, customerId: customer.id, workflowId: approvalWorkflowId(tenantId, req.requestId),
      action: req.action, amountMinor, currency: invoice.currency, reason: req.reason, source, requestedBy: req.actor, details: req.details as Record<string, unknown>,
    });
    state.approval = { ...state.approval, requiredRole: reg.requiredRole };
    changeCourse();
    await startChild(approvalWorkflow, {
      workflowId: approvalWorkflowId(tenantId, req.requestId),
      parentClosePolicy: 'ABANDON',
      args: [{
        tenantId, requestId: req.requestId, invoiceWorkflowId: workflowId, invoiceNumber: invoice.number, customerId: customer.id, action: req.action,
        amountMinor, currency: invoice.currency, amountReportingMinor: reg.amountReportingMinor, reason: req.reason, requestedBy: req.actor,
        requiredRole: reg.requiredRole, escalateAfterMs: reg.escalateAfterMs, details: req.details,
      }],
    });
    await audit('approval_requested', { requestId: req.requestId, action: req.action, amountMinor, requiredRole: reg.requiredRole, by: req.actor, reason: req.reason, source });
    return { requestId: req.requestId, approvalWorkflowId: approvalWorkflowId(tenantId, req.requestId), requiredRole: reg.requiredRole, amountMinor, amountReportingMinor: reg.amountReportingMinor, stage: state.stage };
  };

  const checkPromiseAllowed = (req: PromiseRequest) => {
    if (isClosed()) throw new Error(`invoice ${invoice.number} is ${state.stage}`);
    if (state.dispute) throw new Error('the invoice is disputed: resolve the dispute before taking a promise');
    if (state.promise) throw new Error(`promise ${state.promise.promiseId} is still being followed: its check date is ${state.promise.installments.find((i) => i.status === 'pending')?.checkDate ?? 'past'}`);
    assertPromiseFits(req);
  };
  const acceptPromise = async (req: PromiseRequest) => {
    state.promise = newPromise(req, {
      openAmountMinor: state.openAmountMinor,
      currency: invoice.currency,
      today: today(),
      madeAt: new Date().toISOString(),
      rules: promiseRules(),
      ...(state.calendar ? { calendar: state.calendar } : {}),
    });
    changeCourse();
    await system.recordPromise({ tenantId, invoiceNumber: invoice.number, customerId: customer.id, promise: state.promise });
    await audit('promise_made', { promiseId: req.promiseId, planId: req.planId ?? null, madeBy: req.madeBy, by: req.recordedBy, installments: state.promise.installments });
  };
  const stageResult = (changed: boolean): StageResult => ({ stage: state.stage, openAmountMinor: state.openAmountMinor, nextStep: state.nextStep, changed });

  const checkCallOutcome = (input: CallOutcomeInput) => {
    if (!Number.isSafeInteger(input.taskId) || input.taskId <= 0) throw new Error('taskId must be a positive integer');
    if (state.handledTasks?.includes(input.taskId)) throw new Error(`task ${input.taskId} was already completed`);
    if (isClosed()) throw new Error(`invoice ${invoice.number} is ${state.stage}`);
    const o = input.outcome;
    if (o.code === 'promise_to_pay')
      checkPromiseAllowed({ promiseId: o.promiseId, madeBy: o.madeBy, recordedBy: input.actor, installments: [{ dueDate: o.promisedDate, amountMinor: o.amountMinor }] });
    if (o.code === 'callback_requested' && !(Date.parse(o.callbackAt) > Date.now())) throw new Error(`callbackAt ${o.callbackAt} is not in the future`);
    if (o.code === 'dispute') checkDisputeAllowed({ disputeId: `D-${input.taskId}`, reasonCode: o.reasonCode, note: input.note, source: 'call', actor: input.actor });
  };

  setHandler(
    recordCallOutcomeUpdate,
    async (input): Promise<CallOutcomeResult> => {
      state.handledTasks = [...(state.handledTasks ?? []), input.taskId].slice(-500);
      const o = input.outcome;
      const taskKey = `${workflowId}:task:${input.taskId}`;
      const effects: string[] = [];
      let followUpTask: FollowUpTask | null = null;
      const internal = (role: 'team_lead' | 'ar_manager', suffix: string, note: string) =>
        system.notifyInternal({
          idempotencyKey: `${taskKey}:${suffix}`,
          tenantId,
          invoiceNumber: invoice.number,
          customerId: customer.id,
          role,
          note,
          openAmountMinor: state.openAmountMinor,
          currency: invoice.currency,
          daysPastDue: daysPastDue(scheduleCtx(), new Date()),
        });
      switch (o.code) {
        case 'promise_to_pay':
          await acceptPromise({ promiseId: o.promiseId, madeBy: o.madeBy, recordedBy: input.actor, installments: [{ dueDate: o.promisedDate, amountMinor: o.amountMinor }] });
          effects.push(`promise ${o.promiseId} recorded: customer-facing dunning waits for ${o.promisedDate}`);
          break;
        case 'dispute': {
          const opened = await openDispute({ disputeId: `D-${input.taskId}`, reasonCode: o.reasonCode, note: input.note, source: 'call', actor: input.actor });
          effects.push(`dispute ${opened.disputeId} routed to ${opened.route.ownerTeamName} (${opened.route.owner ?? opened.route.lead}), due ${opened.route.deadlineDate}; collection waits`);
          break;
        }
        case 'refused':
          await internal('team_lead', 'refused', `Customer refused to pay on a call with ${input.actor}. ${input.note}`.trim());
          effects.push('team lead notified');
          break;
        case 'request_copy': {
          const sent = await contact.sendDunningEmail({
            idempotencyKey: `${taskKey}:copy`,
            tenantId,
            invoice,
            customer,
            template: 'invoice-copy',
            openAmountMinor: state.openAmountMinor,
            daysPastDue: daysPastDue(scheduleCtx(), new Date()),
          });
          effects.push(`invoice copy ${sent.status}`);
          break;
        }
        case 'callback_requested':
          followUpTask = await createTask('callback', `${taskKey}:callback`, o.callbackAt, input.attempt, `Callback requested by the customer. ${input.note}`.trim(), input.taskId);
          break;
        case 'no_answer':
        case 'voicemail':
        case 'wrong_contact': {
          const { maxAttempts, retryAfter } = policy().callAttempts;
          if (input.attempt < maxAttempts) {
            const dueAt = dueAfter(retryAfter, new Date(), { timeZone: customer.timeZone, ...(state.calendar ? { calendar: state.calendar } : {}) }, cadence.sendAt);
            followUpTask = await createTask('follow_up', `${taskKey}:retry`, dueAt, input.attempt + 1, `Attempt ${input.attempt + 1} of ${maxAttempts}: previous call ${o.code.replace('_', ' ')}. ${input.note}`.trim(), input.taskId);
          } else {
            await internal('team_lead', 'attempts', `${maxAttempts} call attempts without reaching the customer (last: ${o.code}).`);
            effects.push(`no retry: ${maxAttempts} attempts reached; team lead notified`);
          }
          if (o.code === 'wrong_contact') effects.push('contact flagged for update');
          break;
        }
        case 'will_pay':
          break;
      }
      state.nextStep = describeNext();
      await audit('call_outcome', { taskId: input.taskId, attempt: input.attempt, outcome: o, note: input.note, by: input.actor, followUpTask, effects });
      return { stage: state.stage, openAmountMinor: state.openAmountMinor, nextStep: state.nextStep, followUpTask, effects };
    },
    { validator: checkCallOutcome },
  );

  setHandler(
    makePromiseUpdate,
    async (req) => {
      await acceptPromise(req);
      return stageResult(true);
    },
    { validator: checkPromiseAllowed },
  );

  setHandler(openDisputeUpdate, (req) => openDispute(req), { validator: checkDisputeAllowed });
  setHandler(requestApprovalUpdate, (req) => requestApproval(req, 'api'), { validator: checkApprovalAllowed });

  setHandler(
    pauseUpdate,
    async (req) => {
      state.pause = { reason: req.reason, until: req.until, by: req.actor, since: new Date().toISOString(), scope: req.scope };
      changeCourse();
      await audit('paused', { reason: req.reason, until: req.until, by: req.actor, scope: req.scope });
      return stageResult(true);
    },
    {
      validator: (req) => {
        if (isClosed()) throw new Error(`invoice ${invoice.number} is ${state.stage}`);
        if (!req.reason.trim()) throw new Error('a pause needs a reason');
        if (req.until !== null && !(Date.parse(req.until) > Date.now())) throw new Error(`until ${req.until} is not in the future`);
      },
    },
  );

  setHandler(
    resumeUpdate,
    async (req) => {
      // A customer-wide resume leaves an invoice paused on its own alone.
      if (!state.pause || (req.scope === 'customer' && state.pause.scope !== 'customer')) return stageResult(false);
      const ended = state.pause;
      state.pause = undefined;
      changeCourse();
      await audit('resumed', { by: req.actor, note: req.note, scope: req.scope, pausedBy: ended.by, pausedSince: ended.since });
      return stageResult(true);
    },
    {
      validator: (_req) => {
        if (isClosed()) throw new Error(`invoice ${invoice.number} is ${state.stage}`);
      },
    },
  );

  /** Hands a customer-facing message to the customer's contact workflow (consolidation, cap, window, ERP re-check). */
  const queueMessage = (m: { requestId: string; stepId: string; kind: 'email' | 'statement'; template: string; daysPastDue: number; requestedAt: string }) =>
    system.queueCustomerMessage({
      ...m,
      tenantId,
      invoiceWorkflowId: workflowId,
      invoice,
      customer,
      contactCap: cadence.contactCap,
      sendWindow: cadence.sendWindow,
      ...(state.calendar ? { calendar: state.calendar } : {}),
      ...(state.dispute ? { disputedAmountMinor: state.dispute.amountMinor } : {}),
    });

  /** Sends a promise's courtesy reminder through the customer's contact workflow (caps and send window apply). */
  const sendCourtesy = async (inst: PromiseInstallment, template: string) => {
    const promise = state.promise!;
    const requestId = `${workflowId}:promise:${promise.promiseId}:${inst.no}:courtesy`;
    await queueMessage({ requestId, stepId: `promise-courtesy-${inst.no}`, kind: 'email', template, daysPastDue: daysPastDue(scheduleCtx(), new Date()), requestedAt: new Date().toISOString() });
    const answered = await condition(() => messageResults.has(requestId), '30 days');
    if (state.promise?.promiseId === promise.promiseId) state.promise = courtesyDone(state.promise, inst.no);
    await audit('promise_courtesy_reminder', { promiseId: promise.promiseId, installment: inst.no, outcome: answered ? messageResults.get(requestId)!.outcome : 'uncertain' });
  };

  /** Checks a promise's installment(s) against the ERP balance and acts on the verdict. */
  const checkPromise = async (inst: PromiseInstallment) => {
    const balance = await system.getInvoiceBalance(invoice.number);
    if (isClosed() || !state.promise) return;
    state.openAmountMinor = balance.openAmountMinor;
    if (balance.status !== 'open' || balance.openAmountMinor <= 0) {
      setStage(closedStageOf(balance.status));
      return; // the closing code settles the promise
    }
    const { promise, result } = checkInstallments(state.promise, balance.openAmountMinor, inst.checkDate, state.calendar);
    const single = promise.installments.length === 1 && !promise.planId;
    const verdict = single ? result.settled[0]?.status : result.planStatus;
    const broken = verdict === 'broken';
    state.promise = broken || (single && verdict !== undefined) || result.planStatus === 'completed' ? undefined : promise;
    await system.recordPromiseVerdict({
      tenantId,
      invoiceNumber: invoice.number,
      customerId: customer.id,
      promise,
      // A broken plan's installments still to come are called off.
      settled: broken && !single ? [...result.settled, ...cancelPending(promise)] : result.settled,
      planStatus: single ? undefined : result.planStatus,
      eventKey: `${workflowId}:promise:${promise.promiseId}:check:${inst.no}`,
    });
    const base = { promiseId: promise.promiseId, planId: promise.planId ?? null, settled: result.settled.map((i) => ({ no: i.no, status: i.status, paidMinor: i.paidMinor })), paidMinor: result.paidMinor };
    if (broken) {
      state.brokenPromises = (state.brokenPromises ?? 0) + 1;
      state.resumeAt = { stepId: policy().brokenPromise.resumeAtStep ?? null, reason: single ? 'broken_promise' : 'broken_payment_plan' };
      changeCourse();
      const task = await createTask('broken_promise', `${workflowId}:promise:${promise.promiseId}:broken`, new Date().toISOString(), 1, policy().brokenPromise.followUpNote);
      await audit(single ? 'promise_broken' : 'payment_plan_broken', { ...base, followUpTask: task, resumeAt: state.resumeAt });
      return;
    }
    changeCourse();
    const missed = result.settled.filter((i) => i.status !== 'kept');
    if (!single && missed.length > 0 && state.promise) {
      const task = await createTask('follow_up', `${workflowId}:promise:${promise.promiseId}:missed:${inst.no}`, new Date().toISOString(), 1,
        `Installment ${missed.map((m) => m.no).join(', ')} of plan ${promise.planId ?? promise.promiseId} missed (${missed.map((m) => `${m.paidMinor} of ${m.amountMinor}`).join(', ')} paid): the plan survives ${promise.maxMissed} miss(es).`);
      await audit('installment_missed', { ...base, followUpTask: task });
      return;
    }
    await audit(single ? `promise_${verdict}` : result.planStatus === 'completed' ? 'payment_plan_completed' : 'installment_kept', base);
    if (state.settlement?.promiseId === promise.promiseId) {
      const settled = state.settlement;
      state.settlement = undefined;
      if (verdict === 'kept') {
        // The settled amount came in: the rest is written off, as approved.
        const off = await writeOffOpen(`settlement ${settled.requestId}: remainder written off`, `${workflowId}:settlement:${settled.requestId}`);
        await system.recordApprovalEffect({ tenantId, requestId: settled.requestId, invoiceNumber: invoice.number, effect: { settledAmountMinor: settled.settledAmountMinor, ...off } });
        setStage('written_off');
      }
    }
  };

  /** Writes off what is open through the ERP (a journal entry); the caller closes the invoice as written off. */
  const writeOffOpen = async (reason: string, idempotencyKey: string) => {
    const writtenOffMinor = state.openAmountMinor;
    const off = await system.postWriteOff({ invoiceNumber: invoice.number, amountMinor: writtenOffMinor, currency: invoice.currency, reason, idempotencyKey });
    state.openAmountMinor = off.invoice.openAmountMinor;
    return { journalId: off.journalId, writtenOffMinor };
  };

  /** A dispute's outcome: a valid one credited the invoice (the ERP says what is left); an invalid one resumes collection. */
  const applyDisputeOutcome = async () => {
    const outcome = state.disputeOutcomes!.shift()!;
    const dispute = state.dispute;
    state.dispute = undefined;
    if (outcome.status === 'resolved_valid') await rereadBalance(); // the credit reduced or closed it
    changeCourse();
    await audit('dispute_settled', { disputeId: outcome.disputeId, status: outcome.status, creditAmountMinor: outcome.creditAmountMinor, creditMemoId: outcome.creditMemoId, rebillInvoiceNumber: outcome.rebillInvoiceNumber, rootCause: outcome.rootCause, by: outcome.resolvedBy, reasonCode: dispute?.reasonCode ?? null });
  };

  /** An approval's decision: the approved effect through the ERP or the workflow; a rejection lets the cadence go on. */
  const applyApprovalOutcome = async () => {
    const outcome = state.approvalOutcomes!.shift()!;
    state.approval = undefined;
    const key = `${workflowId}:approval:${outcome.requestId}`;
    let effect: Record<string, unknown> = {};
    if (outcome.status === 'approved') {
      switch (outcome.action) {
        case 'write_off': {
          effect = await writeOffOpen(`approved by ${outcome.decidedBy}: ${outcome.note}`, `${key}:write-off`);
          setStage('written_off');
          break;
        }
        case 'settlement': {
          const s = outcome.details.settlement!;
          const promiseId = `SETTLE-${outcome.requestId}`;
          state.settlement = { requestId: outcome.requestId, promiseId, settledAmountMinor: s.amountMinor };
          await acceptPromise({ promiseId, madeBy: 'settlement', recordedBy: outcome.decidedBy, installments: [{ dueDate: s.payBy, amountMinor: s.amountMinor }] });
          effect = { promiseId, settledAmountMinor: s.amountMinor, payBy: s.payBy };
          break;
        }
        case 'credit_hold': {
          const hold = await system.placeCreditHold({ idempotencyKey: `${key}:hold`, customerId: customer.id, reason: outcome.note || 'approved credit hold' });
          effect = { onHold: hold.onHold, heldSince: hold.heldSince };
          break;
        }
        case 'release_credit_hold': {
          const release = await system.releaseCreditHold({ idempotencyKey: `${key}:release`, customerId: customer.id, reason: outcome.note || 'approved release' });
          effect = { onHold: release.onHold };
          break;
        }
        case 'legal_handoff':
        case 'agency_handoff': {
          const handedTo = outcome.action === 'legal_handoff' ? 'legal' : 'agency';
          const pkg = await system.buildHandoffPackage({ tenantId, invoiceNumber: invoice.number, handedTo, requestId: outcome.requestId, approvedBy: outcome.decidedBy });
          effect = { handedTo, package: pkg };
          setStage('handed_off');
          break;
        }
        case 'extended_payment_plan': {
          const planId = `PLAN-${outcome.requestId}`;
          await acceptPromise({ promiseId: planId, planId, madeBy: 'payment plan', recordedBy: outcome.decidedBy, installments: outcome.details.installments! });
          effect = { planId };
          break;
        }
      }
      await system.recordApprovalEffect({ tenantId, requestId: outcome.requestId, invoiceNumber: invoice.number, effect });
    }
    changeCourse();
    await audit(`approval_${outcome.status}`, { requestId: outcome.requestId, action: outcome.action, by: outcome.decidedBy, note: outcome.note, effect });
  };

  /** While paused, disputed or promised, no cadence step runs: wait for the end of the pause, or for the promise's next event. */
  const hold = async () => {
    const since = wake;
    if (state.pause) {
      const until = state.pause.until ? Date.parse(state.pause.until) : Infinity;
      await waitUntil(until);
      if (state.pause && wake === since && !isClosed() && Date.now() >= until) {
        const ended = state.pause;
        state.pause = undefined;
        changeCourse();
        await audit('resumed', { by: 'schedule', note: `pause until ${ended.until} ended`, scope: ended.scope, pausedBy: ended.by, pausedSince: ended.since });
      }
      return;
    }
    if (fullDispute() || state.approval) {
      await waitUntil(Infinity); // the child workflow's signal wakes it
      return;
    }
    const promise = state.promise!;
    const event = nextPromiseEvent(promise, { timeZone: customer.timeZone, sendAt: cadence.sendAt });
    if (!event) {
      state.promise = undefined;
      changeCourse();
      return;
    }
    await waitUntil(Date.parse(event.at));
    if (isClosed() || pendingCadence || wake !== since || Date.now() < Date.parse(event.at)) return;
    const courtesy = policy().promise.courtesyReminder;
    if (event.kind === 'courtesy') {
      if (courtesy) await sendCourtesy(event.installment, courtesy.template);
      else state.promise = courtesyDone(promise, event.installment.no);
      state.nextStep = describeNext();
    } else {
      await checkPromise(event.installment);
    }
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
      state.cadenceDone = false;
      state.nextStep = describeNext();
      await audit('cadence_migrated', { from, to: state.cadence });
    }
    if (hasOutcomes()) {
      if (state.disputeOutcomes?.length) await applyDisputeOutcome();
      else await applyApprovalOutcome();
      continue;
    }
    if (onHold()) {
      await hold();
      continue;
    }
    const plan = state.resumeAt
      ? planEscalatedStep(cadence, scheduleCtx(), state.steps, new Date(), state.resumeAt.stepId)
      : planNextStep(cadence, scheduleCtx(), state.steps, new Date());
    if (!plan) {
      state.nextStep = null;
      state.resumeAt = undefined;
      if (!state.cadenceDone) {
        state.cadenceDone = true;
        await audit('cadence_completed');
      }
      // The cadence is over but the invoice is still open: keep listening for its payment, closure, a new version or people's work.
      await waitUntil(Infinity);
      continue;
    }
    for (const skipped of plan.superseded) {
      state.steps.push({ stepId: skipped.step.id, action: skipped.step.action.type, at: skipped.at, outcome: 'superseded', ...(state.resumeAt ? { detail: state.resumeAt.reason } : {}) });
      await audit('step_superseded', { stepId: skipped.step.id, scheduledAt: skipped.at });
    }
    const { step } = plan.next;
    // The step's instant, as previewCadence dates it: its planned time, or now when caught up late.
    let at = v2 && Date.now() > Date.parse(plan.next.at) ? new Date().toISOString() : plan.next.at;
    state.nextStep = { stepId: step.id, action: step.action.type, at };
    await waitUntil(Date.parse(at));
    if (isClosed()) break;
    if (pendingCadence) continue; // re-plan with the new version before doing anything
    if (Date.now() < Date.parse(at)) continue; // woken early by people's work (a promise, a pause): re-plan
    if (v2 && CUSTOMER_FACING.includes(step.action.type)) {
      // Into the send window, and this invoice's own contacts within the cap (the customer workflow adds the other invoices').
      const own = state.steps.filter((s) => CUSTOMER_FACING.includes(s.action) && CONTACTED.includes(s.outcome)).map((s) => s.at);
      const allowed = applyContactCap(at, own, cadence.contactCap, cadence.sendWindow, scheduleCtx());
      if (allowed !== at) {
        at = allowed;
        state.nextStep = { stepId: step.id, action: step.action.type, at };
        await waitUntil(Date.parse(at));
        if (isClosed()) break;
        if (pendingCadence || Date.now() < Date.parse(at)) continue;
      }
    }

    // The ERP is the system of record: re-read the balance right before contacting anyone.
    if (!(await rereadBalance())) break;

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
        promiseActive: state.promise !== undefined,
        disputeActive: state.dispute !== undefined,
        doNotContact: facts.doNotContact,
      });
      if (!verdict.run) {
        result = { outcome: 'skipped', detail: verdict.reason };
      } else if (step.action.type === 'email' && facts.preferredChannel === 'phone') {
        // The customer's contact asked to be called, not written to: the reminder becomes a call.
        const task = await createTask('follow_up', key, new Date().toISOString(), 1, `Customer prefers phone: call instead of reminder "${step.id}" (${step.action.template}).`);
        result = { outcome: 'call_instead', detail: `task ${task.taskId}` };
      } else if (step.action.type === 'email' || step.action.type === 'statement') {
        await queueMessage({ requestId: key, stepId: step.id, kind: step.action.type, template: step.action.template, daysPastDue: pastDue, requestedAt: at });
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
      } else if (isApprovalStep(step.action.type) && patched('approvals') && (step.action.type !== 'credit_hold' || (await system.approvalNeeded({ tenantId, action: 'credit_hold' })))) {
        // The authority matrix decides who may approve; the cadence waits for the decision.
        const action = approvalActionOf(step.action);
        const requested = await requestApproval({ requestId: `${invoice.number}-${step.id}`, action, reason: stepReason(step.action), actor: 'cadence', details: { stepId: step.id } as ApprovalDetails }, 'cadence');
        result = { outcome: 'approval_requested', detail: `${requested.requestId}: ${action} needs a ${requested.requiredRole}` };
      } else {
        result = await runInternalAction(step, { idempotencyKey: key, tenantId, invoice, customer, openAmountMinor: state.openAmountMinor, daysPastDue: pastDue });
      }
    }
    state.steps.push({ stepId: step.id, action: step.action.type, at: v2 ? at : new Date().toISOString(), ...result });
    state.resumeAt = undefined;
    state.nextStep = describeNext();
    await audit('step_done', { stepId: step.id, action: step.action.type, ...result });

    if (workflowInfo().continueAsNewSuggested) {
      // Update handlers call activities: let them finish so that no message is half-handled when the state moves to the next run.
      await condition(allHandlersFinished);
      await continueAsNew<typeof invoiceDunning>({ ...input, cadence, state });
    }
  }

  state.nextStep = null;
  await auditNewPayments();
  // Closed while a dispute or a request was open: they are moot now.
  // (A child that finished meanwhile cannot be cancelled: its outcome no longer matters either.)
  const cancelChild = async (childId: string) => {
    try {
      await getExternalWorkflowHandle(childId).cancel();
    } catch {
      // already closed
    }
  };
  if (state.dispute && !state.disputeOutcomes?.length) await cancelChild(disputeWorkflowId(tenantId, state.dispute.disputeId));
  if (state.approval && !state.approvalOutcomes?.length) await cancelChild(approvalWorkflowId(tenantId, state.approval.requestId));
  state.dispute = undefined;
  state.approval = undefined;
  if (state.promise) {
    // Paid before the check: the promise was kept; closed otherwise (credited, written off): nothing left to promise.
    const kept = state.stage === 'paid';
    await system.recordPromiseVerdict({
      tenantId,
      invoiceNumber: invoice.number,
      customerId: customer.id,
      promise: state.promise,
      settled: kept ? state.promise.installments.filter((i) => i.status === 'pending').map((i) => ({ ...i, status: 'kept' as const, paidMinor: i.amountMinor })) : cancelPending(state.promise),
      planStatus: state.promise.planId ? (kept ? 'completed' : undefined) : undefined,
      eventKey: `${workflowId}:promise:${state.promise.promiseId}:closed`,
    });
    state.promise = undefined;
  }
  await audit('closed', { stage: state.stage });
  await condition(allHandlersFinished);
  return state;
}
