import { setHandler } from '@temporalio/workflow';
import { contact } from '../activity-proxies';
import { recordCallOutcomeUpdate } from '../messages';
import { dueAfter } from '../../domain/schedule';
import type { CallOutcomeInput, CallOutcomeResult, FollowUpTask } from '../../domain/call-outcomes';
import { openDispute } from './disputes';
import { acceptPromise } from './promises';
import type { InvoiceRun } from './run';

/** A collector completes a call task with its outcome: the outcome changes the invoice's course and may plan the next call. */
export function registerCallOutcomeHandler(run: InvoiceRun): void {
  setHandler(recordCallOutcomeUpdate, (input) => recordCallOutcome(run, input), { validator: (call) => run.validate({ kind: 'call_outcome', call }) });
}

async function recordCallOutcome(run: InvoiceRun, input: CallOutcomeInput): Promise<CallOutcomeResult> {
  run.update({ handledTasks: [...(run.state.handledTasks ?? []), input.taskId].slice(-500) });
  const o = input.outcome;
  const taskKey = `${run.workflowId}:task:${input.taskId}`;
  const effects: string[] = [];
  let followUpTask: FollowUpTask | null = null;
  switch (o.code) {
    case 'promise_to_pay':
      await acceptPromise(run, { promiseId: o.promiseId, madeBy: o.madeBy, recordedBy: input.actor, installments: [{ dueDate: o.promisedDate, amountMinor: o.amountMinor }] });
      effects.push(`promise ${o.promiseId} recorded: customer-facing dunning waits for ${o.promisedDate}`);
      break;
    case 'dispute': {
      const opened = await openDispute(run, { disputeId: `D-${input.taskId}`, reasonCode: o.reasonCode, note: input.note, source: 'call', actor: input.actor });
      effects.push(`dispute ${opened.disputeId} routed to ${opened.route.ownerTeamName} (${opened.route.owner ?? opened.route.lead}), due ${opened.route.deadlineDate}; collection waits`);
      break;
    }
    case 'refused':
      await run.notifyInternal(`${taskKey}:refused`, 'team_lead', `Customer refused to pay on a call with ${input.actor}. ${input.note}`.trim());
      effects.push('team lead notified');
      break;
    case 'request_copy': {
      const sent = await contact.sendDunningEmail({
        idempotencyKey: `${taskKey}:copy`,
        tenantId: run.tenantId,
        invoice: run.invoice,
        customer: run.customer,
        template: 'invoice-copy',
        openAmountMinor: run.state.openAmountMinor,
        daysPastDue: run.pastDue(),
      });
      effects.push(`invoice copy ${sent.status}`);
      break;
    }
    case 'callback_requested':
      followUpTask = await run.createTask('callback', `${taskKey}:callback`, o.callbackAt, input.attempt, `Callback requested by the customer. ${input.note}`.trim(), input.taskId);
      break;
    case 'no_answer':
    case 'voicemail':
    case 'wrong_contact': {
      const { maxAttempts, retryAfter } = run.policy().callAttempts;
      if (input.attempt < maxAttempts) {
        const calendar = run.state.calendar ? { calendar: run.state.calendar } : {};
        const dueAt = dueAfter(retryAfter, new Date(), { timeZone: run.customer.timeZone, ...calendar }, run.cadence.sendAt);
        const note = `Attempt ${input.attempt + 1} of ${maxAttempts}: previous call ${o.code.replace('_', ' ')}. ${input.note}`.trim();
        followUpTask = await run.createTask('follow_up', `${taskKey}:retry`, dueAt, input.attempt + 1, note, input.taskId);
      } else {
        await run.notifyInternal(`${taskKey}:attempts`, 'team_lead', `${maxAttempts} call attempts without reaching the customer (last: ${o.code}).`);
        effects.push(`no retry: ${maxAttempts} attempts reached; team lead notified`);
      }
      if (o.code === 'wrong_contact') effects.push('contact flagged for update');
      break;
    }
    case 'will_pay':
      break;
  }
  run.update({ nextStep: run.describeNext() });
  await run.audit('call_outcome', { taskId: input.taskId, attempt: input.attempt, outcome: o, note: input.note, by: input.actor, followUpTask, effects });
  const s = run.state;
  return { stage: s.stage, openAmountMinor: s.openAmountMinor, nextStep: s.nextStep, followUpTask, effects };
}
