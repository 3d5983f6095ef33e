import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError } from '../../config/env';
import { loadReportingConfig, loadResolutionMatrix } from '../../config/load';
import { SEGMENTS } from '../../domain/cadence';
import { DISPUTE_REASONS } from '../../domain/disputes';
import { convertMinor } from '../../domain/fx';
import { resolutionMatrixSchema, resolveDisputeRoute, specificity, type ResolutionMatrix } from '../../domain/resolution-matrix';
import { DEMO_USERS } from '../../dev/seed';

const shipped = loadResolutionMatrix();
const fx = loadReportingConfig();

/** A minimal valid matrix: one team, a catch-all for every reason, plus `extra` rules after them. */
function matrix(extra: unknown[] = [], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    teams: { ar: { name: 'AR', lead: 'lena' }, sales: { name: 'Sales', lead: 'mark' } },
    rules: [...DISPUTE_REASONS.map((reasonCode) => ({ reasonCode, ownerTeam: 'ar', deadlineBusinessDays: 10 })), ...extra],
    ...overrides,
  };
}
const parse = (doc: unknown): ResolutionMatrix => resolutionMatrixSchema.parse(doc);
/** The issues of a rejected document as "path: message". */
function issues(doc: unknown): string[] {
  const result = resolutionMatrixSchema.safeParse(doc);
  expect(result.success).toBe(false);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}
const FIRST_EXTRA = DISPUTE_REASONS.length; // index of the first extra rule in matrix()

describe('resolveDisputeRoute: the shipped matrix (config/resolution-matrix.json)', () => {
  it('loads, and every reason code in every segment finds an owner team, at 0 and at the largest amount', () => {
    for (const reasonCode of DISPUTE_REASONS)
      for (const segment of SEGMENTS)
        for (const amountReportingMinor of [0, 1, 1_000_000, Number.MAX_SAFE_INTEGER]) {
          const route = resolveDisputeRoute(shipped, { reasonCode, segment, amountReportingMinor });
          expect(Object.keys(shipped.teams)).toContain(route.ownerTeam);
          expect(route.deadlineBusinessDays).toBeGreaterThan(route.reminderBusinessDaysBefore);
        }
  });

  it('names demo users as leads and default owners, each team member in their own team', () => {
    const demo = new Map(DEMO_USERS.map((u) => [u.userId, u]));
    for (const team of Object.values(shipped.teams)) expect(demo.get(team.lead)?.role).toMatch(/^(team_lead|ar_manager)$/);
    for (const rule of shipped.rules) {
      if (rule.defaultOwner === undefined) continue;
      const owner = demo.get(rule.defaultOwner);
      expect(owner, rule.defaultOwner).toBeDefined();
      if (owner!.role === 'team_member') expect(owner!.team).toBe(rule.ownerTeam);
    }
    expect(demo.get('lena')!.team).toBe('ar');
    expect(shipped.teams.ar!.lead).toBe('lena');
  });

  it('routes each reason code to its default team, owner and deadline', () => {
    const route = (reasonCode: (typeof DISPUTE_REASONS)[number]) => resolveDisputeRoute(shipped, { reasonCode, segment: 'standard', amountReportingMinor: 10_000 });
    expect(route('pricing')).toEqual({ ownerTeam: 'pricing', ownerTeamName: 'Pricing', owner: 'pia', lead: 'mark', deadlineBusinessDays: 10, reminderBusinessDaysBefore: 1, rule: 0 });
    expect(route('quantity_short_shipment')).toMatchObject({ ownerTeam: 'logistics', owner: 'luis', lead: 'lena', deadlineBusinessDays: 7 });
    expect(route('damaged_goods')).toMatchObject({ ownerTeam: 'customer_service', owner: 'cara', deadlineBusinessDays: 7 });
    expect(route('not_received')).toMatchObject({ ownerTeam: 'logistics', owner: 'luis', deadlineBusinessDays: 5 });
    expect(route('po_missing_mismatch')).toMatchObject({ ownerTeam: 'billing', owner: null, lead: 'lena', deadlineBusinessDays: 5 });
    expect(route('duplicate_billing')).toMatchObject({ ownerTeam: 'billing', owner: null, deadlineBusinessDays: 3 });
    expect(route('tax')).toMatchObject({ ownerTeam: 'tax', owner: null, lead: 'mark', deadlineBusinessDays: 10 });
    expect(route('credit_not_applied')).toMatchObject({ ownerTeam: 'ar', owner: 'lena', deadlineBusinessDays: 5 });
    expect(route('service_quality')).toMatchObject({ ownerTeam: 'customer_service', owner: 'cara', deadlineBusinessDays: 10 });
    expect(route('other')).toMatchObject({ ownerTeam: 'ar', ownerTeamName: 'Accounts receivable', owner: null, lead: 'lena', deadlineBusinessDays: 10 });
  });

  it("sends strategic customers' pricing disputes to sales, and the large ones to its head (more conditions win)", () => {
    const pricing = (segment: (typeof SEGMENTS)[number], amountReportingMinor: number) => resolveDisputeRoute(shipped, { reasonCode: 'pricing', segment, amountReportingMinor });
    expect(pricing('strategic', 0)).toMatchObject({ ownerTeam: 'sales', owner: 'sam', deadlineBusinessDays: 5, rule: 1 });
    expect(pricing('strategic', 2_499_999)).toMatchObject({ owner: 'sam', rule: 1 });
    expect(pricing('strategic', 2_500_000)).toMatchObject({ ownerTeam: 'sales', owner: 'mark', rule: 2 }); // bound inclusive
    expect(pricing('standard', 2_500_000)).toMatchObject({ ownerTeam: 'pricing', owner: 'pia', rule: 0 });
    expect(pricing('high_risk', 99_999_999)).toMatchObject({ ownerTeam: 'pricing' });
  });

  it('damaged goods: at exactly 10 000.00 to logistics, one cent less to customer service', () => {
    const damaged = (amountReportingMinor: number) => resolveDisputeRoute(shipped, { reasonCode: 'damaged_goods', segment: 'standard', amountReportingMinor });
    expect(damaged(0)).toMatchObject({ ownerTeam: 'customer_service', owner: 'cara', deadlineBusinessDays: 7 });
    expect(damaged(999_999)).toMatchObject({ ownerTeam: 'customer_service' });
    expect(damaged(1_000_000)).toMatchObject({ ownerTeam: 'logistics', owner: 'luis', lead: 'lena', deadlineBusinessDays: 5 });
    expect(damaged(1_000_001)).toMatchObject({ ownerTeam: 'logistics' });
  });

  it('other currencies are converted with config/reporting.json first (EUR; rounding half-even, once)', () => {
    expect(fx.reportingCurrency).toBe('EUR');
    const damaged = (amountMinor: number, currency: string) =>
      resolveDisputeRoute(shipped, { reasonCode: 'damaged_goods', segment: 'standard', amountReportingMinor: convertMinor(amountMinor, currency, fx) }).ownerTeam;
    // USD 0.92: 10 869.56 USD = 9 999.9952 EUR -> 10 000.00 EUR (rounded): at the bound. 10 869.55 USD = 9 999.986 -> 9 999.99.
    expect(convertMinor(1_086_956, 'USD', fx)).toBe(1_000_000);
    expect(damaged(1_086_956, 'USD')).toBe('logistics');
    expect(convertMinor(1_086_955, 'USD', fx)).toBe(999_999);
    expect(damaged(1_086_955, 'USD')).toBe('customer_service');
    // JPY has no minor units, rate 0.0062: ¥1 612 903 = 9 999.9986 EUR -> 10 000.00; ¥1 612 902 = 9 999.9924 -> 9 999.99.
    expect(convertMinor(1_612_903, 'JPY', fx)).toBe(1_000_000);
    expect(damaged(1_612_903, 'JPY')).toBe('logistics');
    expect(convertMinor(1_612_902, 'JPY', fx)).toBe(999_999);
    expect(damaged(1_612_902, 'JPY')).toBe('customer_service');
    // The same amount of minor units means very different things: 10 000 USD cents vs ¥10 000.
    expect(convertMinor(10_000, 'USD', fx)).toBe(9_200);
    expect(convertMinor(10_000, 'JPY', fx)).toBe(6_200);
  });
});

describe('resolveDisputeRoute: lookup rules', () => {
  it('the rule with more conditions wins, whatever its place in the file', () => {
    const m = parse(
      matrix([
        { reasonCode: 'tax', segments: ['strategic'], minAmountReportingMinor: 100, ownerTeam: 'sales', defaultOwner: 'two', deadlineBusinessDays: 3 },
        { reasonCode: 'tax', segments: ['strategic'], ownerTeam: 'sales', defaultOwner: 'one', deadlineBusinessDays: 4 },
      ]),
    );
    expect(resolveDisputeRoute(m, { reasonCode: 'tax', segment: 'strategic', amountReportingMinor: 100 })).toMatchObject({ owner: 'two', rule: FIRST_EXTRA });
    expect(resolveDisputeRoute(m, { reasonCode: 'tax', segment: 'strategic', amountReportingMinor: 99 })).toMatchObject({ owner: 'one', rule: FIRST_EXTRA + 1 });
    expect(resolveDisputeRoute(m, { reasonCode: 'tax', segment: 'standard', amountReportingMinor: 100 })).toMatchObject({ ownerTeam: 'ar', owner: null, rule: 6 });
  });

  it('between equally specific matching rules, the first in the file wins', () => {
    const a = { reasonCode: 'other', segments: ['strategic'], ownerTeam: 'sales', defaultOwner: 'by-segment', deadlineBusinessDays: 5 };
    const b = { reasonCode: 'other', minAmountReportingMinor: 500, ownerTeam: 'sales', defaultOwner: 'by-amount', deadlineBusinessDays: 5 };
    const q = { reasonCode: 'other', segment: 'strategic', amountReportingMinor: 500 } as const;
    expect(resolveDisputeRoute(parse(matrix([a, b])), q).owner).toBe('by-segment');
    expect(resolveDisputeRoute(parse(matrix([b, a])), q).owner).toBe('by-amount');
  });

  it('amount bounds are inclusive at both ends; a range counts as two conditions', () => {
    const m = parse(matrix([{ reasonCode: 'other', minAmountReportingMinor: 1_000, maxAmountReportingMinor: 5_000, ownerTeam: 'sales', deadlineBusinessDays: 2 }]));
    const team = (amountReportingMinor: number) => resolveDisputeRoute(m, { reasonCode: 'other', segment: 'standard', amountReportingMinor }).ownerTeam;
    expect([999, 1_000, 5_000, 5_001].map(team)).toEqual(['ar', 'sales', 'sales', 'ar']);
    expect(specificity(m.rules[FIRST_EXTRA]!)).toBe(2);
    expect(specificity({ segments: ['standard'] })).toBe(1);
    expect(specificity({})).toBe(0);
  });

  it('a matching rule may apply to several segments', () => {
    const m = parse(matrix([{ reasonCode: 'pricing', segments: ['strategic', 'high_risk'], ownerTeam: 'sales', deadlineBusinessDays: 2 }]));
    const team = (segment: (typeof SEGMENTS)[number]) => resolveDisputeRoute(m, { reasonCode: 'pricing', segment, amountReportingMinor: 1 }).ownerTeam;
    expect(SEGMENTS.map(team)).toEqual(['sales', 'ar', 'sales']);
  });

  it('reminderBusinessDaysBefore defaults to 1 and is part of the answer', () => {
    expect(parse(matrix()).reminderBusinessDaysBefore).toBe(1);
    const m = parse(matrix([], { reminderBusinessDaysBefore: 3 }));
    expect(resolveDisputeRoute(m, { reasonCode: 'tax', segment: 'standard', amountReportingMinor: 0 }).reminderBusinessDaysBefore).toBe(3);
  });

  it('refuses an amount that is not a whole number of minor units, and an unknown reason code', () => {
    expect(() => resolveDisputeRoute(shipped, { reasonCode: 'tax', segment: 'standard', amountReportingMinor: 10.5 })).toThrow(RangeError);
    expect(() => resolveDisputeRoute(shipped, { reasonCode: 'nope' as 'tax', segment: 'standard', amountReportingMinor: 1 })).toThrow(/no resolution rule matches/);
  });
});

describe('resolutionMatrixSchema: what it refuses, by path', () => {
  it('an owner team that is not in teams', () => {
    expect(issues(matrix([{ reasonCode: 'tax', segments: ['standard'], ownerTeam: 'legal', deadlineBusinessDays: 5 }]))).toEqual([
      `rules.${FIRST_EXTRA}.ownerTeam: no team "legal" in teams (teams: ar, sales)`,
    ]);
  });

  it('a reason code without a catch-all rule (a rule with conditions does not count)', () => {
    const doc = matrix([{ reasonCode: 'tax', segments: ['standard'], ownerTeam: 'ar', deadlineBusinessDays: 5 }]);
    (doc.rules as { reasonCode: string }[]).splice(6, 1); // tax's catch-all
    expect(issues(doc)).toEqual(['rules: reason code "tax" needs a catch-all rule (no segments, no amount bounds) so that every dispute finds an owner']);
  });

  it('min above max, a segment twice, the same conditions twice', () => {
    expect(
      issues(
        matrix([
          { reasonCode: 'tax', minAmountReportingMinor: 10, maxAmountReportingMinor: 9, ownerTeam: 'ar', deadlineBusinessDays: 5 },
          { reasonCode: 'tax', segments: ['standard', 'standard'], ownerTeam: 'ar', deadlineBusinessDays: 5 },
          { reasonCode: 'pricing', ownerTeam: 'sales', deadlineBusinessDays: 5 },
        ]),
      ),
    ).toEqual([
      `rules.${FIRST_EXTRA}.maxAmountReportingMinor: maxAmountReportingMinor must not be below minAmountReportingMinor`,
      `rules.${FIRST_EXTRA + 1}.segments: a segment is listed twice`,
      `rules.${FIRST_EXTRA + 2}: same conditions as rules.0, which comes first: this rule would never apply`,
    ]);
  });

  it('a deadline outside 1..60 business days, or not after the reminder', () => {
    expect(issues(matrix([{ reasonCode: 'tax', segments: ['standard'], ownerTeam: 'ar', deadlineBusinessDays: 0 }]))).toEqual([
      `rules.${FIRST_EXTRA}.deadlineBusinessDays: Too small: expected number to be >=1`,
    ]);
    expect(issues(matrix([{ reasonCode: 'tax', segments: ['standard'], ownerTeam: 'ar', deadlineBusinessDays: 61 }]))[0]).toMatch(
      new RegExp(`^rules\\.${FIRST_EXTRA}\\.deadlineBusinessDays: Too big`),
    );
    expect(issues(matrix([{ reasonCode: 'tax', segments: ['standard'], ownerTeam: 'ar', deadlineBusinessDays: 2 }], { reminderBusinessDaysBefore: 2 }))).toContain(
      `rules.${FIRST_EXTRA}.deadlineBusinessDays: the deadline (2 business days) must come after the reminder (2 business days before it)`,
    );
  });

  it('unknown reason codes, segments, fields and malformed ids', () => {
    const bad = issues(
      matrix([{ reasonCode: 'late', segments: ['vip'], ownerTeam: 'Sales Team', defaultOwner: 'Not A User', deadlineBusinessDays: 1.5, colour: 'red' }]),
    );
    const paths = bad.map((i) => i.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([
        `rules.${FIRST_EXTRA}`, // unrecognized key "colour" (strict)
        `rules.${FIRST_EXTRA}.reasonCode`,
        `rules.${FIRST_EXTRA}.segments.0`,
        `rules.${FIRST_EXTRA}.ownerTeam`,
        `rules.${FIRST_EXTRA}.defaultOwner`,
        `rules.${FIRST_EXTRA}.deadlineBusinessDays`,
      ]),
    );
    expect(issues(matrix([], { teams: { 'Bad Team': { name: 'x', lead: 'lena' } } })).some((i) => i.startsWith('teams'))).toBe(true);
    expect(issues(matrix([], { teams: { ar: { name: 'AR' } } }))).toContain('teams.ar.lead: Invalid input: expected string, received undefined');
    expect(issues(matrix([], { extra: true }))).toEqual([': Unrecognized key: "extra"']);
  });

  it('loadResolutionMatrix turns a bad file into a ConfigError naming the file and the path', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'resolution-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'matrix.json');
    writeFileSync(file, JSON.stringify(matrix([{ reasonCode: 'tax', segments: ['standard'], ownerTeam: 'legal', deadlineBusinessDays: 5 }])));
    let caught: unknown;
    try {
      loadResolutionMatrix(file);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toContain(`${file} at rules.${FIRST_EXTRA}.ownerTeam: no team "legal" in teams`);
  });
});
