import { describe, expect, it } from 'vitest';
import type { BusinessCalendar } from '../../domain/business-calendar';
import {
  evaluatePaymentPlan,
  evaluatePromise,
  promiseCheckDate,
  type Installment,
  type PaymentSeen,
  type PromiseToPay,
} from '../../domain/promise-evaluation';

/*
 * Worked by hand from a 2025 calendar (no library):
 *   Jan 2025:   Thu 30, Fri 31, Sat 1 Feb, Sun 2, Mon 3, Tue 4, Wed 5.
 *   Feb/Mar:    Thu 27, Fri 28, Sat 1 Mar, Sun 2, Mon 3, Tue 4, Wed 5.
 *   Mar/Apr:    Mon 31, Tue 1 Apr, Wed 2, Thu 3.
 *   April 2025: Fri 11, Sat 12, Sun 13, Mon 14, Tue 15, Wed 16, Thu 17, Fri 18 (Good Friday), Sat 19, Sun 20,
 *               Mon 21 (Easter Monday), Tue 22, Wed 23, Thu 24.
 */
const DE: BusinessCalendar = { holidays: ['2025-04-18', '2025-04-21', '2025-05-01'] };
const eur = (amountMinor: number, receivedDate: string): PaymentSeen => ({ amountMinor, currency: 'EUR', receivedDate });

describe('promiseCheckDate', () => {
  const promise = (promisedDate: string): PromiseToPay => ({ promisedAmountMinor: 100_000, currency: 'EUR', promisedDate });

  it('tolerance over Easter: Thu 2025-04-17 + 2 business days, Good Friday and Easter Monday off -> Wed 2025-04-23', () => {
    expect(promiseCheckDate(promise('2025-04-17'), 2, DE)).toBe('2025-04-23');
  });

  it('the same promise without the holidays is checked on Mon 2025-04-21', () => {
    expect(promiseCheckDate(promise('2025-04-17'), 2)).toBe('2025-04-21');
  });

  it('tolerance over a weekend: Fri 2025-04-11 + 1 -> Mon 14, + 2 -> Tue 15', () => {
    expect(promiseCheckDate(promise('2025-04-11'), 1)).toBe('2025-04-14');
    expect(promiseCheckDate(promise('2025-04-11'), 2)).toBe('2025-04-15');
  });

  it('tolerance 0: the promised date itself, or the next business day when it is a weekend day or holiday', () => {
    expect(promiseCheckDate(promise('2025-04-17'), 0, DE)).toBe('2025-04-17');
    expect(promiseCheckDate(promise('2025-04-12'), 0)).toBe('2025-04-14');
    expect(promiseCheckDate(promise('2025-04-18'), 0, DE)).toBe('2025-04-22');
  });

  it('a promise for a Saturday + 1 business day is Monday (days counted strictly after the date)', () => {
    expect(promiseCheckDate(promise('2025-04-12'), 1)).toBe('2025-04-14');
  });

  it.each([-1, 1.5, Number.NaN])('tolerance %s is a RangeError', (tolerance) => {
    expect(() => promiseCheckDate(promise('2025-04-17'), tolerance)).toThrow(RangeError);
  });

  it.each(['2025-02-30', '17.04.2025', '2025-04-17T00:00:00Z'])('promised date %j is a RangeError', (date) => {
    expect(() => promiseCheckDate(promise(date), 2)).toThrow(RangeError);
  });
});

describe('evaluatePromise', () => {
  const promise: PromiseToPay = { promisedAmountMinor: 100_000, currency: 'EUR', promisedDate: '2025-04-17' };
  const check = '2025-04-23';

  it('kept: paid in full on the check date itself (inclusive)', () => {
    expect(evaluatePromise(promise, [eur(100_000, '2025-04-23')], check)).toEqual({ status: 'kept', paidMinor: 100_000 });
  });

  it('kept: several payments add up; an overpayment is reported in full', () => {
    expect(evaluatePromise(promise, [eur(60_000, '2025-04-15'), eur(40_000, '2025-04-22')], check)).toEqual({ status: 'kept', paidMinor: 100_000 });
    expect(evaluatePromise(promise, [eur(120_000, '2025-04-17')], check)).toEqual({ status: 'kept', paidMinor: 120_000 });
  });

  it('partially kept: any payment short of the amount (default threshold 0)', () => {
    expect(evaluatePromise(promise, [eur(30_000, '2025-04-22')], check)).toEqual({ status: 'partially_kept', paidMinor: 30_000, shortfallMinor: 70_000 });
    expect(evaluatePromise(promise, [eur(1, '2025-04-22')], check)).toEqual({ status: 'partially_kept', paidMinor: 1, shortfallMinor: 99_999 });
  });

  it('broken: nothing paid', () => {
    expect(evaluatePromise(promise, [], check)).toEqual({ status: 'broken', paidMinor: 0, shortfallMinor: 100_000 });
  });

  it('broken: paid below the partial threshold; at the threshold it is partial', () => {
    const opts = { partialThresholdMinor: 50_000 };
    expect(evaluatePromise(promise, [eur(30_000, '2025-04-22')], check, opts)).toEqual({ status: 'broken', paidMinor: 30_000, shortfallMinor: 70_000 });
    expect(evaluatePromise(promise, [eur(50_000, '2025-04-22')], check, opts)).toEqual({ status: 'partially_kept', paidMinor: 50_000, shortfallMinor: 50_000 });
    expect(evaluatePromise(promise, [eur(100_000, '2025-04-22')], check, opts)).toEqual({ status: 'kept', paidMinor: 100_000 });
  });

  it('payments received after the check date are ignored', () => {
    expect(evaluatePromise(promise, [eur(100_000, '2025-04-24')], check)).toEqual({ status: 'broken', paidMinor: 0, shortfallMinor: 100_000 });
    expect(evaluatePromise(promise, [eur(20_000, '2025-04-23'), eur(80_000, '2025-04-24')], check)).toEqual({
      status: 'partially_kept',
      paidMinor: 20_000,
      shortfallMinor: 80_000,
    });
  });

  it('a payment in another currency is a RangeError, not a silent conversion (even one after the check date)', () => {
    const usd: PaymentSeen = { amountMinor: 100_000, currency: 'USD', receivedDate: '2025-04-22' };
    expect(() => evaluatePromise(promise, [usd], check)).toThrow(RangeError);
    expect(() => evaluatePromise(promise, [usd], check)).toThrow('payment of 100000 USD on 2025-04-22 is not in EUR; convert it before evaluating');
    expect(() => evaluatePromise(promise, [eur(100_000, '2025-04-22'), { ...usd, receivedDate: '2025-05-02' }], check)).toThrow(RangeError);
  });

  it('rejects amounts that are not whole minor units and codes that are not currencies', () => {
    expect(() => evaluatePromise({ ...promise, promisedAmountMinor: 0 }, [], check)).toThrow(RangeError);
    expect(() => evaluatePromise({ ...promise, promisedAmountMinor: 1000.5 }, [], check)).toThrow(RangeError);
    expect(() => evaluatePromise({ ...promise, currency: 'EURO' }, [], check)).toThrow(RangeError);
    expect(() => evaluatePromise(promise, [eur(-5, '2025-04-22')], check)).toThrow(RangeError);
    expect(() => evaluatePromise(promise, [eur(100_000, '2025-4-22')], check)).toThrow(RangeError);
    expect(() => evaluatePromise(promise, [], check, { partialThresholdMinor: -1 })).toThrow(RangeError);
    expect(() => evaluatePromise(promise, [], '2025-04-31')).toThrow(RangeError);
  });
});

describe('evaluatePaymentPlan', () => {
  // Three monthly installments of 300.00 EUR, checked 2 business days after each due date.
  const plan: Installment[] = [
    { dueDate: '2025-01-31', amountMinor: 30_000 }, // Fri -> check Tue 2025-02-04
    { dueDate: '2025-02-28', amountMinor: 30_000 }, // Fri -> check Tue 2025-03-04
    { dueDate: '2025-03-31', amountMinor: 30_000 }, // Mon -> check Wed 2025-04-02
  ];
  const checks = ['2025-02-04', '2025-03-04', '2025-04-02'];

  it('a completed plan: every installment paid on its due date', () => {
    const payments = [eur(30_000, '2025-01-31'), eur(30_000, '2025-02-28'), eur(30_000, '2025-03-31')];
    expect(evaluatePaymentPlan(plan, 'EUR', payments, '2025-04-02', 2, undefined, 0)).toEqual({
      installments: [
        { dueDate: '2025-01-31', checkDate: checks[0], status: 'kept', paidMinor: 30_000 },
        { dueDate: '2025-02-28', checkDate: checks[1], status: 'kept', paidMinor: 30_000 },
        { dueDate: '2025-03-31', checkDate: checks[2], status: 'kept', paidMinor: 30_000 },
      ],
      planStatus: 'completed',
    });
  });

  it('installments whose check date is after asOf are pending; the plan is on track', () => {
    const payments = [eur(30_000, '2025-01-31')];
    expect(evaluatePaymentPlan(plan, 'EUR', payments, '2025-03-03', 2)).toEqual({
      installments: [
        { dueDate: '2025-01-31', checkDate: checks[0], status: 'kept', paidMinor: 30_000 },
        { dueDate: '2025-02-28', checkDate: checks[1], status: 'pending' },
        { dueDate: '2025-03-31', checkDate: checks[2], status: 'pending' },
      ],
      planStatus: 'on_track',
    });
  });

  describe('the second installment missed', () => {
    const payments = [eur(30_000, '2025-01-30'), eur(30_000, '2025-03-31')];
    const settledTwo = [
      { dueDate: '2025-01-31', checkDate: checks[0], status: 'kept', paidMinor: 30_000 },
      { dueDate: '2025-02-28', checkDate: checks[1], status: 'broken', paidMinor: 0, shortfallMinor: 30_000 },
    ];

    it('maxMissed 0: the plan is broken as soon as the second check date passes', () => {
      expect(evaluatePaymentPlan(plan, 'EUR', payments, '2025-03-10', 2, undefined, 0)).toEqual({
        installments: [...settledTwo, { dueDate: '2025-03-31', checkDate: checks[2], status: 'pending' }],
        planStatus: 'broken',
      });
    });

    it('maxMissed 1 (the default): the plan is still on track', () => {
      const expected = { installments: [...settledTwo, { dueDate: '2025-03-31', checkDate: checks[2], status: 'pending' }], planStatus: 'on_track' };
      expect(evaluatePaymentPlan(plan, 'EUR', payments, '2025-03-10', 2, undefined, 1)).toEqual(expected);
      expect(evaluatePaymentPlan(plan, 'EUR', payments, '2025-03-10', 2)).toEqual(expected);
    });

    it('maxMissed 1: after the last check date the plan is completed, the shortfall still on record', () => {
      expect(evaluatePaymentPlan(plan, 'EUR', payments, '2025-04-10', 2)).toEqual({
        installments: [...settledTwo, { dueDate: '2025-03-31', checkDate: checks[2], status: 'kept', paidMinor: 30_000 }],
        planStatus: 'completed',
      });
    });

    it('the check date is inclusive: paying on 2025-03-04 keeps the second installment, on 2025-03-05 does not', () => {
      const onTime = evaluatePaymentPlan(plan, 'EUR', [eur(30_000, '2025-01-30'), eur(30_000, '2025-03-04')], '2025-03-04', 2, undefined, 0);
      expect(onTime.installments[1]).toEqual({ dueDate: '2025-02-28', checkDate: '2025-03-04', status: 'kept', paidMinor: 30_000 });
      expect(onTime.planStatus).toBe('on_track');
      const late = evaluatePaymentPlan(plan, 'EUR', [eur(30_000, '2025-01-30'), eur(30_000, '2025-03-05')], '2025-03-05', 2, undefined, 0);
      expect(late.installments[1]).toEqual({ dueDate: '2025-02-28', checkDate: '2025-03-04', status: 'broken', paidMinor: 0, shortfallMinor: 30_000 });
      expect(late.planStatus).toBe('broken');
    });
  });

  it('an early payment is credited to the next installment (FIFO)', () => {
    const payments = [eur(60_000, '2025-01-20')];
    expect(evaluatePaymentPlan(plan, 'EUR', payments, '2025-03-05', 2, undefined, 0)).toEqual({
      installments: [
        { dueDate: '2025-01-31', checkDate: checks[0], status: 'kept', paidMinor: 30_000 },
        { dueDate: '2025-02-28', checkDate: checks[1], status: 'kept', paidMinor: 30_000 },
        { dueDate: '2025-03-31', checkDate: checks[2], status: 'pending' },
      ],
      planStatus: 'on_track',
    });
  });

  it('one payment is split across installments; the rest of the first fills the second together with a later one', () => {
    const payments = [eur(45_000, '2025-01-30'), eur(15_000, '2025-02-27'), eur(30_000, '2025-03-28')];
    expect(evaluatePaymentPlan(plan, 'EUR', payments, '2025-04-02', 2, undefined, 0).installments.map((i) => [i.status, 'paidMinor' in i ? i.paidMinor : null])).toEqual([
      ['kept', 30_000],
      ['kept', 30_000],
      ['kept', 30_000],
    ]);
  });

  it('a late catch-up payment goes to the next installment, never back to the missed one; settled verdicts never change', () => {
    const payments = [eur(30_000, '2025-01-31'), eur(30_000, '2025-03-10')];
    const early = evaluatePaymentPlan(plan, 'EUR', payments, '2025-03-05', 2);
    const later = evaluatePaymentPlan(plan, 'EUR', payments, '2025-04-10', 2);
    expect(early.installments.slice(0, 2)).toEqual(later.installments.slice(0, 2));
    expect(later).toEqual({
      installments: [
        { dueDate: '2025-01-31', checkDate: checks[0], status: 'kept', paidMinor: 30_000 },
        { dueDate: '2025-02-28', checkDate: checks[1], status: 'broken', paidMinor: 0, shortfallMinor: 30_000 },
        { dueDate: '2025-03-31', checkDate: checks[2], status: 'kept', paidMinor: 30_000 },
      ],
      planStatus: 'completed',
    });
  });

  it('a partially paid installment counts as missed', () => {
    const payments = [eur(30_000, '2025-01-30'), eur(10_000, '2025-02-27'), eur(30_000, '2025-03-31')];
    const broken = evaluatePaymentPlan(plan, 'EUR', payments, '2025-04-02', 2, undefined, 0);
    expect(broken.installments[1]).toEqual({ dueDate: '2025-02-28', checkDate: checks[1], status: 'partially_kept', paidMinor: 10_000, shortfallMinor: 20_000 });
    expect(broken.planStatus).toBe('broken');
    expect(evaluatePaymentPlan(plan, 'EUR', payments, '2025-04-02', 2, undefined, 1).planStatus).toBe('completed');
  });

  it('more misses than maxMissed break the plan', () => {
    const payments = [eur(30_000, '2025-01-30')];
    const result = evaluatePaymentPlan(plan, 'EUR', payments, '2025-04-02', 2);
    expect(result.installments.map((i) => i.status)).toEqual(['kept', 'broken', 'broken']);
    expect(result.planStatus).toBe('broken');
  });

  it('an already prepaid installment stays pending until its check date', () => {
    const result = evaluatePaymentPlan(plan, 'EUR', [eur(90_000, '2025-01-15')], '2025-02-05', 2, undefined, 0);
    expect(result.installments.map((i) => i.status)).toEqual(['kept', 'pending', 'pending']);
    expect(result.planStatus).toBe('on_track');
  });

  it('installments are evaluated and returned in due-date order; check dates follow the customer calendar', () => {
    const easter: Installment[] = [
      { dueDate: '2025-05-15', amountMinor: 5_000 },
      { dueDate: '2025-04-17', amountMinor: 5_000 },
    ];
    const result = evaluatePaymentPlan(easter, 'EUR', [eur(5_000, '2025-04-23')], '2025-04-30', 2, DE);
    expect(result).toEqual({
      installments: [
        { dueDate: '2025-04-17', checkDate: '2025-04-23', status: 'kept', paidMinor: 5_000 },
        { dueDate: '2025-05-15', checkDate: '2025-05-19', status: 'pending' },
      ],
      planStatus: 'on_track',
    });
  });

  it('rejects a payment in another currency, an empty plan and bad parameters', () => {
    const usd: PaymentSeen = { amountMinor: 30_000, currency: 'USD', receivedDate: '2025-01-30' };
    expect(() => evaluatePaymentPlan(plan, 'EUR', [usd], '2025-04-02', 2)).toThrow(RangeError);
    expect(() => evaluatePaymentPlan([], 'EUR', [], '2025-04-02', 2)).toThrow(RangeError);
    expect(() => evaluatePaymentPlan(plan, 'EUR', [], '2025-04-02', 2, undefined, -1)).toThrow(RangeError);
    expect(() => evaluatePaymentPlan(plan, 'EUR', [], '2025-04-02', -1)).toThrow(RangeError);
    expect(() => evaluatePaymentPlan([{ dueDate: '2025-01-31', amountMinor: 0 }], 'EUR', [], '2025-04-02', 2)).toThrow(RangeError);
    expect(() => evaluatePaymentPlan(plan, 'EUR', [], 'today', 2)).toThrow(RangeError);
  });
});
