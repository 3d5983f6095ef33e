import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cadenceSchema, type Cadence } from '../../domain/cadence';

const DIR = path.resolve(__dirname, '../../config/cadences');
const load = (file: string): Cadence => cadenceSchema.parse(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')));
const templates = Object.keys(JSON.parse(readFileSync(path.resolve(__dirname, '../../config/email-templates.json'), 'utf8')));
const outline = (c: Cadence) => c.steps.map((s) => [s.id, s.offset.amount, s.offset.unit, s.action.type]);

describe('the shipped cadences', () => {
  it('are standard, strategic and high-risk, each selecting its own segment', () => {
    const all = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort().map(load);
    expect(all.map((c) => [c.id, c.selection])).toEqual([
      ['high-risk', { segments: ['high_risk'] }],
      ['standard', { segments: ['standard'] }],
      ['strategic', { segments: ['strategic'] }],
    ]);
    for (const c of all) {
      expect(c.sendWindow, c.id).toBeDefined();
      expect(c.contactCap, c.id).toBeDefined();
    }
  });

  it('name only templates that exist, for emails and statements', () => {
    const named = readdirSync(DIR)
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => load(f).steps.flatMap((s) => (s.action.type === 'email' || s.action.type === 'statement' ? [s.action.template] : [])));
    expect([...new Set(named)].sort()).toEqual(['courtesy-pre-due', 'reminder-final', 'reminder-firm', 'reminder-friendly', 'statement']);
    expect(named.filter((t) => !templates.includes(t))).toEqual([]);
  });

  it('strategic: a courtesy reminder before the due date, the sales owner calls, no credit hold', () => {
    const c = load('strategic.json');
    expect(outline(c)).toEqual([
      ['courtesy-pre-due', -3, 'business_days', 'email'],
      ['reminder-1', 5, 'business_days', 'email'],
      ['statement-1', 12, 'business_days', 'statement'],
      ['sales-owner-call', 20, 'business_days', 'escalate'],
      ['ar-manager-review', 40, 'business_days', 'escalate'],
    ]);
    expect(c.steps.map((s) => (s.action.type === 'escalate' ? s.action.role : null)).filter(Boolean)).toEqual(['sales_owner', 'ar_manager']);
    expect(c.steps.some((s) => ['credit_hold', 'handoff', 'request_write_off'].includes(s.action.type))).toBe(false);
  });

  it('high-risk: reminders at +1 and +5, a call at +7, the team lead, a credit hold at +21 business days, placeholders late', () => {
    const c = load('high-risk.json');
    expect(outline(c)).toEqual([
      ['reminder-1', 1, 'business_days', 'email'],
      ['reminder-2', 5, 'business_days', 'email'],
      ['call-1', 7, 'business_days', 'call_task'],
      ['escalate-team-lead', 10, 'business_days', 'escalate'],
      ['statement-1', 14, 'business_days', 'statement'],
      ['credit-hold', 21, 'business_days', 'credit_hold'],
      ['handoff-agency', 45, 'business_days', 'handoff'],
      ['write-off-request', 90, 'business_days', 'request_write_off'],
    ]);
    expect(c.steps.find((s) => s.id === 'credit-hold')!.conditions?.skipIf).toEqual(['promise_active', 'dispute_active']);
  });
});
