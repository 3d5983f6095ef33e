import { describe, expect, it } from 'vitest';
import { SEGMENTS, type Segment } from '../../domain/cadence';
import { PRIORITY_WEIGHTS, type PriorityInput, priorityScore } from '../../domain/priority';

/** The worked example of the header comment of domain/priority.ts. */
const WORKED: PriorityInput = {
  openAmountReportingMinor: 4_825_000, // 48 250.00
  daysPastDue: 47,
  brokenPromises: 1,
  disputeActive: false,
  segment: 'standard',
  daysSinceLastSuccessfulContact: 21,
  taskDueInDays: 0,
};

const score = (input: PriorityInput) => priorityScore(input).score;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Baselines the monotonicity checks start from: quiet, typical, extreme, disputed, strategic. */
const BASELINES: PriorityInput[] = [
  { ...WORKED },
  { ...WORKED, disputeActive: true },
  {
    openAmountReportingMinor: 0,
    daysPastDue: -10,
    brokenPromises: 0,
    disputeActive: false,
    segment: 'standard',
    daysSinceLastSuccessfulContact: 0,
    taskDueInDays: 30,
  },
  {
    openAmountReportingMinor: 2_000_000_000,
    daysPastDue: 400,
    brokenPromises: 5,
    disputeActive: false,
    segment: 'high_risk',
    daysSinceLastSuccessfulContact: null,
    taskDueInDays: -40,
  },
  {
    openAmountReportingMinor: 99_950,
    daysPastDue: 3,
    brokenPromises: 0,
    disputeActive: true,
    segment: 'strategic',
    daysSinceLastSuccessfulContact: 200,
    taskDueInDays: 5,
  },
];

/** Deterministic pseudo-random inputs (a small LCG: tests stay reproducible). */
function* randomInputs(count: number, seed = 42): Generator<PriorityInput> {
  let state = seed >>> 0;
  const next = () => (state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  for (let i = 0; i < count; i++) {
    yield {
      openAmountReportingMinor: Math.floor(10 ** (next() * 12)) - 1,
      daysPastDue: int(-60, 500),
      brokenPromises: int(0, 6),
      disputeActive: next() < 0.3,
      segment: SEGMENTS[int(0, 2)] as Segment,
      daysSinceLastSuccessfulContact: next() < 0.15 ? null : int(0, 400),
      taskDueInDays: int(-60, 60),
    };
  }
}

/** Checks that `score` never decreases (and the factor's own component never decreases) along `values`. */
function expectNonDecreasing<T>(base: PriorityInput, values: T[], set: (v: T) => Partial<PriorityInput>, component: string) {
  let prevScore = -Infinity;
  let prevComponent = -Infinity;
  for (const v of values) {
    const { score: s, components } = priorityScore({ ...base, ...set(v) });
    const c = (components as Record<string, number>)[component]!;
    if (s < prevScore || c < prevComponent) {
      throw new Error(`${component} not monotone at ${JSON.stringify(v)} from ${JSON.stringify(base)}: ${prevScore} -> ${s}`);
    }
    prevScore = s;
    prevComponent = c;
  }
}

const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

describe('priorityScore: the documented worked example', () => {
  it('scores 354 with the documented breakdown', () => {
    const { score: s, components } = priorityScore(WORKED);
    expect(s).toBe(354);
    expect(components.base).toBe(10);
    expect(components.amount).toBeCloseTo(161.0638, 4); // 60 * log10(1 + 4 825 000 / 10 000) = 60 * log10(483.5)
    expect(components.daysPastDue).toBe(47);
    expect(components.agingBucket).toBe(30); // 31-60
    expect(components.brokenPromises).toBe(50);
    expect(components.lastContact).toBe(21);
    expect(components.taskDue).toBe(35); // 5 * (7 - 0)
    expect(components.segment).toBe(0);
    expect(components.dispute).toBe(0);
    expect(sum(Object.values(components))).toBeCloseTo(354.0638, 4);
  });

  it('the same invoice scores 394 for a strategic customer and 35 when disputed', () => {
    expect(score({ ...WORKED, segment: 'strategic' })).toBe(394);
    expect(score({ ...WORKED, segment: 'high_risk' })).toBe(454);
    const disputed = priorityScore({ ...WORKED, disputeActive: true });
    expect(disputed.score).toBe(35); // round(354.0638 * 0.1)
    expect(disputed.components.dispute).toBeCloseTo(-318.6574, 4);
    expect(sum(Object.values(disputed.components))).toBeCloseTo(35.4064, 4);
  });

  it('components always add up to the score before rounding', () => {
    for (const input of randomInputs(500)) {
      const { score: s, components } = priorityScore(input);
      expect(Math.abs(sum(Object.values(components)) - s)).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(Number.isInteger(s)).toBe(true);
    }
  });

  it('weights are frozen and their caps add up to maxScore', () => {
    const w = PRIORITY_WEIGHTS;
    const caps =
      w.base +
      w.amount.maxPoints +
      w.daysPastDue.pointsPerDay * w.daysPastDue.maxDays +
      Math.max(...Object.values(w.agingBucket)) +
      w.brokenPromises.pointsEach * w.brokenPromises.maxCounted +
      w.lastContact.pointsPerDay * w.lastContact.maxDays +
      w.taskDue.pointsPerDay * (w.taskDue.windowAheadDays + w.taskDue.maxOverdueDays) +
      Math.max(...Object.values(w.segment));
    expect(caps).toBe(w.maxScore);
    expect(Object.isFrozen(w)).toBe(true);
    for (const nested of [w.amount, w.daysPastDue, w.agingBucket, w.brokenPromises, w.lastContact, w.taskDue, w.segment]) {
      expect(Object.isFrozen(nested)).toBe(true);
    }
  });
});

describe('priorityScore: monotone in each factor', () => {
  it('more open amount -> higher (log scale), across 0 .. 100 billion minor units', () => {
    const amounts = [0, 1, 99, 100, 5_000, 10_000, 99_999, 1_000_000, 4_825_000, 10 ** 8, 10 ** 9, 10 ** 10, 10 ** 11];
    for (const base of BASELINES) expectNonDecreasing(base, amounts, (a) => ({ openAmountReportingMinor: a }), 'amount');
    for (let a = 0; a <= 2_000_000; a += 997) {
      expect(priorityScore({ ...WORKED, openAmountReportingMinor: a + 997 }).components.amount).toBeGreaterThan(
        priorityScore({ ...WORKED, openAmountReportingMinor: a }).components.amount,
      );
    }
  });

  it('diminishing returns: each tenfold amount adds the same 60 points, until the cap', () => {
    const at = (minor: number) => priorityScore({ ...WORKED, openAmountReportingMinor: minor }).components.amount;
    expect(at(100_000_000) - at(10_000_000)).toBeCloseTo(60, 0); // 1 M vs 100 k
    expect(at(10_000_000) - at(1_000_000)).toBeCloseTo(60, 0); // 100 k vs 10 k
    expect(at(10 ** 12)).toBe(300);
    expect(at(1_000_000_000)).toBe(300); // saturates at 10 M
  });

  it('older -> higher (days past due, bucket steps included), from 60 days before due to 2 years after', () => {
    for (const base of BASELINES) {
      expectNonDecreasing(base, range(-60, 730), (d) => ({ daysPastDue: d }), 'daysPastDue');
      expectNonDecreasing(base, range(-60, 730), (d) => ({ daysPastDue: d }), 'agingBucket');
    }
    // Strictly increasing while the invoice ages through its first 180 days (undisputed).
    for (let d = 0; d < 180; d++) expect(score({ ...WORKED, daysPastDue: d + 1 })).toBeGreaterThan(score({ ...WORKED, daysPastDue: d }));
    // Bucket boundaries are visible steps: 30 -> 31 days is +1 (day) +20 (bucket).
    expect(score({ ...WORKED, daysPastDue: 31 }) - score({ ...WORKED, daysPastDue: 30 })).toBe(21);
  });

  it('more broken promises -> higher (capped at 3 counted)', () => {
    for (const base of BASELINES) expectNonDecreasing(base, range(0, 20), (n) => ({ brokenPromises: n }), 'brokenPromises');
    expect(score({ ...WORKED, brokenPromises: 3 })).toBe(score({ ...WORKED, brokenPromises: 10 }));
    expect(score({ ...WORKED, brokenPromises: 2 })).toBe(score(WORKED) + 50);
  });

  it('longer without a successful contact -> higher; never reached is the top', () => {
    const values: (number | null)[] = [...range(0, 400), null];
    for (const base of BASELINES) {
      expectNonDecreasing(base, values, (d) => ({ daysSinceLastSuccessfulContact: d }), 'lastContact');
    }
    expect(score({ ...WORKED, daysSinceLastSuccessfulContact: null })).toBe(score({ ...WORKED, daysSinceLastSuccessfulContact: 90 }));
  });

  it('more overdue task -> higher (task due in 60 days .. 60 days overdue)', () => {
    // taskDueInDays going DOWN means more urgent, so walk it from +60 to -60.
    for (const base of BASELINES) expectNonDecreasing(base, range(-60, 60).reverse(), (t) => ({ taskDueInDays: t }), 'taskDue');
    expect(priorityScore({ ...WORKED, taskDueInDays: 7 }).components.taskDue).toBe(0);
    expect(priorityScore({ ...WORKED, taskDueInDays: -13 }).components.taskDue).toBe(100);
  });

  it('segment: standard < strategic < high_risk, and the high-risk bump is the larger one', () => {
    for (const base of [...BASELINES, ...randomInputs(300, 7)]) {
      const [std, strat, risk] = (['standard', 'strategic', 'high_risk'] as const).map((segment) => priorityScore({ ...base, segment }));
      expect(strat!.score).toBeGreaterThanOrEqual(std!.score);
      expect(risk!.score).toBeGreaterThanOrEqual(strat!.score);
      if (!base.disputeActive) {
        expect(strat!.score).toBeGreaterThan(std!.score);
        expect(risk!.score - std!.score).toBeGreaterThan(strat!.score - std!.score);
      }
    }
  });

  it('random inputs: raising any one factor never lowers the score', () => {
    for (const input of randomInputs(400, 2024)) {
      const s = score(input);
      expect(score({ ...input, openAmountReportingMinor: input.openAmountReportingMinor * 3 + 1 })).toBeGreaterThanOrEqual(s);
      expect(score({ ...input, daysPastDue: input.daysPastDue + 7 })).toBeGreaterThanOrEqual(s);
      expect(score({ ...input, brokenPromises: input.brokenPromises + 1 })).toBeGreaterThanOrEqual(s);
      expect(score({ ...input, daysSinceLastSuccessfulContact: null })).toBeGreaterThanOrEqual(s);
      if (input.daysSinceLastSuccessfulContact !== null) {
        expect(score({ ...input, daysSinceLastSuccessfulContact: input.daysSinceLastSuccessfulContact + 5 })).toBeGreaterThanOrEqual(s);
      }
      expect(score({ ...input, taskDueInDays: input.taskDueInDays - 3 })).toBeGreaterThanOrEqual(s);
      expect(score({ ...input, disputeActive: false })).toBeGreaterThanOrEqual(s);
    }
  });
});

describe('priorityScore: bounds and disputes', () => {
  it('the maximal input scores exactly 1000, the minimal undisputed 10, the minimal disputed 1', () => {
    const max: PriorityInput = {
      openAmountReportingMinor: 10 ** 13,
      daysPastDue: 10_000,
      brokenPromises: 99,
      disputeActive: false,
      segment: 'high_risk',
      daysSinceLastSuccessfulContact: null,
      taskDueInDays: -1000,
    };
    const min: PriorityInput = {
      openAmountReportingMinor: 0,
      daysPastDue: -365,
      brokenPromises: 0,
      disputeActive: false,
      segment: 'standard',
      daysSinceLastSuccessfulContact: 0,
      taskDueInDays: 365,
    };
    expect(score(max)).toBe(1000);
    expect(score(min)).toBe(10);
    expect(score({ ...min, disputeActive: true })).toBe(1);
    expect(score({ ...max, disputeActive: true })).toBe(100);
  });

  it('every score is an integer within [1, 1000] (disputed within [1, 100], undisputed within [10, 1000])', () => {
    for (const input of randomInputs(3000, 99)) {
      const s = score(input);
      expect(Number.isInteger(s)).toBe(true);
      if (input.disputeActive) {
        expect(s).toBeGreaterThanOrEqual(1);
        expect(s).toBeLessThanOrEqual(100);
      } else {
        expect(s).toBeGreaterThanOrEqual(10);
        expect(s).toBeLessThanOrEqual(1000);
      }
    }
  });

  it('a disputed invoice drops strictly below the otherwise identical undisputed one, and never to zero', () => {
    for (const input of [...BASELINES, ...randomInputs(1000, 5)]) {
      const disputed = score({ ...input, disputeActive: true });
      expect(disputed).toBeLessThan(score({ ...input, disputeActive: false }));
      expect(disputed).toBeGreaterThan(0);
    }
  });
});

describe('priorityScore: input validation', () => {
  const bad: [string, Partial<Record<keyof PriorityInput, unknown>>][] = [
    ['NaN amount', { openAmountReportingMinor: Number.NaN }],
    ['infinite amount', { openAmountReportingMinor: Number.POSITIVE_INFINITY }],
    ['negative amount (a credit)', { openAmountReportingMinor: -1 }],
    ['NaN days past due', { daysPastDue: Number.NaN }],
    ['-Infinity days past due', { daysPastDue: Number.NEGATIVE_INFINITY }],
    ['fractional days past due', { daysPastDue: 1.5 }],
    ['infinite broken promises', { brokenPromises: Number.POSITIVE_INFINITY }],
    ['negative broken promises', { brokenPromises: -1 }],
    ['NaN days since contact', { daysSinceLastSuccessfulContact: Number.NaN }],
    ['negative days since contact', { daysSinceLastSuccessfulContact: -2 }],
    ['infinite task due', { taskDueInDays: Number.POSITIVE_INFINITY }],
    ['NaN task due', { taskDueInDays: Number.NaN }],
    ['unknown segment', { segment: 'vip' }],
    ['non-boolean dispute flag', { disputeActive: 'yes' }],
  ];
  it.each(bad)('rejects %s with a RangeError', (_, patch) => {
    expect(() => priorityScore({ ...WORKED, ...patch } as PriorityInput)).toThrow(RangeError);
  });

  it('accepts a fractional converted amount (it comes out of an exchange-rate conversion)', () => {
    expect(score({ ...WORKED, openAmountReportingMinor: 4_825_000.37 })).toBe(354);
  });
});

describe('priorityScore: a realistic worklist', () => {
  /**
   * One collector's morning, reporting currency EUR. The order an AR team lead expects, and why:
   *
   *  1. ACME (high_risk): 250 000 at 95 days (91+), two broken promises this year, last reached 40
   *     days ago, task 3 days overdue. Every signal says the money is at risk: call first.
   *  2. Globex (strategic): 1.2 M at 35 days, no broken promise, reached 25 days ago, task due today.
   *     Big and now properly late for a key account; a senior collector calls today, but it has
   *     no history of bad faith, so it goes after ACME.
   *  3. Initech (standard): 3 000 at 45 days with one broken promise, reached 30 days ago, task due
   *     in 3 days. Small, but a customer who broke their word: worth a call, after the big ones.
   *  4. Umbrella (standard): 40 000 not yet due (5 days to go), reached 5 days ago, task due in
   *     2 days: a courtesy reminder, below anything actually overdue.
   *  5. Hooli (standard, DISPUTED): 900 000 at 120 days. The dispute's owner team works it;
   *     chasing the customer now would only irritate them, so it sinks to the bottom despite its size.
   */
  const worklist: (PriorityInput & { customer: string })[] = [
    {
      customer: 'Umbrella',
      openAmountReportingMinor: 4_000_000,
      daysPastDue: -5,
      brokenPromises: 0,
      disputeActive: false,
      segment: 'standard',
      daysSinceLastSuccessfulContact: 5,
      taskDueInDays: 2,
    },
    {
      customer: 'Hooli',
      openAmountReportingMinor: 90_000_000,
      daysPastDue: 120,
      brokenPromises: 0,
      disputeActive: true,
      segment: 'standard',
      daysSinceLastSuccessfulContact: 15,
      taskDueInDays: 0,
    },
    {
      customer: 'Initech',
      openAmountReportingMinor: 300_000,
      daysPastDue: 45,
      brokenPromises: 1,
      disputeActive: false,
      segment: 'standard',
      daysSinceLastSuccessfulContact: 30,
      taskDueInDays: 3,
    },
    {
      customer: 'Globex',
      openAmountReportingMinor: 120_000_000,
      daysPastDue: 35,
      brokenPromises: 0,
      disputeActive: false,
      segment: 'strategic',
      daysSinceLastSuccessfulContact: 25,
      taskDueInDays: 0,
    },
    {
      customer: 'ACME',
      openAmountReportingMinor: 25_000_000,
      daysPastDue: 95,
      brokenPromises: 2,
      disputeActive: false,
      segment: 'high_risk',
      daysSinceLastSuccessfulContact: 40,
      taskDueInDays: -3,
    },
  ];

  it('orders ACME, Globex, Initech, Umbrella, Hooli', () => {
    const ranked = worklist
      .map(({ customer, ...input }) => ({ customer, score: score(input) }))
      .sort((a, b) => b.score - a.score);
    expect(ranked).toEqual([
      { customer: 'ACME', score: 669 },
      { customer: 'Globex', score: 420 },
      { customer: 'Initech', score: 274 },
      { customer: 'Umbrella', score: 196 },
      { customer: 'Hooli', score: 49 },
    ]);
  });

  it('one huge invoice does not bury a genuinely delinquent one', () => {
    // 10 M, 5 days late, clean history vs 50 000 at 100 days with two broken promises.
    const huge = score({ ...WORKED, openAmountReportingMinor: 1_000_000_000, daysPastDue: 5, brokenPromises: 0, daysSinceLastSuccessfulContact: 5 });
    const delinquent = score({ ...WORKED, openAmountReportingMinor: 5_000_000, daysPastDue: 100, brokenPromises: 2, daysSinceLastSuccessfulContact: 30 });
    expect(delinquent).toBeGreaterThan(huge);
  });
});
