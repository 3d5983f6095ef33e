import { condition, patched } from '@temporalio/workflow';
import { system } from '../activity-proxies';
import { runInternalAction } from '../step-actions';
import { evaluateConditions } from '../../domain/step-conditions';
import type { ApprovalAction } from '../../domain/authority-matrix';
import type { ApprovalDetails } from '../../domain/approvals';
import type { CadenceStep } from '../../domain/cadence';
import type { StepRecord } from '../../domain/invoice-state';
import { requestApproval } from './approvals';
import { NeedsAttention } from './attention';
import type { InvoiceRun } from './run';

type StepResult = Pick<StepRecord, 'outcome' | 'detail'>;

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

/**
 * Runs one cadence step (cadence v2): its conditions against the customer's facts, then the action:
 * a message through the customer's contact workflow, a call instead when the contact prefers the phone,
 * an approval request, or an internal action (task, escalation, ERP, webhook).
 */
export async function runStep(run: InvoiceRun, step: CadenceStep, at: string, key: string, pastDue: number): Promise<StepResult> {
  const facts = await system.getCustomerFacts({ tenantId: run.tenantId, customerId: run.customer.id });
  const verdict = evaluateConditions(step, {
    currency: run.invoice.currency,
    openAmountMinor: run.state.openAmountMinor,
    segment: facts.segment,
    promiseActive: run.state.promise !== undefined,
    disputeActive: run.state.dispute !== undefined,
    doNotContact: facts.doNotContact,
  });
  if (!verdict.run) return { outcome: 'skipped', detail: verdict.reason };
  const { action } = step;
  if (action.type === 'email' && facts.preferredChannel === 'phone') {
    // The customer's contact asked to be called, not written to: the reminder becomes a call.
    const task = await run.createTask('follow_up', key, new Date().toISOString(), 1, `Customer prefers phone: call instead of reminder "${step.id}" (${action.template}).`);
    return { outcome: 'call_instead', detail: `task ${task.taskId}` };
  }
  if (action.type === 'email' || action.type === 'statement') return sendMessage(run, step, action.type, action.template, at, key, pastDue);
  if (isApprovalStep(action.type) && patched('approvals') && (action.type !== 'credit_hold' || (await system.approvalNeeded({ tenantId: run.tenantId, action: 'credit_hold' })))) {
    // The authority matrix decides who may approve; the cadence waits for the decision.
    const approvalAction = approvalActionOf(action);
    const details: ApprovalDetails = { stepId: step.id };
    const requested = await requestApproval(run, { requestId: `${run.invoice.number}-${step.id}`, action: approvalAction, reason: stepReason(action), actor: 'cadence', details }, 'cadence');
    return { outcome: 'approval_requested', detail: `${requested.requestId}: ${approvalAction} needs ${/^[aeiou]/.test(requested.requiredRole) ? 'an' : 'a'} ${requested.requiredRole}` };
  }
  return runInternalAction(step, { idempotencyKey: key, tenantId: run.tenantId, invoice: run.invoice, customer: run.customer, openAmountMinor: run.state.openAmountMinor, daysPastDue: pastDue });
}

/** A customer-facing message: queued with the customer's contact workflow, which answers what became of it. */
async function sendMessage(run: InvoiceRun, step: CadenceStep, kind: 'email' | 'statement', template: string, at: string, stepKey: string, pastDue: number): Promise<StepResult> {
  // A step tried again after a problem is a new request: the contact workflow answered the first one already.
  const key = run.state.attentionStreak ? `${stepKey}#${run.state.attentionStreak}` : stepKey;
  await run.queueMessage({ requestId: key, stepId: step.id, kind, template, daysPastDue: pastDue, requestedAt: at }, { kind: 'step' });
  // Wait for the answer even if the invoice closes meanwhile: the message may already be on its way, and the
  // step must be recorded either way (a paid invoice is answered 'paid_before_send' if it was not).
  // The bound outlasts the longest contact cap a cadence may set (90 days).
  const answered = await condition(() => run.messageResults.has(key), '100 days');
  const answer = run.messageResults.get(key);
  if (answer?.outcome === 'failed') throw new NeedsAttention(answer.failure?.code ?? 'SendFailed', answer.failure?.reason ?? 'the message could not be sent');
  const result: StepResult = !answered || !answer
    ? { outcome: 'uncertain', detail: 'no answer from the customer contact workflow' }
    : { outcome: answer.outcome, ...(answer.batchSize > 1 ? { detail: `one message for ${answer.batchSize} invoices` } : {}) };
  if (result.outcome === 'uncertain') {
    // At most once means never resending; a person decides whether the customer got it.
    await run.notifyInternal(
      `${key}:uncertain`,
      'ar_manager',
      `Delivery of step ${step.id} is uncertain (the send was interrupted) and will not be repeated: confirm with the customer before the next contact.`,
      pastDue,
    );
  }
  return result;
}
