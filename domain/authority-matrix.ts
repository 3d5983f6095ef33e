import { z } from 'zod';
import { ROLES, roleRank, type Role } from './roles';

/**
 * The authority matrix: who may approve what. Configuration (config/authority-matrix.json, then
 * versions saved through the API by an admin); this module is pure: the schema with its cross checks
 * and the lookups an approval needs.
 *
 * Per action, rules are thresholds in ascending order: the first rule whose `upToReportingMinor` is
 * at least the amount (inclusive; null = any amount) gives the minimum role that may approve. An
 * approver also needs an approval limit of at least the amount: their own (users.approval_limit_minor)
 * or, when they have none, their role's (`roleLimits`, null = no limit). Amounts are in minor units of
 * the reporting currency (config/reporting.json; convert with domain/fx convertMinor).
 */

export const APPROVAL_ACTIONS = [
  'write_off',
  'settlement',
  'credit_hold',
  'release_credit_hold',
  'legal_handoff',
  'agency_handoff',
  'extended_payment_plan',
] as const;
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];

/** The roles that may approve anything, lowest first; a request escalates along this list. */
export const APPROVER_ROLES = ['team_lead', 'ar_manager', 'admin'] as const satisfies readonly Role[];
export type ApproverRole = (typeof APPROVER_ROLES)[number];

const amountSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const limitSchema = amountSchema.nullable();

export const authorityRuleSchema = z.strictObject({
  action: z.enum(APPROVAL_ACTIONS),
  upToReportingMinor: amountSchema.nullable().describe('the largest amount (inclusive, reporting currency minor units) this rule covers; null = every amount above the lower thresholds'),
  minRole: z.enum(APPROVER_ROLES).describe('the lowest role that may approve'),
  note: z.string().max(500).optional().describe('why the rule exists; not used by the lookup'),
});
export type AuthorityRule = z.infer<typeof authorityRuleSchema>;

export const authorityMatrixSchema = z
  .strictObject({
    escalateAfterHours: z.number().positive().max(24 * 90).describe('a request undecided this long escalates to the next role, which is notified'),
    roleLimits: z
      .strictObject({ team_lead: limitSchema, ar_manager: limitSchema, admin: limitSchema })
      .describe("approval limit of a user whose own limit is not set, by role (reporting currency minor units; null = no limit)"),
    creditHoldNeedsApproval: z.boolean().describe("true: a cadence's credit_hold step asks for approval instead of placing the hold at once"),
    rules: z.array(authorityRuleSchema).min(1),
  })
  .superRefine((matrix, ctx) => {
    for (const action of APPROVAL_ACTIONS) {
      const indexed = matrix.rules.map((rule, i) => ({ rule, i })).filter(({ rule }) => rule.action === action);
      if (indexed.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['rules'], message: `action "${action}" has no rule: add one with "upToReportingMinor": null` });
        continue;
      }
      indexed.forEach(({ rule, i }, k) => {
        const last = k === indexed.length - 1;
        const prev = k > 0 ? indexed[k - 1]!.rule : undefined;
        if (rule.upToReportingMinor === null && !last)
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'upToReportingMinor'], message: `only the last rule of "${action}" may be unbounded (null): the rules after it would never apply` });
        if (rule.upToReportingMinor !== null && last)
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'upToReportingMinor'],
            message: `the last rule of "${action}" must be unbounded (null) so that every amount needs some role`,
          });
        if (prev && prev.upToReportingMinor !== null && rule.upToReportingMinor !== null && rule.upToReportingMinor <= prev.upToReportingMinor)
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'upToReportingMinor'],
            message: `thresholds of "${action}" must ascend: ${rule.upToReportingMinor} is not above the previous ${prev.upToReportingMinor}`,
          });
        if (prev && roleRank(rule.minRole) < roleRank(prev.minRole))
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'minRole'],
            message: `a larger amount of "${action}" cannot need a lower role: ${rule.minRole} comes after ${prev.minRole}`,
          });
      });
    }
  });
export type AuthorityMatrix = z.infer<typeof authorityMatrixSchema>;

function requireAmount(amountReportingMinor: number): void {
  if (!Number.isSafeInteger(amountReportingMinor) || amountReportingMinor < 0)
    throw new RangeError(`amountReportingMinor must be a non-negative safe integer count of minor units, got ${String(amountReportingMinor)}`);
}

/** The lowest role that may approve `action` for this amount (reporting currency, minor units). */
export function requiredRole(matrix: AuthorityMatrix, action: ApprovalAction, amountReportingMinor: number): Role {
  requireAmount(amountReportingMinor);
  const rule = matrix.rules.find((r) => r.action === action && (r.upToReportingMinor === null || amountReportingMinor <= r.upToReportingMinor));
  if (!rule) throw new RangeError(`the authority matrix has no rule for ${JSON.stringify(action)} covering ${amountReportingMinor}`);
  return rule.minRole;
}

/**
 * The level a request escalates to when its approvers let it wait: team_lead → ar_manager → admin →
 * null (nowhere higher). A role below team_lead escalates to team_lead.
 */
export function nextRole(role: Role): Role | null {
  if (roleRank(role) < roleRank('team_lead')) return 'team_lead';
  return ROLES[roleRank(role) + 1] ?? null;
}

/**
 * The largest amount (reporting currency, minor units) the user may approve; null = no limit. Their
 * own limit when set, else their role's from the matrix; roles below team_lead approve nothing (0).
 */
export function approvalLimit(user: { role: Role; approvalLimitMinor: number | null }, matrix: AuthorityMatrix): number | null {
  if (user.approvalLimitMinor !== null) return user.approvalLimitMinor;
  return (APPROVER_ROLES as readonly Role[]).includes(user.role) ? matrix.roleLimits[user.role as ApproverRole] : 0;
}

/**
 * Why this approver may not decide this request, or null when they may. In order: nobody approves
 * their own request; the approver's role must rank at least the request's required role (which
 * escalation may have raised); the amount must be within the approver's limit.
 */
export function approvalRefusal(
  matrix: AuthorityMatrix,
  approver: { userId: string; role: Role; approvalLimitMinor: number | null },
  request: { action: ApprovalAction; amountReportingMinor: number; requestedBy: string; requiredRole: Role },
): string | null {
  requireAmount(request.amountReportingMinor);
  if (approver.userId === request.requestedBy) return `${approver.userId} requested this ${request.action} and cannot approve it: someone else must`;
  if (roleRank(approver.role) < roleRank(request.requiredRole))
    return `this ${request.action} needs the role ${request.requiredRole} or above to approve; ${approver.userId} is ${approver.role}`;
  const limit = approvalLimit(approver, matrix);
  if (limit !== null && request.amountReportingMinor > limit)
    return `${request.amountReportingMinor} (reporting currency, minor units) is above the approval limit of ${approver.userId} (${limit})`;
  return null;
}
