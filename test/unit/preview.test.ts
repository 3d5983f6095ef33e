import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BusinessCalendar } from '../../domain/business-calendar';
import { cadenceSchema, type Cadence } from '../../domain/cadence';
import { previewCadence, type PreviewInput, type PreviewStep } from '../../domain/preview';
import { planRemainingSteps } from '../../domain/schedule';

/*
 * Expected timelines worked out by hand (tz rules as in schedule.test.ts: New York EDT = UTC-4 until Sun 2 Nov 2025,
 * EST = UTC-5 after; Berlin CEST = UTC+2 from Sun 30 Mar 2025).
 */
const load = (file: string): Cadence => cadenceSchema.parse(JSON.parse(readFileSync(path.resolve(__dirname, '../../config/cadences', file), 'utf8')));
const standard = load('standard.json');
const strategic = load('strategic.json');
const highRisk = load('high-risk.json');

const rows = (timeline: readonly PreviewStep[]) => timeline.map((s) => [s.stepId, s.action, s.at, s.status, ...(s.reason ? [s.reason] : [])]);

describe('previewCadence: the shipped standard cadence (09:30, Mon-Fri 09:00-16:00, at most 3 in 7 days)', () => {
  const invoice: Omit<PreviewInput, 'asOf'> = {
    cadence: standard,
    dueDate: '2025-03-07',
    currency: 'USD',
    openAmountMinor: 125_000,
    timeZone: 'America/New_York',
    segment: 'standard',
  };

  it('enrolled before the due date: every step, the Saturday reminder on Monday', () => {
    // due Fri 7 Mar. reminder-1 +1 = Sat 8 Mar -> Mon 10 Mar 09:00 EDT = 13:00Z. reminder-2 Fri 14 Mar 09:30 EDT = 13:30Z:
    // one contact in the 7 days before. reminder-3 Fri 21 Mar 13:30Z: reminder-2 is exactly 7 x 24 h old, no longer counted.
    // call-1 Fri 28 Mar 13:30Z.
    expect(rows(previewCadence({ ...invoice, asOf: '2025-03-01T12:00:00.000Z' }))).toEqual([
      ['reminder-1', 'email', '2025-03-10T13:00:00.000Z', 'scheduled'],
      ['reminder-2', 'email', '2025-03-14T13:30:00.000Z', 'scheduled'],
      ['reminder-3', 'email', '2025-03-21T13:30:00.000Z', 'scheduled'],
      ['call-1', 'call_task', '2025-03-28T13:30:00.000Z', 'scheduled'],
    ]);
  });

  it('enrolled late on a Saturday: two reminders superseded, the latest one waits for Monday 09:00', () => {
    // asOf Sat 22 Mar 11:00 EDT. Due: reminder-1, -2, -3 -> the first two superseded at their dates; reminder-3 runs now,
    // moved into the window: Mon 24 Mar 09:00 EDT = 13:00Z. call-1 keeps its date.
    expect(rows(previewCadence({ ...invoice, asOf: '2025-03-22T15:00:00.000Z' }))).toEqual([
      ['reminder-1', 'email', '2025-03-10T13:00:00.000Z', 'superseded', 'superseded by reminder-3'],
      ['reminder-2', 'email', '2025-03-14T13:30:00.000Z', 'superseded', 'superseded by reminder-3'],
      ['reminder-3', 'email', '2025-03-24T13:00:00.000Z', 'scheduled'],
      ['call-1', 'call_task', '2025-03-28T13:30:00.000Z', 'scheduled'],
    ]);
  });
});

describe('previewCadence: the shipped strategic cadence (10:00, Tue-Thu 10:00-16:00, business days)', () => {
  const DE: BusinessCalendar = { holidays: ['2025-04-18', '2025-04-21', '2025-05-01', '2025-05-29', '2025-06-09', '2025-06-19'] };
  const invoice: PreviewInput = {
    cadence: strategic,
    dueDate: '2025-04-22',
    currency: 'EUR',
    openAmountMinor: 4_800_000,
    timeZone: 'Europe/Berlin',
    segment: 'strategic',
    calendar: DE,
    asOf: '2025-04-01T08:00:00.000Z',
  };
  // due Tue 22 Apr 2025; all times 10:00 CEST = 08:00Z.
  // courtesy -3 bd: Mon 21 and Fri 18 are holidays -> Thu 17, Wed 16, Tue 15 Apr.
  // reminder-1 +5 bd: Wed 23, Thu 24, Fri 25, Mon 28, Tue 29 Apr (courtesy exactly 14 d earlier: not counted by the cap).
  // statement-1 +12 bd: ... Wed 30 (6), 1 May holiday, Fri 2 (7), Mon 5 - Fri 9 (8-12) -> Fri 9 May, outside Tue-Thu -> Tue 13 May.
  // sales-owner-call +20 bd: Mon 12 - Fri 16 (13-17), Mon 19, Tue 20, Wed 21 May (20).
  // ar-manager-review +40 bd: Thu 22 - Wed 28 May (21-25), 29 May holiday, Fri 30 (26), 2-6 Jun (27-31), 9 Jun holiday,
  //   10-13 Jun (32-35), 16-18 Jun (36-38), 19 Jun holiday, Fri 20 (39), Mon 23 Jun (40).
  it('a courtesy reminder three business days before the due date, then reminder, statement and the sales owner', () => {
    expect(rows(previewCadence(invoice))).toEqual([
      ['courtesy-pre-due', 'email', '2025-04-15T08:00:00.000Z', 'scheduled'],
      ['reminder-1', 'email', '2025-04-29T08:00:00.000Z', 'scheduled'],
      ['statement-1', 'statement', '2025-05-13T08:00:00.000Z', 'scheduled'],
      ['sales-owner-call', 'escalate', '2025-05-21T08:00:00.000Z', 'scheduled'],
      ['ar-manager-review', 'escalate', '2025-06-23T08:00:00.000Z', 'scheduled'],
    ]);
  });

  it('a do-not-contact customer: no email, no statement; the escalations still happen', () => {
    expect(rows(previewCadence({ ...invoice, doNotContact: true }))).toEqual([
      ['courtesy-pre-due', 'email', '2025-04-15T08:00:00.000Z', 'skipped', 'do_not_contact'],
      ['reminder-1', 'email', '2025-04-29T08:00:00.000Z', 'skipped', 'do_not_contact'],
      ['statement-1', 'statement', '2025-05-13T08:00:00.000Z', 'skipped', 'do_not_contact'],
      ['sales-owner-call', 'escalate', '2025-05-21T08:00:00.000Z', 'scheduled'],
      ['ar-manager-review', 'escalate', '2025-06-23T08:00:00.000Z', 'scheduled'],
    ]);
  });
});

describe('previewCadence: the shipped high-risk cadence (09:00, Mon-Fri 08:00-17:00, business days)', () => {
  const US: BusinessCalendar = {
    holidays: ['2025-05-26', '2025-06-19', '2025-07-04', '2025-09-01', '2025-10-13', '2025-11-11', '2025-11-27', '2025-12-25'],
  };
  const invoice: PreviewInput = {
    cadence: highRisk,
    dueDate: '2025-06-27',
    currency: 'USD',
    openAmountMinor: 30_000,
    timeZone: 'America/New_York',
    segment: 'high_risk',
    calendar: US,
    asOf: '2025-06-20T12:00:00.000Z',
  };
  // due Fri 27 Jun 2025; 09:00 EDT = 13:00Z until 2 Nov, 09:00 EST = 14:00Z after.
  // +1 bd Mon 30 Jun. +5: Tue 1 (2), Wed 2 (3), Thu 3 (4), 4 Jul holiday, Mon 7 Jul (5). +7: Tue 8, Wed 9 Jul.
  // +10: Thu 10, Fri 11, Mon 14 Jul. +14: Tue 15 - Fri 18 Jul. +21: Mon 21 - Fri 25 (15-19), Mon 28 (20), Tue 29 Jul (21).
  // +45: 24 more business days from Tue 29 Jul: Wed 30 Jul - Fri 29 Aug are 23, Mon 1 Sep is Labor Day -> Tue 2 Sep (45).
  // +90: 45 more from Tue 2 Sep: Wed 3 - Tue 30 Sep (46-65), Wed 1 - Fri 10 Oct (66-73), 13 Oct Columbus Day,
  //   Tue 14 - Fri 31 Oct (74-87), Mon 3, Tue 4, Wed 5 Nov (90) -> 09:00 EST = 14:00Z.
  // The open amount 300.00 USD is below the agency handoff's USD 500.00 minimum.
  const tail = [
    ['escalate-team-lead', 'escalate', '2025-07-14T13:00:00.000Z', 'scheduled'],
    ['statement-1', 'statement', '2025-07-18T13:00:00.000Z', 'scheduled'],
    ['credit-hold', 'credit_hold', '2025-07-29T13:00:00.000Z', 'scheduled'],
    ['handoff-agency', 'handoff', '2025-09-02T13:00:00.000Z', 'skipped', 'open amount below USD minimum 50000'],
    ['write-off-request', 'request_write_off', '2025-11-05T14:00:00.000Z', 'scheduled'],
  ];

  it('reminders at +1 and +5 business days, a call at +7, the team lead, a credit hold at +21, placeholders late', () => {
    expect(rows(previewCadence(invoice))).toEqual([
      ['reminder-1', 'email', '2025-06-30T13:00:00.000Z', 'scheduled'],
      ['reminder-2', 'email', '2025-07-07T13:00:00.000Z', 'scheduled'],
      ['call-1', 'call_task', '2025-07-09T13:00:00.000Z', 'scheduled'],
      ...tail,
    ]);
  });

  it('enrolled late (Thu 10 Jul 14:00 EDT): both reminders superseded, the call now, the rest on their dates', () => {
    expect(rows(previewCadence({ ...invoice, asOf: '2025-07-10T18:00:00.000Z' }))).toEqual([
      ['reminder-1', 'email', '2025-06-30T13:00:00.000Z', 'superseded', 'superseded by call-1'],
      ['reminder-2', 'email', '2025-07-07T13:00:00.000Z', 'superseded', 'superseded by call-1'],
      ['call-1', 'call_task', '2025-07-10T18:00:00.000Z', 'scheduled'],
      ...tail,
    ]);
  });

  it('above the minimum the agency handoff is scheduled', () => {
    const handoff = previewCadence({ ...invoice, openAmountMinor: 50_000 }).find((s) => s.stepId === 'handoff-agency');
    expect(handoff).toEqual({ stepId: 'handoff-agency', action: 'handoff', at: '2025-09-02T13:00:00.000Z', status: 'scheduled' });
  });
});

describe('previewCadence: the simulation rule', () => {
  const emails = (extra: Record<string, unknown> = {}, conditions?: Record<string, unknown>) =>
    cadenceSchema.parse({
      id: 'inline',
      version: 1,
      name: 'Inline',
      sendAt: '09:30',
      contactCap: { maxEmails: 2, perDays: 7 },
      ...extra,
      steps: [
        { id: 'e1', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
        { id: 'e2', offset: { amount: 2, unit: 'days' }, action: { type: 'email', template: 'reminder-firm' }, ...(conditions ? { conditions } : {}) },
        { id: 'e3', offset: { amount: 3, unit: 'days' }, action: { type: 'email', template: 'reminder-final' } },
        { id: 'e4', anchor: 'previous_step', offset: { amount: 1, unit: 'days' }, action: { type: 'call_task', note: 'Call.' } },
      ],
    });
  const base = { dueDate: '2025-03-03', currency: 'EUR', openAmountMinor: 10_000, timeZone: 'Europe/Berlin', segment: 'standard' as const, asOf: '2025-03-01T00:00:00.000Z' };

  it('the cap pushes the third email to when the first is 7 days old, and the next step is dated from there', () => {
    // due Mon 3 Mar, 09:30 CET = 08:30Z: e1 Tue 4, e2 Wed 5, e3 Thu 6 -> two in 7 days -> Tue 11 Mar 08:30Z; e4 +1 day from it.
    expect(rows(previewCadence({ ...base, cadence: emails() }))).toEqual([
      ['e1', 'email', '2025-03-04T08:30:00.000Z', 'scheduled'],
      ['e2', 'email', '2025-03-05T08:30:00.000Z', 'scheduled'],
      ['e3', 'email', '2025-03-11T08:30:00.000Z', 'scheduled'],
      ['e4', 'call_task', '2025-03-12T08:30:00.000Z', 'scheduled'],
    ]);
  });

  it('a skipped email does not count towards the cap', () => {
    expect(rows(previewCadence({ ...base, cadence: emails({}, { segments: ['strategic'] }) }))).toEqual([
      ['e1', 'email', '2025-03-04T08:30:00.000Z', 'scheduled'],
      ['e2', 'email', '2025-03-05T08:30:00.000Z', 'skipped', 'segment standard not in [strategic]'],
      ['e3', 'email', '2025-03-06T08:30:00.000Z', 'scheduled'],
      ['e4', 'call_task', '2025-03-07T08:30:00.000Z', 'scheduled'],
    ]);
  });

  it('without a cap, a step caught up outside the window still goes out inside it', () => {
    // Enrolled Sat 8 Mar 20:00 CET: e3 (Thu 6 Mar) is the latest due -> e1, e2 superseded; e3 now -> Mon 10 Mar 09:00 CET = 08:00Z.
    const c = emails({ contactCap: undefined, sendWindow: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '16:00' } });
    expect(c.contactCap).toBeUndefined();
    expect(rows(previewCadence({ ...base, cadence: c, asOf: '2025-03-08T19:00:00.000Z' }))).toEqual([
      ['e1', 'email', '2025-03-04T08:30:00.000Z', 'superseded', 'superseded by e3'],
      ['e2', 'email', '2025-03-05T08:30:00.000Z', 'superseded', 'superseded by e3'],
      ['e3', 'email', '2025-03-10T08:00:00.000Z', 'scheduled'],
      ['e4', 'call_task', '2025-03-11T08:00:00.000Z', 'scheduled'],
    ]);
  });

  it('a version-1 cadence previews at exactly the planned dates', () => {
    const v1 = cadenceSchema.parse({ ...standard, version: 1, sendWindow: undefined, contactCap: undefined, selection: undefined });
    const input = { ...base, cadence: v1, dueDate: '2025-03-07', timeZone: 'America/New_York' };
    const planned = planRemainingSteps(v1, { dueDate: input.dueDate, timeZone: input.timeZone }, [], new Date(input.asOf));
    expect(previewCadence(input).map((s) => [s.stepId, s.at, s.status])).toEqual(planned.map((p) => [p.step.id, p.at, 'scheduled']));
    expect(planned.map((p) => p.at)[0]).toBe('2025-03-08T14:30:00.000Z'); // a Saturday: no window in version 1
  });

  it('an asOf that is not an instant is a RangeError', () => {
    expect(() => previewCadence({ ...base, cadence: emails(), asOf: 'now' })).toThrow(RangeError);
  });
});
