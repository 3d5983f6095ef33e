import { DateTime } from 'luxon';
import { z } from 'zod';
import { addBusinessDays, type BusinessCalendar } from './business-calendar';
import { localDate, localInstant } from './promises';
import { DISPUTE_REASONS, type DisputeReason } from './dispute-reasons';
import { segmentSchema, type Segment } from './cadence';
import { teamIdSchema, userIdSchema } from './roles';

/**
 * The resolution matrix: which team owns a dispute, who works it by default, and how many business
 * days the team has to resolve it. Configuration (config/resolution-matrix.json, then versions saved
 * through the API); this module is pure: the schema with its cross checks, and the lookup.
 *
 * A rule matches a dispute by reason code and, optionally, by the customer's segment and the disputed
 * amount in the reporting currency (minor units, bounds inclusive). Of the matching rules the most
 * specific wins: the one with the most conditions (segments, a lower bound, an upper bound each count
 * one); between equally specific rules, the first in the file. Every reason code has a catch-all rule
 * (no segments, no bounds), so the lookup always finds one.
 */

/** Teams and people are named by the same ids as users.team and users.user_id (domain/roles.ts). */
export { teamIdSchema };
const amountSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const resolutionTeamSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).describe('what people call the team'),
  lead: userIdSchema.describe("the team's lead: told when a dispute of the team passes its deadline"),
});

export const resolutionRuleSchema = z.strictObject({
  reasonCode: z.enum(DISPUTE_REASONS),
  segments: z.array(segmentSchema).min(1).optional().describe("only for customers in these segments"),
  minAmountReportingMinor: amountSchema.optional().describe('only for disputed amounts of at least this much (reporting currency, minor units)'),
  maxAmountReportingMinor: amountSchema.optional().describe('only for disputed amounts of at most this much (inclusive)'),
  ownerTeam: teamIdSchema.describe('a key of teams'),
  defaultOwner: userIdSchema.optional().describe('the person who gets the dispute; without one it goes to the team (its lead assigns it)'),
  deadlineBusinessDays: z.number().int().min(1).max(60).describe("business days (the customer's calendar) to resolve it"),
  note: z.string().max(500).optional().describe('why the rule exists; not used by the lookup'),
});
export type ResolutionRule = z.infer<typeof resolutionRuleSchema>;

export const resolutionMatrixSchema = z
  .strictObject({
    teams: z.record(teamIdSchema, resolutionTeamSchema).describe('owner teams by id'),
    reminderBusinessDaysBefore: z
      .number()
      .int()
      .min(0)
      .max(59)
      .default(1)
      .describe('the owner is reminded this many business days before the deadline (0: no reminder)'),
    rules: z.array(resolutionRuleSchema).min(1),
  })
  .superRefine((matrix, ctx) => {
    if (Object.keys(matrix.teams).length === 0) ctx.addIssue({ code: 'custom', path: ['teams'], message: 'at least one team is needed' });
    const seen = new Map<string, number>();
    matrix.rules.forEach((rule, i) => {
      // (Checks below run even when a field failed a format or range check: they skip what was already reported.)
      if (teamIdSchema.safeParse(rule.ownerTeam).success && !Object.hasOwn(matrix.teams, rule.ownerTeam)) {
        const known = Object.keys(matrix.teams).sort().join(', ') || 'none';
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'ownerTeam'], message: `no team "${rule.ownerTeam}" in teams (teams: ${known})` });
      }
      if (rule.minAmountReportingMinor !== undefined && rule.maxAmountReportingMinor !== undefined && rule.minAmountReportingMinor > rule.maxAmountReportingMinor)
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'maxAmountReportingMinor'], message: 'maxAmountReportingMinor must not be below minAmountReportingMinor' });
      if (rule.segments && new Set(rule.segments).size !== rule.segments.length)
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'segments'], message: 'a segment is listed twice' });
      if (rule.deadlineBusinessDays >= 1 && matrix.reminderBusinessDaysBefore <= 59 && rule.deadlineBusinessDays <= matrix.reminderBusinessDaysBefore)
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'deadlineBusinessDays'],
          message: `the deadline (${rule.deadlineBusinessDays} business days) must come after the reminder (${matrix.reminderBusinessDaysBefore} business days before it)`,
        });
      // A rule with exactly the conditions of an earlier one never applies: the earlier one always wins the tie.
      const key = JSON.stringify([rule.reasonCode, [...new Set(rule.segments ?? [])].sort(), rule.minAmountReportingMinor ?? null, rule.maxAmountReportingMinor ?? null]);
      const earlier = seen.get(key);
      if (earlier !== undefined)
        ctx.addIssue({ code: 'custom', path: ['rules', i], message: `same conditions as rules.${earlier}, which comes first: this rule would never apply` });
      else seen.set(key, i);
    });
    for (const reason of DISPUTE_REASONS) {
      if (!matrix.rules.some((r) => r.reasonCode === reason && specificity(r) === 0))
        ctx.addIssue({
          code: 'custom',
          path: ['rules'],
          message: `reason code "${reason}" needs a catch-all rule (no segments, no amount bounds) so that every dispute finds an owner`,
        });
    }
  });
export type ResolutionMatrix = z.infer<typeof resolutionMatrixSchema>;

/** How many conditions a rule has beyond its reason code: segments, a lower bound and an upper bound count one each. */
export function specificity(rule: Pick<ResolutionRule, 'segments' | 'minAmountReportingMinor' | 'maxAmountReportingMinor'>): number {
  return (rule.segments ? 1 : 0) + (rule.minAmountReportingMinor !== undefined ? 1 : 0) + (rule.maxAmountReportingMinor !== undefined ? 1 : 0);
}

export interface DisputeRouteQuery {
  reasonCode: DisputeReason;
  segment: Segment;
  /** The disputed amount converted to the reporting currency (domain/fx convertMinor), minor units. */
  amountReportingMinor: number;
}

export interface DisputeRoute {
  ownerTeam: string;
  ownerTeamName: string;
  /** The rule's default owner; null: the team's (its lead assigns it). */
  owner: string | null;
  lead: string;
  deadlineBusinessDays: number;
  reminderBusinessDaysBefore: number;
  /** Index of the rule that applied, in matrix.rules. */
  rule: number;
}

function matches(rule: ResolutionRule, q: DisputeRouteQuery): boolean {
  return (
    rule.reasonCode === q.reasonCode &&
    (rule.segments === undefined || rule.segments.includes(q.segment)) &&
    (rule.minAmountReportingMinor === undefined || q.amountReportingMinor >= rule.minAmountReportingMinor) &&
    (rule.maxAmountReportingMinor === undefined || q.amountReportingMinor <= rule.maxAmountReportingMinor)
  );
}

/**
 * Where a dispute goes: the most specific matching rule (ties: the first in the file). Throws a
 * RangeError when nothing matches, which a matrix that passed resolutionMatrixSchema never does
 * for a known reason code.
 */
export function resolveDisputeRoute(matrix: ResolutionMatrix, q: DisputeRouteQuery): DisputeRoute {
  if (!Number.isSafeInteger(q.amountReportingMinor))
    throw new RangeError(`amountReportingMinor must be a safe integer count of minor units, got ${String(q.amountReportingMinor)}`);
  let best: number | undefined;
  matrix.rules.forEach((rule, i) => {
    if (matches(rule, q) && (best === undefined || specificity(rule) > specificity(matrix.rules[best]!))) best = i;
  });
  if (best === undefined) throw new RangeError(`no resolution rule matches reason code ${JSON.stringify(q.reasonCode)} (segment ${q.segment}, amount ${q.amountReportingMinor})`);
  const rule = matrix.rules[best]!;
  const team = matrix.teams[rule.ownerTeam];
  if (!team) throw new RangeError(`resolution rule ${best} names the unknown team ${JSON.stringify(rule.ownerTeam)}`);
  return {
    ownerTeam: rule.ownerTeam,
    ownerTeamName: team.name,
    owner: rule.defaultOwner ?? null,
    lead: team.lead,
    deadlineBusinessDays: rule.deadlineBusinessDays,
    reminderBusinessDaysBefore: matrix.reminderBusinessDaysBefore,
    rule: best,
  };
}

/** A routed dispute with its dates: by when the owner must resolve it, and when they are reminded. */
export interface DatedDisputeRoute extends Omit<DisputeRoute, 'rule'> {
  /** Local date the owner must resolve by, and the instant it ends (the start of the next local day). */
  deadlineDate: string;
  deadlineAt: string;
  /** 09:00 local, `reminderBusinessDaysBefore` business days before the deadline; null when none or already past. */
  reminderAt: string | null;
}

/**
 * Dates a route from `nowMs` in the customer's zone and business calendar: the deadline is
 * `deadlineBusinessDays` business days after today. Pure: time is a parameter.
 */
export function dateDisputeRoute(route: DisputeRoute, nowMs: number, timeZone: string, calendar?: BusinessCalendar): DatedDisputeRoute {
  const { rule: _rule, ...rest } = route;
  const deadlineDate = addBusinessDays(localDate(nowMs, timeZone), route.deadlineBusinessDays, calendar);
  const dayAfter = DateTime.fromISO(deadlineDate, { zone: 'UTC' }).plus({ days: 1 }).toISODate()!;
  const reminderAt = route.reminderBusinessDaysBefore > 0 ? localInstant(addBusinessDays(deadlineDate, -route.reminderBusinessDaysBefore, calendar), '09:00', timeZone) : null;
  return {
    ...rest,
    deadlineDate,
    deadlineAt: localInstant(dayAfter, '00:00', timeZone),
    reminderAt: reminderAt !== null && Date.parse(reminderAt) > nowMs ? reminderAt : null,
  };
}
