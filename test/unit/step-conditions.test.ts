import { describe, expect, it } from 'vitest';
import { cadenceStepSchema, type CadenceStep } from '../../domain/cadence';
import { evaluateConditions, type StepFacts } from '../../domain/step-conditions';

const FACTS: StepFacts = { currency: 'EUR', openAmountMinor: 12_000, segment: 'standard', promiseActive: false, disputeActive: false, doNotContact: false };

function step(action: Record<string, unknown>, conditions?: Record<string, unknown>): CadenceStep {
  return cadenceStepSchema.parse({ id: 's', offset: { amount: 1, unit: 'days' }, action, ...(conditions ? { conditions } : {}) });
}
const EMAIL = { type: 'email', template: 'reminder-friendly' };
const STATEMENT = { type: 'statement' };
const CALL = { type: 'call_task', note: 'Call.' };
const HOLD = { type: 'credit_hold', reason: 'Overdue.' };
const ESCALATE = { type: 'escalate', role: 'team_lead', note: 'Look.' };

describe('evaluateConditions', () => {
  it('no conditions: runs', () => {
    for (const action of [EMAIL, STATEMENT, CALL, HOLD, ESCALATE]) expect(evaluateConditions(step(action), FACTS)).toEqual({ run: true });
  });

  it('minimum open amount per currency: at the minimum runs, one minor unit below does not', () => {
    const s = step(HOLD, { minOpenAmount: { EUR: 5000, USD: 7500 } });
    expect(evaluateConditions(s, { ...FACTS, openAmountMinor: 5000 })).toEqual({ run: true });
    expect(evaluateConditions(s, { ...FACTS, openAmountMinor: 4999 })).toEqual({ run: false, reason: 'open amount below EUR minimum 5000' });
    expect(evaluateConditions(s, { ...FACTS, currency: 'USD', openAmountMinor: 5000 })).toEqual({ run: false, reason: 'open amount below USD minimum 7500' });
    expect(evaluateConditions(s, { ...FACTS, currency: 'USD', openAmountMinor: 7500 })).toEqual({ run: true });
  });

  it('minimums set, but none for the invoice currency: does not run, and says why', () => {
    const s = step(HOLD, { minOpenAmount: { EUR: 5000, USD: 7500 } });
    expect(evaluateConditions(s, { ...FACTS, currency: 'JPY', openAmountMinor: 1_000_000 })).toEqual({
      run: false,
      reason: 'no minimum open amount for JPY (only EUR, USD)',
    });
  });

  it('segments', () => {
    expect(evaluateConditions(step(CALL, { segments: ['strategic'] }), FACTS)).toEqual({ run: false, reason: 'segment standard not in [strategic]' });
    expect(evaluateConditions(step(CALL, { segments: ['strategic', 'high_risk'] }), FACTS)).toEqual({
      run: false,
      reason: 'segment standard not in [strategic, high_risk]',
    });
    expect(evaluateConditions(step(CALL, { segments: ['strategic', 'standard'] }), FACTS)).toEqual({ run: true });
  });

  it('skipIf promise_active / dispute_active: only when listed', () => {
    const s = step(EMAIL, { skipIf: ['promise_active', 'dispute_active'] });
    expect(evaluateConditions(s, { ...FACTS, promiseActive: true })).toEqual({ run: false, reason: 'promise_active' });
    expect(evaluateConditions(s, { ...FACTS, disputeActive: true })).toEqual({ run: false, reason: 'dispute_active' });
    expect(evaluateConditions(s, FACTS)).toEqual({ run: true });
    expect(evaluateConditions(step(EMAIL, { skipIf: ['dispute_active'] }), { ...FACTS, promiseActive: true })).toEqual({ run: true });
    expect(evaluateConditions(step(EMAIL), { ...FACTS, promiseActive: true, disputeActive: true })).toEqual({ run: true });
  });

  it('do-not-contact: never a customer-facing action, listed or not', () => {
    const dnc = { ...FACTS, doNotContact: true };
    expect(evaluateConditions(step(EMAIL), dnc)).toEqual({ run: false, reason: 'do_not_contact' });
    expect(evaluateConditions(step(STATEMENT), dnc)).toEqual({ run: false, reason: 'do_not_contact' });
    expect(evaluateConditions(step(EMAIL, { skipIf: ['promise_active'] }), dnc)).toEqual({ run: false, reason: 'do_not_contact' });
  });

  it('do-not-contact: other actions only when the step lists it', () => {
    const dnc = { ...FACTS, doNotContact: true };
    expect(evaluateConditions(step(CALL), dnc)).toEqual({ run: true });
    expect(evaluateConditions(step(CALL, { skipIf: ['do_not_contact'] }), dnc)).toEqual({ run: false, reason: 'do_not_contact' });
    expect(evaluateConditions(step(ESCALATE), dnc)).toEqual({ run: true });
    expect(evaluateConditions(step(HOLD, { skipIf: ['do_not_contact'] }), FACTS)).toEqual({ run: true });
  });

  it('the first failing rule is the reason: do-not-contact, segment, amount, then skipIf in its order', () => {
    const all = { segments: ['strategic'], minOpenAmount: { EUR: 50_000 }, skipIf: ['dispute_active', 'promise_active'] };
    const worst = { ...FACTS, doNotContact: true, promiseActive: true, disputeActive: true };
    expect(evaluateConditions(step(EMAIL, all), worst)).toEqual({ run: false, reason: 'do_not_contact' });
    expect(evaluateConditions(step(CALL, all), worst)).toEqual({ run: false, reason: 'segment standard not in [strategic]' });
    expect(evaluateConditions(step(CALL, all), { ...worst, segment: 'strategic' })).toEqual({ run: false, reason: 'open amount below EUR minimum 50000' });
    expect(evaluateConditions(step(CALL, all), { ...worst, segment: 'strategic', openAmountMinor: 50_000 })).toEqual({ run: false, reason: 'dispute_active' });
    expect(evaluateConditions(step(CALL, all), { ...FACTS, segment: 'strategic', openAmountMinor: 50_000 })).toEqual({ run: true });
  });
});
