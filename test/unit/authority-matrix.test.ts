import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError } from '../../config/env';
import { loadAuthorityMatrix, loadReportingConfig } from '../../config/load';
import {
  APPROVAL_ACTIONS,
  APPROVER_ROLES,
  approvalLimit,
  approvalRefusal,
  authorityMatrixSchema,
  nextRole,
  requiredRole,
  type ApprovalAction,
  type AuthorityMatrix,
} from '../../domain/authority-matrix';
import { convertMinor } from '../../domain/fx';
import { ROLES, roleRank, type Role } from '../../domain/roles';
import * as auth from '../../api/auth';

const shipped = loadAuthorityMatrix();
const fx = loadReportingConfig();

/** A minimal valid matrix: every action approved by a team lead at any amount, then `rules` replacing those of their actions. */
function matrix(rules: unknown[] = [], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const replaced = new Set(rules.map((r) => (r as { action: string }).action));
  return {
    escalateAfterHours: 24,
    roleLimits: { team_lead: 100_000, ar_manager: 1_000_000, admin: null },
    creditHoldNeedsApproval: false,
    rules: [...APPROVAL_ACTIONS.filter((a) => !replaced.has(a)).map((action) => ({ action, upToReportingMinor: null, minRole: 'team_lead' })), ...rules],
    ...overrides,
  };
}
function issues(doc: unknown): string[] {
  const result = authorityMatrixSchema.safeParse(doc);
  expect(result.success).toBe(false);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}
const W = (upToReportingMinor: number | null, minRole: string) => ({ action: 'write_off', upToReportingMinor, minRole });
const N = APPROVAL_ACTIONS.length - 1; // index of the first rule passed to matrix()

describe('roles (domain/roles.ts, re-exported by api/auth.ts)', () => {
  it('ranks team_member < collector < team_lead < ar_manager < admin', () => {
    expect(ROLES).toEqual(['team_member', 'collector', 'team_lead', 'ar_manager', 'admin']);
    expect(ROLES.map(roleRank)).toEqual([0, 1, 2, 3, 4]);
    expect(auth.ROLES).toBe(ROLES);
    expect(auth.roleRank).toBe(roleRank);
  });
});

describe('requiredRole: the shipped matrix (config/authority-matrix.json)', () => {
  it('loads, covers every action, and every action reaches admin at the top', () => {
    for (const action of APPROVAL_ACTIONS) {
      expect(shipped.rules.some((r) => r.action === action && r.upToReportingMinor === null)).toBe(true);
      expect(requiredRole(shipped, action, Number.MAX_SAFE_INTEGER)).toBe('admin');
      expect(APPROVER_ROLES).toContain(requiredRole(shipped, action, 0));
    }
    expect(shipped.escalateAfterHours).toBe(48);
    expect(shipped.roleLimits).toEqual({ team_lead: 1_000_000, ar_manager: 5_000_000, admin: null });
    expect(shipped.creditHoldNeedsApproval).toBe(true);
  });

  it('write_off: 0 and exactly 500.00 team lead, 500.01 AR manager, exactly 5 000.00 AR manager, 5 000.01 admin', () => {
    const role = (amount: number) => requiredRole(shipped, 'write_off', amount);
    expect([0, 1, 50_000, 50_001, 500_000, 500_001, 99_999_999].map(role)).toEqual([
      'team_lead',
      'team_lead',
      'team_lead',
      'ar_manager',
      'ar_manager',
      'admin',
      'admin',
    ]);
    expect([0, 50_000, 50_001, 500_000, 500_001].map((a) => requiredRole(shipped, 'settlement', a))).toEqual(['team_lead', 'team_lead', 'ar_manager', 'ar_manager', 'admin']);
  });

  it('the other actions at their thresholds and one minor unit above', () => {
    const at = (action: ApprovalAction, ...amounts: number[]) => amounts.map((a) => requiredRole(shipped, action, a));
    expect(at('credit_hold', 0, 1_000_000, 1_000_001, 5_000_000, 5_000_001)).toEqual(['team_lead', 'team_lead', 'ar_manager', 'ar_manager', 'admin']);
    expect(at('release_credit_hold', 0, 5_000_000, 5_000_001)).toEqual(['ar_manager', 'ar_manager', 'admin']);
    expect(at('legal_handoff', 0, 2_500_000, 2_500_001)).toEqual(['ar_manager', 'ar_manager', 'admin']);
    expect(at('agency_handoff', 0, 5_000_000, 5_000_001)).toEqual(['ar_manager', 'ar_manager', 'admin']);
    expect(at('extended_payment_plan', 0, 1_000_000, 1_000_001, 5_000_000, 5_000_001)).toEqual(['team_lead', 'team_lead', 'ar_manager', 'ar_manager', 'admin']);
  });

  it('amounts in other currencies are converted to the reporting currency (EUR) first', () => {
    const writeOff = (amountMinor: number, currency: string) => requiredRole(shipped, 'write_off', convertMinor(amountMinor, currency, fx));
    // USD 0.92: 543.47 USD = 499.9924 EUR -> 499.99; 543.48 USD = 500.0016 -> 500.00 (at the bound, inclusive); 543.49 -> 500.01.
    expect(convertMinor(54_347, 'USD', fx)).toBe(49_999);
    expect(convertMinor(54_348, 'USD', fx)).toBe(50_000);
    expect(convertMinor(54_349, 'USD', fx)).toBe(50_001);
    expect([54_347, 54_348, 54_349].map((a) => writeOff(a, 'USD'))).toEqual(['team_lead', 'team_lead', 'ar_manager']);
    // JPY has no minor units, rate 0.0062: ¥80 645 = 499.999 EUR -> 500.00; ¥80 646 = 500.0052 EUR -> 500.01.
    expect(convertMinor(80_645, 'JPY', fx)).toBe(50_000);
    expect(convertMinor(80_646, 'JPY', fx)).toBe(50_001);
    expect([80_645, 80_646].map((a) => writeOff(a, 'JPY'))).toEqual(['team_lead', 'ar_manager']);
    // ¥806 452 = 5 000.0024 EUR -> 5 000.00 (AR manager); ¥806 453 = 5 000.0086 -> 5 000.01 (admin).
    expect([806_452, 806_453].map((a) => writeOff(a, 'JPY'))).toEqual(['ar_manager', 'admin']);
  });

  it('refuses negative and fractional amounts', () => {
    expect(() => requiredRole(shipped, 'write_off', -1)).toThrow(RangeError);
    expect(() => requiredRole(shipped, 'write_off', 0.5)).toThrow(RangeError);
    expect(() => requiredRole(shipped, 'nope' as ApprovalAction, 1)).toThrow(/no rule/);
  });

  it('is coherent: whoever holds the required role with the role\'s default limit may approve, at every threshold', () => {
    for (const rule of shipped.rules) {
      for (const amount of [0, rule.upToReportingMinor ?? Number.MAX_SAFE_INTEGER]) {
        const role = requiredRole(shipped, rule.action, amount);
        const refusal = approvalRefusal(shipped, { userId: 'approver', role, approvalLimitMinor: null }, { action: rule.action, amountReportingMinor: amount, requestedBy: 'someone', requiredRole: role });
        expect(refusal, `${rule.action} ${amount} by ${role}`).toBeNull();
      }
    }
  });
});

describe('nextRole, approvalLimit, approvalRefusal', () => {
  it('escalates team_lead → ar_manager → admin → nowhere; lower roles escalate to team_lead', () => {
    expect(nextRole('team_lead')).toBe('ar_manager');
    expect(nextRole('ar_manager')).toBe('admin');
    expect(nextRole('admin')).toBeNull();
    expect(nextRole('collector')).toBe('team_lead');
    expect(nextRole('team_member')).toBe('team_lead');
  });

  it("a user's own limit wins; without one, the role's; admin unlimited; below team lead nothing", () => {
    expect(approvalLimit({ role: 'team_lead', approvalLimitMinor: null }, shipped)).toBe(1_000_000);
    expect(approvalLimit({ role: 'ar_manager', approvalLimitMinor: null }, shipped)).toBe(5_000_000);
    expect(approvalLimit({ role: 'admin', approvalLimitMinor: null }, shipped)).toBeNull();
    expect(approvalLimit({ role: 'team_lead', approvalLimitMinor: 20_000 }, shipped)).toBe(20_000);
    expect(approvalLimit({ role: 'team_lead', approvalLimitMinor: 9_000_000 }, shipped)).toBe(9_000_000);
    expect(approvalLimit({ role: 'admin', approvalLimitMinor: 100 }, shipped)).toBe(100);
    expect(approvalLimit({ role: 'collector', approvalLimitMinor: null }, shipped)).toBe(0);
    expect(approvalLimit({ role: 'team_member', approvalLimitMinor: null }, shipped)).toBe(0);
  });

  const request = (amountReportingMinor: number, requiredRole: Role = 'team_lead', action: ApprovalAction = 'write_off') => ({
    action,
    amountReportingMinor,
    requestedBy: 'anna',
    requiredRole,
  });
  const lena = { userId: 'lena', role: 'team_lead' as const, approvalLimitMinor: 20_000 };

  it('allows an approver with the role, within the limit (the limit is inclusive)', () => {
    expect(approvalRefusal(shipped, lena, request(0))).toBeNull();
    expect(approvalRefusal(shipped, lena, request(20_000))).toBeNull();
    expect(approvalRefusal(shipped, { userId: 'admin', role: 'admin', approvalLimitMinor: null }, request(Number.MAX_SAFE_INTEGER, 'admin'))).toBeNull();
    // A higher role may approve what a lower one may.
    expect(approvalRefusal(shipped, { userId: 'mark', role: 'ar_manager', approvalLimitMinor: 5_000_000 }, request(10_000))).toBeNull();
  });

  it('refuses one minor unit above the limit', () => {
    expect(approvalRefusal(shipped, lena, request(20_001))).toBe('20001 (reporting currency, minor units) is above the approval limit of lena (20000)');
    expect(approvalRefusal(shipped, { userId: 'mark', role: 'ar_manager', approvalLimitMinor: null }, request(5_000_001, 'ar_manager'))).toMatch(/above the approval limit of mark \(5000000\)/);
  });

  it('refuses a role below the required role (escalation may have raised it)', () => {
    expect(approvalRefusal(shipped, lena, request(10, 'ar_manager'))).toBe('this write_off needs the role ar_manager or above to approve; lena is team_lead');
    expect(approvalRefusal(shipped, { userId: 'ben', role: 'collector', approvalLimitMinor: 1_000_000 }, request(10))).toMatch(/needs the role team_lead/);
  });

  it('refuses the requester, whatever their role and limit (checked first)', () => {
    expect(approvalRefusal(shipped, { userId: 'anna', role: 'admin', approvalLimitMinor: null }, request(1))).toBe(
      'anna requested this write_off and cannot approve it: someone else must',
    );
  });
});

describe('authorityMatrixSchema: what it refuses, by path', () => {
  it('accepts a minimal matrix', () => {
    expect(authorityMatrixSchema.safeParse(matrix()).success).toBe(true);
    expect(authorityMatrixSchema.safeParse(matrix([W(100, 'team_lead'), W(1_000, 'ar_manager'), W(null, 'admin')])).success).toBe(true);
  });

  it('thresholds that do not ascend', () => {
    expect(issues(matrix([W(1_000, 'team_lead'), W(1_000, 'ar_manager'), W(null, 'admin')]))).toEqual([
      `rules.${N + 1}.upToReportingMinor: thresholds of "write_off" must ascend: 1000 is not above the previous 1000`,
    ]);
  });

  it('an unbounded rule that is not last, and a last rule that is bounded', () => {
    expect(issues(matrix([W(null, 'team_lead'), W(1_000, 'admin')]))).toEqual([
      `rules.${N}.upToReportingMinor: only the last rule of "write_off" may be unbounded (null): the rules after it would never apply`,
      `rules.${N + 1}.upToReportingMinor: the last rule of "write_off" must be unbounded (null) so that every amount needs some role`,
    ]);
  });

  it('a larger amount needing a lower role', () => {
    expect(issues(matrix([W(100, 'ar_manager'), W(null, 'team_lead')]))).toEqual([
      `rules.${N + 1}.minRole: a larger amount of "write_off" cannot need a lower role: team_lead comes after ar_manager`,
    ]);
  });

  it('an action without rules', () => {
    const doc = matrix();
    doc.rules = (doc.rules as { action: string }[]).filter((r) => r.action !== 'agency_handoff');
    expect(issues(doc)).toEqual(['rules: action "agency_handoff" has no rule: add one with "upToReportingMinor": null']);
  });

  it('unknown actions and roles, roles that cannot approve, bad numbers and unknown fields', () => {
    const paths = (doc: unknown) => issues(doc).map((i) => i.split(':')[0]);
    expect(paths(matrix([{ action: 'forgive', upToReportingMinor: null, minRole: 'team_lead' }]))).toContain(`rules.${N + 1}.action`);
    expect(paths(matrix([W(null, 'collector')]))).toEqual([`rules.${N}.minRole`]);
    expect(paths(matrix([W(-1, 'team_lead'), W(null, 'admin')]))).toContain(`rules.${N}.upToReportingMinor`);
    expect(paths(matrix([{ ...W(null, 'admin'), colour: 'red' }]))).toEqual([`rules.${N}`]);
    expect(paths(matrix([], { escalateAfterHours: 0 }))).toEqual(['escalateAfterHours']);
    expect(paths(matrix([], { roleLimits: { team_lead: 1.5, ar_manager: null, admin: null, collector: 5 } }))).toEqual(
      expect.arrayContaining(['roleLimits', 'roleLimits.team_lead']),
    );
    expect(paths(matrix([], { creditHoldNeedsApproval: 'yes' }))).toEqual(['creditHoldNeedsApproval']);
  });

  it('loadAuthorityMatrix turns a bad file into a ConfigError naming the file and the path', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'authority-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'matrix.json');
    writeFileSync(file, JSON.stringify(matrix([W(100, 'admin'), W(null, 'team_lead')])));
    expect(() => loadAuthorityMatrix(file)).toThrow(ConfigError);
    expect(() => loadAuthorityMatrix(file)).toThrow(`${file} at rules.${N + 1}.minRole`);
  });

  it('the parsed matrix is what the lookups take', () => {
    const m: AuthorityMatrix = authorityMatrixSchema.parse(matrix([W(100, 'team_lead'), W(null, 'ar_manager')]));
    expect(requiredRole(m, 'write_off', 100)).toBe('team_lead');
    expect(requiredRole(m, 'write_off', 101)).toBe('ar_manager');
    expect(requiredRole(m, 'credit_hold', Number.MAX_SAFE_INTEGER)).toBe('team_lead');
  });
});
