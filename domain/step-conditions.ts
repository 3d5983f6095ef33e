import { CUSTOMER_FACING, type CadenceStep, type Segment } from './cadence';

/**
 * Does a step run, given what is known about the invoice and the customer when it falls due? Pure.
 *
 * Rules, in the order they are checked (the first that fails is the reason given):
 * 1. Do-not-contact is absolute for customer-facing actions (CUSTOMER_FACING: email, statement): a
 *    customer with `doNotContact` is never sent one, whether or not the step lists
 *    `skipIf: ['do_not_contact']`. For the other actions (a call task, an escalation, a credit hold...)
 *    the flag matters only when the step lists it in `skipIf`: a call is contact, an internal
 *    escalation is not, and the cadence says which is which.
 * 2. `segments`: the customer's segment must be listed.
 * 3. `minOpenAmount`: the open amount must be at least the minimum for the invoice currency. A step
 *    with minimums but none for the invoice currency does not run: thresholds guard costly or harsh
 *    actions, and one nobody set for this currency is not met (the reason says so, so that the preview
 *    shows the gap in the configuration).
 * 4. `skipIf`: a promise to pay or a dispute that is active, or do-not-contact (see 1).
 * A step without conditions runs (rule 1 still holds).
 */
export interface StepFacts {
  currency: string;
  openAmountMinor: number;
  segment: Segment;
  promiseActive: boolean;
  disputeActive: boolean;
  doNotContact: boolean;
}

export type ConditionResult = { run: true } | { run: false; reason: string };

const RUN: ConditionResult = { run: true };
const skip = (reason: string): ConditionResult => ({ run: false, reason });

export function evaluateConditions(step: CadenceStep, facts: StepFacts): ConditionResult {
  if (facts.doNotContact && CUSTOMER_FACING.includes(step.action.type)) return skip('do_not_contact');
  const c = step.conditions;
  if (!c) return RUN;
  if (c.segments && !c.segments.includes(facts.segment)) return skip(`segment ${facts.segment} not in [${c.segments.join(', ')}]`);
  if (c.minOpenAmount) {
    const min = c.minOpenAmount[facts.currency];
    if (min === undefined) return skip(`no minimum open amount for ${facts.currency} (only ${Object.keys(c.minOpenAmount).join(', ')})`);
    if (facts.openAmountMinor < min) return skip(`open amount below ${facts.currency} minimum ${min}`);
  }
  for (const flag of c.skipIf ?? []) {
    if (flag === 'promise_active' && facts.promiseActive) return skip('promise_active');
    if (flag === 'dispute_active' && facts.disputeActive) return skip('dispute_active');
    if (flag === 'do_not_contact' && facts.doNotContact) return skip('do_not_contact');
  }
  return RUN;
}
