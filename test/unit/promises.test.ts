import { describe, expect, it } from 'vitest';
import { cadenceSchema } from '../../domain/cadence';
import { collectionPolicyOf, DEFAULT_COLLECTION_POLICY } from '../../domain/collection-policy';
import { allocatePlan, checkInstallments, courtesyDone, newPromise, nextPromiseEvent, promiseProblems, type PromiseRules } from '../../domain/promises';
import { dueAfter, planEscalatedStep } from '../../domain/schedule';

const rules: PromiseRules = { toleranceBusinessDays: 2, maxDaysAhead: 30, maxMissed: 0, courtesyBusinessDaysBefore: 1 };
const ctx = { openAmountMinor: 100_000, today: '2026-03-02', rules }; // a Monday
const single = (dueDate: string, amountMinor = 100_000) => ({ promiseId: 'P1', madeBy: 'AP clerk', recordedBy: 'anna', installments: [{ dueDate, amountMinor }] });
const make = (req: ReturnType<typeof single> & { planId?: string }, holidays: string[] = []) =>
  newPromise(req, { ...ctx, currency: 'EUR', madeAt: '2026-03-02T10:00:00Z', calendar: { holidays } });

describe('promise acceptance', () => {
  it('accepts a promise within the open amount, today or later, within maxDaysAhead', () => {
    expect(promiseProblems(single('2026-03-02'), ctx)).toEqual([]);
    expect(promiseProblems(single('2026-04-01'), ctx)).toEqual([]); // exactly 30 days ahead
  });
  it('names every problem at once', () => {
    expect(promiseProblems({ promiseId: '', madeBy: ' ', recordedBy: 'x', installments: [{ dueDate: '2026-03-01', amountMinor: 100_001 }] }, ctx)).toEqual([
      'promiseId is required',
      'madeBy (who at the customer promised) is required',
      'the promise: date 2026-03-01 is in the past (today is 2026-03-02 for the customer)',
      'promised 100001 exceeds the open amount 100000',
    ]);
    expect(promiseProblems(single('2026-04-02'), ctx)).toEqual(['the promise: date 2026-04-02 is more than 30 days ahead; agree a payment plan instead']);
    expect(promiseProblems(single('2026-02-30'), ctx)).toEqual(['the promise: date must be YYYY-MM-DD']);
    expect(promiseProblems(single('2026-03-10', 0), ctx)).toEqual(['the promise: amountMinor must be a positive integer']);
  });
  it('lets a plan reach further, but its dates must increase', () => {
    const plan = { promiseId: 'PL', planId: 'PL', madeBy: 'AP', recordedBy: 'lena', installments: [{ dueDate: '2026-05-01', amountMinor: 50_000 }, { dueDate: '2026-05-01', amountMinor: 50_000 }] };
    expect(promiseProblems(plan, ctx)).toEqual(['installment 2: dates must increase from one installment to the next']);
    plan.installments[1]!.dueDate = '2026-06-01';
    expect(promiseProblems(plan, ctx)).toEqual([]);
  });
});

describe('promise schedule', () => {
  it('checks on date + tolerance in business days, skipping weekends and holidays; the courtesy reminder a business day before', () => {
    // Promised for Friday 2026-03-06: + 2 business days = Tuesday 03-10; with Monday a holiday, Wednesday 03-11.
    expect(make(single('2026-03-06')).installments[0]).toMatchObject({ checkDate: '2026-03-10', courtesyDate: '2026-03-05' });
    expect(make(single('2026-03-06'), ['2026-03-09']).installments[0]).toMatchObject({ checkDate: '2026-03-11' });
    // Promised for a Saturday: the two business days after it are Monday and Tuesday.
    expect(make(single('2026-03-07')).installments[0]).toMatchObject({ checkDate: '2026-03-10', courtesyDate: '2026-03-06' });
    // No courtesy reminder when its day is today or past.
    expect(make(single('2026-03-03')).installments[0]!.courtesyDate).toBeNull();
  });
  it('gives the next event: the courtesy reminder at sendAt, then the check at the start of the day after the check date, in the customer zone', () => {
    let p = make(single('2026-03-06'));
    expect(nextPromiseEvent(p, { timeZone: 'Europe/Berlin', sendAt: '09:30' })).toMatchObject({ kind: 'courtesy', at: '2026-03-05T08:30:00.000Z' });
    p = courtesyDone(p, 1);
    expect(nextPromiseEvent(p, { timeZone: 'Europe/Berlin', sendAt: '09:30' })).toMatchObject({ kind: 'check', at: '2026-03-10T23:00:00.000Z' });
    expect(nextPromiseEvent(p, { timeZone: 'America/New_York', sendAt: '09:30' })).toMatchObject({ kind: 'check', at: '2026-03-11T04:00:00.000Z' });
  });
});

describe('checking promises against the ERP balance', () => {
  it('kept, partially kept and broken from the drop of the open amount', () => {
    const p = make(single('2026-03-06', 60_000));
    expect(checkInstallments(p, 40_000, '2026-03-10').result).toMatchObject({ settled: [{ status: 'kept', paidMinor: 60_000 }], planStatus: 'completed', paidMinor: 60_000 });
    expect(checkInstallments(p, 70_000, '2026-03-10').result).toMatchObject({ settled: [{ status: 'partially_kept', paidMinor: 30_000 }], paidMinor: 30_000 });
    expect(checkInstallments(p, 100_000, '2026-03-10').result).toMatchObject({ settled: [{ status: 'broken', paidMinor: 0 }], planStatus: 'broken' });
    // An invoice that grew (a debit note) has not been paid for.
    expect(checkInstallments(p, 120_000, '2026-03-10').result.settled[0]).toMatchObject({ status: 'broken', paidMinor: 0 });
  });
  it('a plan allocates what was paid FIFO and keeps verdicts final; one miss too many breaks it', () => {
    const req = { promiseId: 'PL', planId: 'PL', madeBy: 'AP', recordedBy: 'lena', installments: [
      { dueDate: '2026-03-06', amountMinor: 30_000 },
      { dueDate: '2026-04-06', amountMinor: 30_000 },
      { dueDate: '2026-05-06', amountMinor: 40_000 },
    ] };
    let p = newPromise(req, { ...ctx, currency: 'EUR', madeAt: '2026-03-02T10:00:00Z', rules: { ...rules, maxMissed: 1 } });
    let r = checkInstallments(p, 70_000, p.installments[0]!.checkDate);
    expect(r.result).toMatchObject({ settled: [{ no: 1, status: 'kept' }], planStatus: 'on_track' });
    p = r.promise;
    r = checkInstallments(p, 60_000, p.installments[1]!.checkDate); // 10 000 of 30 000
    expect(r.result).toMatchObject({ settled: [{ no: 2, status: 'partially_kept', paidMinor: 10_000 }], planStatus: 'on_track' });
    p = r.promise;
    // The customer catches up: the late money goes to the third installment, the second stays missed.
    r = checkInstallments(p, 0, p.installments[2]!.checkDate);
    expect(r.result).toMatchObject({ settled: [{ no: 3, status: 'kept', paidMinor: 40_000 }], planStatus: 'completed' });
    expect(r.promise.installments.map((i) => i.status)).toEqual(['kept', 'partially_kept', 'kept']);
    // With no miss allowed, the partial second installment breaks the plan.
    const strict = newPromise(req, { ...ctx, currency: 'EUR', madeAt: '2026-03-02T10:00:00Z', rules: { ...rules, maxMissed: 0 } });
    const first = checkInstallments(strict, 70_000, strict.installments[0]!.checkDate).promise;
    expect(checkInstallments(first, 60_000, first.installments[1]!.checkDate).result.planStatus).toBe('broken');
  });
});

describe('payment plan allocation over invoices', () => {
  it('fills the oldest invoice first and splits an installment across two invoices', () => {
    const shares = allocatePlan(
      [{ number: 'A', openAmountMinor: 50_000 }, { number: 'B', openAmountMinor: 70_000 }],
      [{ dueDate: '2026-03-01', amountMinor: 40_000 }, { dueDate: '2026-04-01', amountMinor: 40_000 }, { dueDate: '2026-05-01', amountMinor: 40_000 }],
    );
    expect(Object.fromEntries(shares)).toEqual({
      A: [{ dueDate: '2026-03-01', amountMinor: 40_000 }, { dueDate: '2026-04-01', amountMinor: 10_000 }],
      B: [{ dueDate: '2026-04-01', amountMinor: 30_000 }, { dueDate: '2026-05-01', amountMinor: 40_000 }],
    });
  });
  it('refuses installments that do not add up to the open total', () => {
    expect(() => allocatePlan([{ number: 'A', openAmountMinor: 50_000 }], [{ dueDate: '2026-03-01', amountMinor: 40_000 }])).toThrow(
      'the installments add up to 40000 but the invoices\' open amount is 50000',
    );
  });
});

describe('collection policy and escalated resume', () => {
  const cadence = cadenceSchema.parse({
    id: 'c', version: 1, name: 'c', sendAt: '09:30',
    steps: [
      { id: 'r1', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
      { id: 'r2', offset: { amount: 10, unit: 'days' }, action: { type: 'email', template: 'reminder-firm' } },
      { id: 'r3', offset: { amount: 20, unit: 'days' }, action: { type: 'email', template: 'reminder-final' } },
    ],
  });
  it('defaults apply to a cadence without a collection section; an unknown resume step is refused', () => {
    expect(collectionPolicyOf(cadence)).toEqual(DEFAULT_COLLECTION_POLICY);
    expect(DEFAULT_COLLECTION_POLICY).toMatchObject({ promise: { toleranceBusinessDays: 2, maxDaysAhead: 45 }, paymentPlan: { maxMissedInstallments: 0 }, callAttempts: { maxAttempts: 3 } });
    const bad = cadenceSchema.safeParse({ ...cadence, collection: { brokenPromise: { resumeAtStep: 'nope' } } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['collection.brokenPromise.resumeAtStep', 'no step with id "nope"']]);
  });
  it('resumes at the configured step at once, superseding those before it; without one, at the next step', () => {
    const schedule = { dueDate: '2026-03-02', timeZone: 'Europe/Berlin' };
    const now = new Date('2026-03-05T12:00:00Z');
    const done = [{ stepId: 'r1', at: '2026-03-03T08:30:00.000Z' }];
    expect(planEscalatedStep(cadence, schedule, done, now, 'r3')).toMatchObject({ next: { step: { id: 'r3' }, at: now.toISOString() }, superseded: [{ step: { id: 'r2' } }] });
    expect(planEscalatedStep(cadence, schedule, done, now, null)).toMatchObject({ next: { step: { id: 'r2' }, at: now.toISOString() }, superseded: [] });
    expect(planEscalatedStep(cadence, schedule, [...done, { stepId: 'r2', at: '' }, { stepId: 'r3', at: '' }], now, 'r3')).toBeUndefined();
  });
  it('dates a retry call: business days land at sendAt, hours are exact', () => {
    const friday = new Date('2026-03-06T15:00:00Z');
    expect(dueAfter({ amount: 1, unit: 'business_days' }, friday, { timeZone: 'Europe/Berlin' }, '09:30')).toBe('2026-03-09T08:30:00.000Z');
    expect(dueAfter({ amount: 1, unit: 'business_days' }, friday, { timeZone: 'Europe/Berlin', calendar: { holidays: ['2026-03-09'] } }, '09:30')).toBe('2026-03-10T08:30:00.000Z');
    expect(dueAfter({ amount: 4, unit: 'hours' }, friday, { timeZone: 'Europe/Berlin' }, '09:30')).toBe('2026-03-06T19:00:00.000Z');
  });
});
