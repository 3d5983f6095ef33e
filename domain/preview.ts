import type { BusinessCalendar } from './business-calendar';
import { CUSTOMER_FACING, type Cadence, type Segment, type StepActionType } from './cadence';
import { applyContactCap, planNextStep, type HandledStep, type ScheduleContext } from './schedule';
import { evaluateConditions, type StepFacts } from './step-conditions';

/**
 * The dated timeline of a cadence for one invoice, exactly as the invoice workflow would run it if
 * nothing happened meanwhile (no payment, no promise, no dispute, the open amount unchanged). Pure.
 *
 * It simulates the workflow's loop with the same functions the workflow calls. The loop, which the
 * workflow implements step for step:
 *
 *   now = asOf; handled = []; sent = []            // sent: customer-facing steps that ran, their times
 *   loop {
 *     plan = planNextStep(cadence, ctx, handled, now); if there is none, stop
 *     for each p of plan.superseded: record p as 'superseded' at p.at; handled.push({ stepId, at: p.at })
 *     t = max(now, plan.next.at)                   // the workflow sleeps until plan.next.at
 *     if the step is customer-facing (CUSTOMER_FACING):
 *       t = applyContactCap(t, sent, cadence.contactCap, cadence.sendWindow, ctx)
 *           // with no contactCap this only moves t into the send window: a step caught up late
 *           // (enrolment or a worker outage outside the window) still goes out inside the window
 *     result = evaluateConditions(step, facts)     // facts: the open amount as given, no promise, no dispute
 *     record 'skipped' (with result.reason) or 'scheduled' at t; if scheduled and customer-facing, sent.push(t)
 *     handled.push({ stepId, at: t }); now = t
 *   }
 *
 * ctx = { dueDate, timeZone, calendar }. Each round handles at least one step, so the loop ends.
 * Not modelled: the customer-level batching of messages of several invoices (the per-customer
 * workflow may send a little later, by its gathering delay), and the other invoices' messages
 * counting towards the customer's contact cap.
 */
export interface PreviewInput {
  cadence: Cadence;
  dueDate: string;
  currency: string;
  openAmountMinor: number;
  timeZone: string;
  segment: Segment;
  doNotContact?: boolean;
  calendar?: BusinessCalendar;
  /** ISO instant: when the invoice is enrolled. */
  asOf: string;
}

export interface PreviewStep {
  stepId: string;
  action: StepActionType;
  /** ISO instant the step runs, or the instant it was passed over. */
  at: string;
  status: 'scheduled' | 'superseded' | 'skipped';
  reason?: string;
}

export function previewCadence(input: PreviewInput): PreviewStep[] {
  const { cadence } = input;
  const ctx: ScheduleContext = { dueDate: input.dueDate, timeZone: input.timeZone, ...(input.calendar ? { calendar: input.calendar } : {}) };
  const facts: StepFacts = {
    currency: input.currency,
    openAmountMinor: input.openAmountMinor,
    segment: input.segment,
    promiseActive: false,
    disputeActive: false,
    doNotContact: input.doNotContact ?? false,
  };
  const asOf = Date.parse(input.asOf);
  if (Number.isNaN(asOf)) throw new RangeError(`asOf is not an ISO instant: "${input.asOf}"`);

  const timeline: PreviewStep[] = [];
  const handled: HandledStep[] = [];
  const sent: string[] = [];
  let now = new Date(asOf);
  for (let round = 0; round < cadence.steps.length; round++) {
    const plan = planNextStep(cadence, ctx, handled, now);
    if (!plan) break;
    for (const p of plan.superseded) {
      timeline.push({ stepId: p.step.id, action: p.step.action.type, at: p.at, status: 'superseded', reason: `superseded by ${plan.next.step.id}` });
      handled.push({ stepId: p.step.id, at: p.at });
    }
    const { step } = plan.next;
    let t = new Date(Math.max(now.getTime(), Date.parse(plan.next.at))).toISOString();
    const customerFacing = CUSTOMER_FACING.includes(step.action.type);
    if (customerFacing) t = applyContactCap(t, sent, cadence.contactCap, cadence.sendWindow, ctx);
    const result = evaluateConditions(step, facts);
    if (result.run) {
      timeline.push({ stepId: step.id, action: step.action.type, at: t, status: 'scheduled' });
      if (customerFacing) sent.push(t);
    } else {
      timeline.push({ stepId: step.id, action: step.action.type, at: t, status: 'skipped', reason: result.reason });
    }
    handled.push({ stepId: step.id, at: t });
    now = new Date(t);
  }
  return timeline;
}
