import { type AgingBucket, agingBucket } from './aging';
import { SEGMENTS, type Segment } from './cadence';

/**
 * Collector worklist priority: one integer score in [1, 1000] per open invoice task, higher =
 * call first. Pure and deterministic: no clock (every date is already a day count relative to
 * the caller's "today"), no I/O, no randomness.
 *
 * The formula (all constants in {@link PRIORITY_WEIGHTS}; `clamp(x, lo, hi)` = min(max(x, lo), hi)):
 *
 *   subtotal = base                                          10  every open item
 *            + amount         60 * log10(1 + openMinor / 10 000), capped at 300
 *                                                         (10 000 minor = 100.00 of a reporting
 *                                                         currency with two minor digits; +60 per
 *                                                         tenfold amount, saturates near 10 M)
 *            + daysPastDue    1 per day past due, clamp(dpd, 0, 180)       max 180
 *            + agingBucket    current 0 | 1-30 10 | 31-60 30 | 61-90 50 | 91+ 70
 *            + brokenPromises 50 each, at most 3 counted                    max 150
 *            + lastContact    1 per day since last successful contact, max 90;
 *                             never reached (null) = 90
 *            + taskDue        5 * clamp(7 - taskDueInDays, 0, 20): 0 when the task is due in
 *                             7 days or more, 35 when due today, 100 when 13+ days overdue
 *            + segment        standard 0 | strategic 40 | high_risk 100
 *   raw      = disputeActive ? subtotal * 0.1 : subtotal
 *   score    = Math.round(raw)                                   (rounded once, at the end)
 *
 * Bounds: the caps add up to exactly 1000 (10 + 300 + 180 + 70 + 150 + 90 + 100 + 100), the
 * smallest subtotal is the base 10, so an undisputed invoice scores 10..1000 and a disputed one
 * 1..100: low, never zero (it stays visible, it is just not chased; the dispute's owner team works it).
 *
 * Why this shape:
 * - Amount is logarithmic so a single huge invoice cannot bury everything: 10x the money is worth
 *   +60 points, about two months of ageing or one broken promise plus a bit.
 * - Ageing counts twice on purpose: smoothly per day, and a step at each bucket boundary (30/60/90
 *   days are where provisioning, credit insurance notices and escalation rules kick in). The
 *   per-day part stops at 180 days: beyond that the invoice belongs to legal/write-off, not to a
 *   faster phone call.
 * - A broken promise is the strongest behavioural signal; three are already "stop believing".
 * - Silence grows priority (with a never-reached account as silent as it gets), and a collector
 *   task that is past its own due date climbs so that tasks do not rot at the bottom of the list.
 * - Segment is an additive bump: modest for strategic accounts (senior attention, soon), larger
 *   for high-risk ones (exposure grows while we wait).
 * - Every term is non-decreasing in its input, so the score is monotone in each factor.
 *
 * Worked example (pinned by test/unit/priority.test.ts): 48 250.00 open (4 825 000 minor), 47 days
 * past due, 1 broken promise, no dispute, standard segment, last reached 21 days ago, task due today.
 *   base 10 + amount 60*log10(483.5) = 161.06 + days 47 + bucket (31-60) 30 + promises 50
 *   + contact 21 + task 5*(7-0) = 35 + segment 0 = 354.06  ->  score 354.
 * The same invoice for a strategic customer scores 394 (354.06 + 40); disputed it scores
 * round(35.406) = 35.
 *
 * The weights assume a reporting currency with two minor digits (EUR, USD, GBP, CHF...). With a
 * zero-digit reporting currency such as JPY, convert to hundredths before calling.
 */

const AGING_BUCKET_POINTS = Object.freeze({ current: 0, '1-30': 10, '31-60': 30, '61-90': 50, '91+': 70 } as const satisfies Record<AgingBucket, number>);
const SEGMENT_POINTS = Object.freeze({ standard: 0, strategic: 40, high_risk: 100 } as const satisfies Record<Segment, number>);

/** The documented constants of {@link priorityScore} (deeply frozen). */
export const PRIORITY_WEIGHTS = Object.freeze({
  /** Largest possible score; equals the sum of every component's cap. */
  maxScore: 1000,
  /** Points every open item starts with (keeps a disputed item above zero). */
  base: 10,
  amount: Object.freeze({ pointsPerDecade: 60, unitMinor: 10_000, maxPoints: 300 }),
  daysPastDue: Object.freeze({ pointsPerDay: 1, maxDays: 180 }),
  agingBucket: AGING_BUCKET_POINTS,
  brokenPromises: Object.freeze({ pointsEach: 50, maxCounted: 3 }),
  /** Never reached counts as `maxDays`. */
  lastContact: Object.freeze({ pointsPerDay: 1, maxDays: 90 }),
  /** Points start `windowAheadDays` before the task is due and stop growing `maxOverdueDays` after. */
  taskDue: Object.freeze({ pointsPerDay: 5, windowAheadDays: 7, maxOverdueDays: 13 }),
  segment: SEGMENT_POINTS,
  /** A disputed invoice keeps this fraction of its score. */
  disputeFactor: 0.1,
} as const);

export interface PriorityInput {
  /** Open amount already converted to the reporting currency (minor units, >= 0). */
  openAmountReportingMinor: number;
  /** Calendar days past due (integer); negative when not yet due. */
  daysPastDue: number;
  /** Broken promises to pay over the last 12 months (integer >= 0). */
  brokenPromises: number;
  /** A disputed invoice is worked by its owner team, not chased: it drops. */
  disputeActive: boolean;
  segment: Segment;
  /** Days since the last successful contact (integer >= 0); null = never reached. */
  daysSinceLastSuccessfulContact: number | null;
  /** Task due date minus today, in days (integer; negative = overdue task). */
  taskDueInDays: number;
}

export type PriorityComponent =
  | 'base'
  | 'amount'
  | 'daysPastDue'
  | 'agingBucket'
  | 'brokenPromises'
  | 'lastContact'
  | 'taskDue'
  | 'segment'
  | 'dispute';

export interface PriorityBreakdown {
  /** Integer in [1, 1000]; higher = work first. */
  score: number;
  /**
   * Each factor's unrounded contribution, in the order of the formula; they add up to the score
   * before rounding. `dispute` is the (negative) amount the dispute takes away, 0 when none.
   */
  components: Record<PriorityComponent, number>;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);

function requireInteger(name: string, value: unknown, min?: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be a finite integer, got ${String(value)}`);
  }
  if (min !== undefined && value < min) throw new RangeError(`${name} must be >= ${min}, got ${value}`);
  return value;
}

function validate(input: PriorityInput): void {
  const amount: unknown = input.openAmountReportingMinor;
  if (typeof amount !== 'number' || !Number.isFinite(amount)) {
    throw new RangeError(`openAmountReportingMinor must be a finite number, got ${String(amount)}`);
  }
  if (amount < 0) {
    throw new RangeError(`openAmountReportingMinor must be >= 0 (a credit is not a collection task), got ${amount}`);
  }
  requireInteger('daysPastDue', input.daysPastDue);
  requireInteger('brokenPromises', input.brokenPromises, 0);
  requireInteger('taskDueInDays', input.taskDueInDays);
  if (input.daysSinceLastSuccessfulContact !== null) {
    requireInteger('daysSinceLastSuccessfulContact', input.daysSinceLastSuccessfulContact, 0);
  }
  if (typeof input.disputeActive !== 'boolean') {
    throw new RangeError(`disputeActive must be a boolean, got ${String(input.disputeActive)}`);
  }
  if (!(SEGMENTS as readonly string[]).includes(input.segment)) {
    throw new RangeError(`segment must be one of ${SEGMENTS.join(', ')}, got ${JSON.stringify(input.segment)}`);
  }
}

/**
 * Priority score of one collector task (see the formula at the top of this file). Throws a
 * RangeError on a non-finite, negative (amount, counts, days since contact) or non-integer
 * (day counts, promise count) input, or an unknown segment.
 */
export function priorityScore(input: PriorityInput): PriorityBreakdown {
  validate(input);
  const w = PRIORITY_WEIGHTS;

  const amount = Math.min(
    w.amount.maxPoints,
    w.amount.pointsPerDecade * Math.log10(1 + input.openAmountReportingMinor / w.amount.unitMinor),
  );
  const daysPastDue = w.daysPastDue.pointsPerDay * clamp(input.daysPastDue, 0, w.daysPastDue.maxDays);
  const bucket = w.agingBucket[agingBucket(input.daysPastDue)];
  const brokenPromises = w.brokenPromises.pointsEach * Math.min(input.brokenPromises, w.brokenPromises.maxCounted);
  const silentDays = input.daysSinceLastSuccessfulContact ?? w.lastContact.maxDays;
  const lastContact = w.lastContact.pointsPerDay * Math.min(silentDays, w.lastContact.maxDays);
  const taskDue =
    w.taskDue.pointsPerDay *
    clamp(w.taskDue.windowAheadDays - input.taskDueInDays, 0, w.taskDue.windowAheadDays + w.taskDue.maxOverdueDays);
  const segment = w.segment[input.segment];

  const subtotal = w.base + amount + daysPastDue + bucket + brokenPromises + lastContact + taskDue + segment;
  const raw = input.disputeActive ? subtotal * w.disputeFactor : subtotal;

  return {
    score: Math.round(raw),
    components: {
      base: w.base,
      amount,
      daysPastDue,
      agingBucket: bucket,
      brokenPromises,
      lastContact,
      taskDue,
      segment,
      dispute: input.disputeActive ? raw - subtotal : 0,
    },
  };
}
