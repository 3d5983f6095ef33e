import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BusinessCalendar } from '../../domain/business-calendar';
import { cadenceSchema, type Cadence, type SendWindow } from '../../domain/cadence';
import { applyContactCap, moveIntoSendWindow, planNextStep, planRemainingSteps, type HandledStep, type PlannedStep } from '../../domain/schedule';

/*
 * Every expected instant below was worked out by hand from the tz rules, not by running the code:
 *
 *   Europe/Berlin     CET  = UTC+1, CEST = UTC+2; 2025 switches: Sun 30 Mar 02:00 -> 03:00, Sun 26 Oct 03:00 -> 02:00.
 *   America/New_York  EST  = UTC-5, EDT  = UTC-4; 2025 switches: Sun 9 Mar, Sun 2 Nov.
 *   Australia/Sydney  AEST = UTC+10, AEDT = UTC+11; 2025 switches: DST ends Sun 6 Apr, starts Sun 5 Oct.
 *
 * Calendars: March 2025 starts on a Saturday; Fri 28 Mar, Tue 1 Apr, Fri 18 Apr (Good Friday), Mon 21 Apr
 * (Easter Monday), Fri 4 Jul (US Independence Day), Fri 24 Oct, Fri 31 Oct, Fri 3 Oct.
 */

const DE: BusinessCalendar = { holidays: ['2025-04-18', '2025-04-21', '2025-05-01'] };
const US: BusinessCalendar = { holidays: ['2025-07-04'] };
const TUE_THU: SendWindow = { days: ['tue', 'wed', 'thu'], start: '09:00', end: '17:00' };
const MON_FRI: SendWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '16:00' };

type StepInput = {
  id: string;
  anchor?: 'due_date' | 'previous_step';
  amount: number;
  unit: 'days' | 'business_days' | 'hours' | 'minutes' | 'seconds';
  action?: Record<string, unknown>;
};

function cadence(steps: StepInput[], extra: Record<string, unknown> = {}): Cadence {
  return cadenceSchema.parse({
    id: 'inline',
    version: 2,
    name: 'Inline test cadence',
    sendAt: '09:30',
    ...extra,
    steps: steps.map((s) => ({
      id: s.id,
      ...(s.anchor ? { anchor: s.anchor } : {}),
      offset: { amount: s.amount, unit: s.unit },
      action: s.action ?? { type: 'email', template: 'reminder-friendly' },
    })),
  });
}

const CALL = { type: 'call_task', note: 'Call.' };
const EARLY = new Date('2024-01-01T00:00:00.000Z');
const summary = (planned: readonly PlannedStep[]) => planned.map((p) => [p.step.id, p.at]);

describe('planRemainingSteps: business_days offsets', () => {
  const c = cadence([
    { id: 'courtesy', amount: -3, unit: 'business_days' },
    { id: 'on-due', amount: 0, unit: 'business_days' },
    { id: 'plus-1', amount: 1, unit: 'business_days' },
    { id: 'plus-5', amount: 5, unit: 'business_days' },
  ]);

  it('from the due date, over Easter with German holidays (Berlin, CEST: 09:30 = 07:30Z)', () => {
    // due Thu 17 Apr. -3: Wed 16, Tue 15, Mon 14. 0: Thu 17. +1: Fri 18 and Mon 21 are holidays -> Tue 22.
    // +5: Tue 22 (1), Wed 23, Thu 24, Fri 25, Mon 28 (5).
    expect(summary(planRemainingSteps(c, { dueDate: '2025-04-17', timeZone: 'Europe/Berlin', calendar: DE }, [], EARLY))).toEqual([
      ['courtesy', '2025-04-14T07:30:00.000Z'],
      ['on-due', '2025-04-17T07:30:00.000Z'],
      ['plus-1', '2025-04-22T07:30:00.000Z'],
      ['plus-5', '2025-04-28T07:30:00.000Z'],
    ]);
  });

  it('without a calendar: Monday to Friday only', () => {
    // +1: Fri 18. +5: Fri 18, Mon 21, Tue 22, Wed 23, Thu 24.
    expect(summary(planRemainingSteps(c, { dueDate: '2025-04-17', timeZone: 'Europe/Berlin' }, [], EARLY))).toEqual([
      ['courtesy', '2025-04-14T07:30:00.000Z'],
      ['on-due', '2025-04-17T07:30:00.000Z'],
      ['plus-1', '2025-04-18T07:30:00.000Z'],
      ['plus-5', '2025-04-24T07:30:00.000Z'],
    ]);
  });

  it('a due date on a weekend: 0 is the next business day, -3 counts back from the weekend', () => {
    // due Sat 29 Mar 2025. -3: Fri 28 (1), Thu 27 (2), Wed 26 (3) -> 09:30 CET = 08:30Z. 0: Mon 31 Mar 09:30 CEST = 07:30Z.
    // +1: Mon 31 Mar 07:30Z. +5: Mon 31 (1), Tue 1, Wed 2, Thu 3, Fri 4 Apr (5) -> 07:30Z.
    expect(summary(planRemainingSteps(c, { dueDate: '2025-03-29', timeZone: 'Europe/Berlin' }, [], EARLY))).toEqual([
      ['courtesy', '2025-03-26T08:30:00.000Z'],
      ['on-due', '2025-03-31T07:30:00.000Z'],
      ['plus-1', '2025-03-31T07:30:00.000Z'],
      ['plus-5', '2025-04-04T07:30:00.000Z'],
    ]);
  });

  describe('previous_step anchors count from the local date of the previous step', () => {
    const chain = cadence([
      { id: 'first', amount: 1, unit: 'days', action: CALL },
      { id: 'second', anchor: 'previous_step', amount: 1, unit: 'business_days', action: CALL },
    ]);
    const ctx = { dueDate: '2025-07-03', timeZone: 'America/New_York', calendar: US };

    it('planned: first Fri 4 Jul 09:30 EDT (13:30Z) -> second Mon 7 Jul 09:30 EDT', () => {
      expect(summary(planRemainingSteps(chain, ctx, [], EARLY))).toEqual([
        ['first', '2025-07-04T13:30:00.000Z'],
        ['second', '2025-07-07T13:30:00.000Z'],
      ]);
    });

    it('handled late in the local evening: still the same local date', () => {
      // 2025-07-05T03:00Z = Fri 4 Jul 23:00 EDT -> next business day Mon 7 Jul.
      const handled: HandledStep[] = [{ stepId: 'first', at: '2025-07-05T03:00:00.000Z' }];
      expect(summary(planRemainingSteps(chain, ctx, handled, new Date('2025-07-05T03:00:00.000Z')))).toEqual([['second', '2025-07-07T13:30:00.000Z']]);
    });

    it('handled on Monday: Tuesday at sendAt', () => {
      const handled: HandledStep[] = [{ stepId: 'first', at: '2025-07-07T14:00:00.000Z' }];
      expect(summary(planRemainingSteps(chain, ctx, handled, new Date('2025-07-07T14:00:00.000Z')))).toEqual([['second', '2025-07-08T13:30:00.000Z']]);
    });

    it('the previous step is overdue and unhandled: counted from now (Wed 9 Jul 11:00 EDT) -> Thu 10 Jul', () => {
      expect(summary(planRemainingSteps(chain, ctx, [], new Date('2025-07-09T15:00:00.000Z')))).toEqual([
        ['first', '2025-07-04T13:30:00.000Z'],
        ['second', '2025-07-10T13:30:00.000Z'],
      ]);
    });

    it('zero business days after a step handled after sendAt: never before the previous step', () => {
      const zero = cadence([
        { id: 'first', amount: 1, unit: 'days', action: CALL },
        { id: 'second', anchor: 'previous_step', amount: 0, unit: 'business_days', action: CALL },
      ]);
      // first handled Mon 7 Jul 14:00 EDT = 18:00Z; Mon 7 Jul 09:30 EDT (13:30Z) would be earlier: the step falls due at 18:00Z.
      const handled: HandledStep[] = [{ stepId: 'first', at: '2025-07-07T18:00:00.000Z' }];
      expect(summary(planRemainingSteps(zero, ctx, handled, new Date('2025-07-07T18:00:00.000Z')))).toEqual([['second', '2025-07-07T18:00:00.000Z']]);
      // Handled on the holiday: the next business day at sendAt.
      const onHoliday: HandledStep[] = [{ stepId: 'first', at: '2025-07-04T14:00:00.000Z' }];
      expect(summary(planRemainingSteps(zero, ctx, onHoliday, new Date('2025-07-04T14:00:00.000Z')))).toEqual([['second', '2025-07-07T13:30:00.000Z']]);
    });
  });

  it('business days across the March switch keep the local sendAt', () => {
    // due Thu 27 Mar. +1: Fri 28 09:30 CET = 08:30Z. +2: Mon 31 09:30 CEST = 07:30Z.
    const c2 = cadence([
      { id: 'a', amount: 1, unit: 'business_days' },
      { id: 'b', amount: 2, unit: 'business_days' },
    ]);
    expect(planRemainingSteps(c2, { dueDate: '2025-03-27', timeZone: 'Europe/Berlin' }, [], EARLY).map((p) => p.at)).toEqual([
      '2025-03-28T08:30:00.000Z',
      '2025-03-31T07:30:00.000Z',
    ]);
  });
});

describe('moveIntoSendWindow', () => {
  const berlin = { dueDate: '2025-03-27', timeZone: 'Europe/Berlin' };
  const ny = { dueDate: '2025-03-07', timeZone: 'America/New_York' };
  const sydney = { dueDate: '2025-04-01', timeZone: 'Australia/Sydney' };

  it('Berlin, Tue-Thu 09:00-17:00: Friday 18:00 moves to Tuesday 09:00, across the March switch', () => {
    // Fri 28 Mar 18:00 CET = 17:00Z -> Tue 1 Apr 09:00 CEST = 07:00Z.
    expect(moveIntoSendWindow('2025-03-28T17:00:00.000Z', TUE_THU, berlin)).toBe('2025-04-01T07:00:00.000Z');
  });

  it('Berlin, across the October switch', () => {
    // Fri 24 Oct 18:00 CEST = 16:00Z -> Tue 28 Oct 09:00 CET = 08:00Z.
    expect(moveIntoSendWindow('2025-10-24T16:00:00.000Z', TUE_THU, berlin)).toBe('2025-10-28T08:00:00.000Z');
  });

  it('inside the window: unchanged (normalised to UTC); before the start: the start; at the end: the next window day', () => {
    // Wed 26 Mar 10:15 CET = 09:15Z, written with its offset.
    expect(moveIntoSendWindow('2025-03-26T10:15:00.000+01:00', TUE_THU, berlin)).toBe('2025-03-26T09:15:00.000Z');
    // Tue 1 Apr 08:00 CEST = 06:00Z -> 09:00 CEST = 07:00Z; exactly 09:00 stays.
    expect(moveIntoSendWindow('2025-04-01T06:00:00.000Z', TUE_THU, berlin)).toBe('2025-04-01T07:00:00.000Z');
    expect(moveIntoSendWindow('2025-04-01T07:00:00.000Z', TUE_THU, berlin)).toBe('2025-04-01T07:00:00.000Z');
    // Thu 3 Apr 16:59:59.999 CEST is inside; 17:00 CEST = 15:00Z is not -> Tue 8 Apr 09:00 CEST = 07:00Z.
    expect(moveIntoSendWindow('2025-04-03T14:59:59.999Z', TUE_THU, berlin)).toBe('2025-04-03T14:59:59.999Z');
    expect(moveIntoSendWindow('2025-04-03T15:00:00.000Z', TUE_THU, berlin)).toBe('2025-04-08T07:00:00.000Z');
  });

  it('New York, both switches', () => {
    // Fri 7 Mar 18:00 EST = 23:00Z -> Tue 11 Mar 09:00 EDT = 13:00Z.
    expect(moveIntoSendWindow('2025-03-07T23:00:00.000Z', TUE_THU, ny)).toBe('2025-03-11T13:00:00.000Z');
    // Fri 31 Oct 18:00 EDT = 22:00Z -> Tue 4 Nov 09:00 EST = 14:00Z.
    expect(moveIntoSendWindow('2025-10-31T22:00:00.000Z', TUE_THU, ny)).toBe('2025-11-04T14:00:00.000Z');
  });

  it('Sydney, both switches (the UTC instant is on the previous UTC day)', () => {
    // Fri 4 Apr 18:00 AEDT = 07:00Z -> Tue 8 Apr 09:00 AEST = Mon 7 Apr 23:00Z.
    expect(moveIntoSendWindow('2025-04-04T07:00:00.000Z', TUE_THU, sydney)).toBe('2025-04-07T23:00:00.000Z');
    // Fri 3 Oct 18:00 AEST = 08:00Z -> Tue 7 Oct 09:00 AEDT = Mon 6 Oct 22:00Z.
    expect(moveIntoSendWindow('2025-10-03T08:00:00.000Z', TUE_THU, sydney)).toBe('2025-10-06T22:00:00.000Z');
  });

  it('a holiday of the calendar is not a window day', () => {
    // Mon-Fri 09:00-16:00. Thu 17 Apr 17:00 CEST = 15:00Z: Fri 18 and Mon 21 are holidays -> Tue 22 Apr 09:00 CEST = 07:00Z.
    expect(moveIntoSendWindow('2025-04-17T15:00:00.000Z', MON_FRI, { ...berlin, calendar: DE })).toBe('2025-04-22T07:00:00.000Z');
    // Without the calendar: Fri 18 Apr 09:00 CEST.
    expect(moveIntoSendWindow('2025-04-17T15:00:00.000Z', MON_FRI, berlin)).toBe('2025-04-18T07:00:00.000Z');
  });

  it('a window start that a DST switch skips opens at the first valid time after it; a repeated one at its first occurrence', () => {
    const night: SendWindow = { days: ['sun'], start: '02:30', end: '04:00' };
    // Sun 30 Mar 00:00 CET = Sat 23:00Z. 02:30 does not exist that night: 03:30 CEST = 01:30Z.
    expect(moveIntoSendWindow('2025-03-29T23:00:00.000Z', night, berlin)).toBe('2025-03-30T01:30:00.000Z');
    // Sun 26 Oct 00:00 CEST = Sat 22:00Z. 02:30 happens twice; the first is 02:30 CEST = 00:30Z.
    expect(moveIntoSendWindow('2025-10-25T22:00:00.000Z', night, berlin)).toBe('2025-10-26T00:30:00.000Z');
  });

  it('no window: the same instant', () => {
    expect(moveIntoSendWindow('2025-03-28T18:00:00+01:00', undefined, berlin)).toBe('2025-03-28T17:00:00.000Z');
  });

  it('a bad instant or a window that never opens is a RangeError', () => {
    expect(() => moveIntoSendWindow('next friday', TUE_THU, berlin)).toThrow(RangeError);
    expect(() => moveIntoSendWindow('2025-03-28T17:00:00.000Z', { days: ['sat'], start: '09:00', end: '10:00' }, { ...berlin, calendar: { holidays: [] } })).toThrow(
      /never opens/,
    );
  });
});

describe('planRemainingSteps: send windows', () => {
  const shipped: Cadence = cadenceSchema.parse(
    JSON.parse(readFileSync(path.resolve(__dirname, '../../config/cadences/standard.json'), 'utf8')),
  );

  it('the shipped standard cadence: weekend reminders move to Monday 09:00, the call task does not move', () => {
    // due Sat 1 Mar 2025, Berlin (CET). +1 = Sun 2 Mar -> Mon 3 Mar 09:00 CET = 08:00Z; +7 = Sat 8 -> Mon 10 Mar 08:00Z;
    // +14 = Sat 15 -> Mon 17 Mar 08:00Z; call-1 +21 = Sat 22 Mar 09:30 CET = 08:30Z (not customer-facing).
    expect(summary(planRemainingSteps(shipped, { dueDate: '2025-03-01', timeZone: 'Europe/Berlin' }, [], EARLY))).toEqual([
      ['reminder-1', '2025-03-03T08:00:00.000Z'],
      ['reminder-2', '2025-03-10T08:00:00.000Z'],
      ['reminder-3', '2025-03-17T08:00:00.000Z'],
      ['call-1', '2025-03-22T08:30:00.000Z'],
    ]);
  });

  it('the shipped standard cadence in New York across the March switch: Saturday 09:30 EST -> Monday 09:00 EDT', () => {
    // due Fri 7 Mar. +1 = Sat 8 Mar -> Mon 10 Mar 09:00 EDT = 13:00Z; +7 = Fri 14 Mar 09:30 EDT = 13:30Z (inside); ...
    expect(summary(planRemainingSteps(shipped, { dueDate: '2025-03-07', timeZone: 'America/New_York' }, [], EARLY))).toEqual([
      ['reminder-1', '2025-03-10T13:00:00.000Z'],
      ['reminder-2', '2025-03-14T13:30:00.000Z'],
      ['reminder-3', '2025-03-21T13:30:00.000Z'],
      ['call-1', '2025-03-28T13:30:00.000Z'],
    ]);
  });

  it('steps after a moved step are dated from the moved time', () => {
    const c = cadence(
      [
        { id: 'email', amount: 1, unit: 'days' },
        { id: 'call', anchor: 'previous_step', amount: 2, unit: 'hours', action: CALL },
      ],
      { sendWindow: MON_FRI },
    );
    // due Fri 28 Mar: +1 = Sat 29 Mar 09:30 CET -> Mon 31 Mar 09:00 CEST = 07:00Z; call +2 h = 09:00Z.
    expect(summary(planRemainingSteps(c, { dueDate: '2025-03-28', timeZone: 'Europe/Berlin' }, [], EARLY))).toEqual([
      ['email', '2025-03-31T07:00:00.000Z'],
      ['call', '2025-03-31T09:00:00.000Z'],
    ]);
  });

  it('planNextStep keeps its contract: the last due step by position runs', () => {
    // As of Tue 11 Mar 12:00Z in New York: reminder-1 (Mon 10 Mar 13:00Z) is due, reminder-2 (Fri 14 Mar) is not.
    const plan = planNextStep(shipped, { dueDate: '2025-03-07', timeZone: 'America/New_York' }, [], new Date('2025-03-11T12:00:00.000Z'))!;
    expect([plan.next.step.id, plan.next.at, plan.superseded]).toEqual(['reminder-1', '2025-03-10T13:00:00.000Z', []]);
    // As of Sat 22 Mar: reminder-3 (Fri 21 Mar 13:30Z) runs, the two before it are superseded.
    const late = planNextStep(shipped, { dueDate: '2025-03-07', timeZone: 'America/New_York' }, [], new Date('2025-03-22T15:00:00.000Z'))!;
    expect([late.next.step.id, late.superseded.map((p) => p.step.id)]).toEqual(['reminder-3', ['reminder-1', 'reminder-2']]);
  });
});

describe('applyContactCap', () => {
  const berlin = { dueDate: '2025-03-03', timeZone: 'Europe/Berlin' };
  const cap = { maxEmails: 2, perDays: 7 };
  // Mon 3 Mar and Wed 5 Mar 2025, 09:00 CET.
  const sent = ['2025-03-03T08:00:00.000Z', '2025-03-05T08:00:00.000Z'];

  it('the third message in 7 days waits until the oldest is 7 x 24 h old', () => {
    // Thu 6 Mar 09:00 CET: two in (27 Feb 08:00Z, 6 Mar 08:00Z] -> Mon 3 Mar 08:00Z + 7 d = Mon 10 Mar 08:00Z.
    expect(applyContactCap('2025-03-06T08:00:00.000Z', sent, cap, undefined, berlin)).toBe('2025-03-10T08:00:00.000Z');
  });

  it('then into the window: Monday is not a Tue-Thu window day', () => {
    expect(applyContactCap('2025-03-06T08:00:00.000Z', sent, cap, TUE_THU, berlin)).toBe('2025-03-11T08:00:00.000Z');
  });

  it('room under the cap, or contacts older than the span: only the window applies', () => {
    expect(applyContactCap('2025-03-06T08:00:00.000Z', sent.slice(1), cap, undefined, berlin)).toBe('2025-03-06T08:00:00.000Z');
    // 10 Mar 08:00Z is exactly 7 x 24 h after 3 Mar 08:00Z: that contact no longer counts.
    expect(applyContactCap('2025-03-10T08:00:00.000Z', sent, cap, undefined, berlin)).toBe('2025-03-10T08:00:00.000Z');
    expect(applyContactCap('2025-03-10T07:59:59.999Z', sent, cap, undefined, berlin)).toBe('2025-03-10T08:00:00.000Z');
    // Sat 8 Mar 12:00Z with the Mon-Fri window and no cap -> Mon 10 Mar 09:00 CET = 08:00Z.
    expect(applyContactCap('2025-03-08T12:00:00.000Z', sent, undefined, MON_FRI, berlin)).toBe('2025-03-10T08:00:00.000Z');
  });

  it('the span is 7 x 24 hours, not 7 calendar days: across the March switch the slot is an hour later on the clock', () => {
    // Mon 24 and Tue 25 Mar 09:00 CET (08:00Z); at Wed 26 -> Mon 24 08:00Z + 168 h = Mon 31 Mar 08:00Z = 10:00 CEST (inside Mon-Fri 09-16).
    const march = ['2025-03-24T08:00:00.000Z', '2025-03-25T08:00:00.000Z'];
    expect(applyContactCap('2025-03-26T08:00:00.000Z', march, cap, MON_FRI, berlin)).toBe('2025-03-31T08:00:00.000Z');
  });

  it('repeats until both hold: a contact planned after `at` counts once the slot has moved past it', () => {
    // Round 1: (27 Feb, 6 Mar 08:00Z] holds 3 and 5 Mar -> 10 Mar 08:00Z. Round 2: (3 Mar, 10 Mar 08:00Z] holds 5 Mar and 10 Mar 07:00Z
    // -> 5 Mar 08:00Z + 7 d = 12 Mar 08:00Z. Round 3: (5 Mar, 12 Mar 08:00Z] holds only 10 Mar -> 12 Mar 08:00Z.
    const withPlanned = [...sent, '2025-03-10T07:00:00.000Z'];
    expect(applyContactCap('2025-03-06T08:00:00.000Z', withPlanned, cap, undefined, berlin)).toBe('2025-03-12T08:00:00.000Z');
  });

  it('maxEmails 1: one message per span', () => {
    expect(applyContactCap('2025-03-05T09:00:00.000Z', ['2025-03-05T08:00:00.000Z'], { maxEmails: 1, perDays: 1 }, undefined, berlin)).toBe(
      '2025-03-06T08:00:00.000Z',
    );
  });

  it('contacts in any order and with offsets', () => {
    const shuffled = ['2025-03-05T09:00:00+01:00', '2025-03-03T09:00:00+01:00'];
    expect(applyContactCap('2025-03-06T08:00:00.000Z', shuffled, cap, undefined, berlin)).toBe('2025-03-10T08:00:00.000Z');
  });
});
