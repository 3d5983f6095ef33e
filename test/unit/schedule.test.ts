import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cadenceSchema, type Cadence } from '../../domain/cadence';
import { daysPastDue, planNextStep, planRemainingSteps, type HandledStep, type PlannedStep } from '../../domain/schedule';

/*
 * Every expected instant below was worked out by hand from the tz rules, not by running the code:
 *
 *   Europe/Berlin     CET  = UTC+1, CEST = UTC+2; 2025 switches: Sun 30 Mar 02:00 -> 03:00, Sun 26 Oct 03:00 -> 02:00.
 *   America/New_York  EST  = UTC-5, EDT  = UTC-4; 2025 switches: Sun 9 Mar, Sun 2 Nov.
 *   Asia/Tokyo        JST  = UTC+9, no DST.
 *   Australia/Sydney  AEST = UTC+10, AEDT = UTC+11; 2025 switches: DST ends Sun 6 Apr, starts Sun 5 Oct.
 *
 * So 09:30 local is 08:30Z (CET), 07:30Z (CEST), 14:30Z (EST), 13:30Z (EDT), 00:30Z (JST),
 * 23:30Z the previous UTC day (AEST) and 22:30Z the previous UTC day (AEDT).
 */

const shipped: Cadence = cadenceSchema.parse(
  JSON.parse(readFileSync(path.resolve(__dirname, '../../config/cadences/standard.json'), 'utf8')),
);

/**
 * The standard cadence as version 1 shipped it, and as recorded workflow histories carry it: the same four
 * steps, no send window, no contact cap. Everything below pins how version-1 cadences are dated; the
 * shipped version 2 (same steps plus a window and a cap) is covered in business-schedule.test.ts.
 */
const standard: Cadence = cadenceSchema.parse({ id: shipped.id, version: 1, name: shipped.name, sendAt: shipped.sendAt, steps: shipped.steps });

it('the shipped standard cadence keeps the four version-1 steps exactly', () => {
  expect(shipped.steps).toEqual(standard.steps);
  expect(standard.steps.map((s) => [s.id, s.anchor, s.offset.amount, s.offset.unit])).toEqual([
    ['reminder-1', 'due_date', 1, 'days'],
    ['reminder-2', 'due_date', 7, 'days'],
    ['reminder-3', 'due_date', 14, 'days'],
    ['call-1', 'due_date', 21, 'days'],
  ]);
  expect([standard.sendWindow, standard.contactCap, standard.selection]).toEqual([undefined, undefined, undefined]);
});

type StepInput = { id: string; anchor?: 'due_date' | 'previous_step'; amount: number; unit: 'days' | 'hours' | 'minutes' | 'seconds' };

function cadence(steps: StepInput[], sendAt = '09:30'): Cadence {
  return cadenceSchema.parse({
    id: 'inline',
    version: 1,
    name: 'Inline test cadence',
    sendAt,
    steps: steps.map((s) => ({
      id: s.id,
      ...(s.anchor ? { anchor: s.anchor } : {}),
      offset: { amount: s.amount, unit: s.unit },
      action: { type: 'email', template: 'reminder-friendly' },
    })),
  });
}

/** Before every date in this file: nothing is overdue, so no previous_step anchor is moved to "now". */
const EARLY = new Date('2024-01-01T00:00:00.000Z');

const summary = (planned: readonly PlannedStep[]) => planned.map((p) => [p.step.id, p.index, p.at]);

/** Wall-clock HH:mm of an instant in a zone, via Intl (independent of luxon, which the code under test uses). */
function localTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

describe('planRemainingSteps: the standard cadence (09:30 local, +1/+7/+14/+21 days)', () => {
  it('Europe/Berlin across the March switch: 09:30 CET is 08:30Z, then 09:30 CEST is 07:30Z', () => {
    // due Thu 2025-03-27 (CET). +1 = Fri 28 Mar (still CET); +7 = Thu 3 Apr, +14 = 10 Apr, +21 = 17 Apr (CEST).
    const planned = planRemainingSteps(standard, { dueDate: '2025-03-27', timeZone: 'Europe/Berlin' }, [], EARLY);
    expect(summary(planned)).toEqual([
      ['reminder-1', 0, '2025-03-28T08:30:00.000Z'],
      ['reminder-2', 1, '2025-04-03T07:30:00.000Z'],
      ['reminder-3', 2, '2025-04-10T07:30:00.000Z'],
      ['call-1', 3, '2025-04-17T07:30:00.000Z'],
    ]);
    // Same local time, one hour apart in UTC.
    for (const p of planned) expect(localTime(p.at, 'Europe/Berlin')).toBe('09:30');
    expect(Date.parse(planned[0]!.at) % 86_400_000).toBe(Date.parse(planned[1]!.at) % 86_400_000 + 3_600_000);
  });

  it('Europe/Berlin across the October switch: 09:30 CEST is 07:30Z, then 09:30 CET is 08:30Z', () => {
    // due Wed 2025-10-22 (CEST). +1 = Thu 23 Oct (CEST); +7 = Wed 29 Oct, +14 = 5 Nov, +21 = 12 Nov (CET).
    const planned = planRemainingSteps(standard, { dueDate: '2025-10-22', timeZone: 'Europe/Berlin' }, [], EARLY);
    expect(summary(planned)).toEqual([
      ['reminder-1', 0, '2025-10-23T07:30:00.000Z'],
      ['reminder-2', 1, '2025-10-29T08:30:00.000Z'],
      ['reminder-3', 2, '2025-11-05T08:30:00.000Z'],
      ['call-1', 3, '2025-11-12T08:30:00.000Z'],
    ]);
    for (const p of planned) expect(localTime(p.at, 'Europe/Berlin')).toBe('09:30');
  });

  it('America/New_York across its own (earlier) March switch', () => {
    // due Fri 2025-03-07 (EST). +1 = Sat 8 Mar 09:30 EST = 14:30Z; +7 = Fri 14 Mar 09:30 EDT = 13:30Z; ...
    const planned = planRemainingSteps(standard, { dueDate: '2025-03-07', timeZone: 'America/New_York' }, [], EARLY);
    expect(planned.map((p) => p.at)).toEqual([
      '2025-03-08T14:30:00.000Z',
      '2025-03-14T13:30:00.000Z',
      '2025-03-21T13:30:00.000Z',
      '2025-03-28T13:30:00.000Z',
    ]);
    for (const p of planned) expect(localTime(p.at, 'America/New_York')).toBe('09:30');
  });

  it('America/New_York across the November switch', () => {
    // due Thu 2025-10-30. +1 = Fri 31 Oct 09:30 EDT = 13:30Z; +7 = Thu 6 Nov 09:30 EST = 14:30Z; ...
    const planned = planRemainingSteps(standard, { dueDate: '2025-10-30', timeZone: 'America/New_York' }, [], EARLY);
    expect(planned.map((p) => p.at)).toEqual([
      '2025-10-31T13:30:00.000Z',
      '2025-11-06T14:30:00.000Z',
      '2025-11-13T14:30:00.000Z',
      '2025-11-20T14:30:00.000Z',
    ]);
  });

  it('Asia/Tokyo (no DST): always 00:30Z on the same calendar day', () => {
    const planned = planRemainingSteps(standard, { dueDate: '2025-03-27', timeZone: 'Asia/Tokyo' }, [], EARLY);
    expect(planned.map((p) => p.at)).toEqual([
      '2025-03-28T00:30:00.000Z',
      '2025-04-03T00:30:00.000Z',
      '2025-04-10T00:30:00.000Z',
      '2025-04-17T00:30:00.000Z',
    ]);
  });

  it('Australia/Sydney when DST ends in April: the UTC instant falls on the previous UTC day and moves an hour later', () => {
    // due Tue 2025-04-01 (AEDT). +1 = Wed 2 Apr 09:30 AEDT = 1 Apr 22:30Z; +7 = Tue 8 Apr 09:30 AEST = 7 Apr 23:30Z; ...
    const planned = planRemainingSteps(standard, { dueDate: '2025-04-01', timeZone: 'Australia/Sydney' }, [], EARLY);
    expect(planned.map((p) => p.at)).toEqual([
      '2025-04-01T22:30:00.000Z',
      '2025-04-07T23:30:00.000Z',
      '2025-04-14T23:30:00.000Z',
      '2025-04-21T23:30:00.000Z',
    ]);
    for (const p of planned) expect(localTime(p.at, 'Australia/Sydney')).toBe('09:30');
  });

  it('Australia/Sydney when DST starts in October: an hour earlier in UTC', () => {
    // due Wed 2025-10-01 (AEST). +1 = Thu 2 Oct 09:30 AEST = 1 Oct 23:30Z; +7 = Wed 8 Oct 09:30 AEDT = 7 Oct 22:30Z; ...
    const planned = planRemainingSteps(standard, { dueDate: '2025-10-01', timeZone: 'Australia/Sydney' }, [], EARLY);
    expect(planned.map((p) => p.at)).toEqual([
      '2025-10-01T23:30:00.000Z',
      '2025-10-07T22:30:00.000Z',
      '2025-10-14T22:30:00.000Z',
      '2025-10-21T22:30:00.000Z',
    ]);
  });

  it('returns the step definitions themselves with their cadence index', () => {
    const planned = planRemainingSteps(standard, { dueDate: '2025-03-27', timeZone: 'Europe/Berlin' }, [], EARLY);
    planned.forEach((p, i) => expect(p.step).toBe(standard.steps[i]));
  });
});

describe('planRemainingSteps: inline cadences', () => {
  it('uses the cadence sendAt, including late evening across a year boundary', () => {
    // due Wed 2025-12-31 in Tokyo; +1 day at 23:45 JST = Thu 2026-01-01 14:45Z.
    const late = cadence([{ id: 'a', amount: 1, unit: 'days' }], '23:45');
    expect(planRemainingSteps(late, { dueDate: '2025-12-31', timeZone: 'Asia/Tokyo' }, [], EARLY).map((p) => p.at)).toEqual([
      '2026-01-01T14:45:00.000Z',
    ]);
    // 00:00 Berlin on the due date itself = 23:00Z the day before (CET).
    const midnight = cadence([{ id: 'a', amount: 0, unit: 'days' }], '00:00');
    expect(planRemainingSteps(midnight, { dueDate: '2025-01-15', timeZone: 'Europe/Berlin' }, [], EARLY).map((p) => p.at)).toEqual([
      '2025-01-14T23:00:00.000Z',
    ]);
  });

  it('counts the leap day', () => {
    const c = cadence([
      { id: 'a', amount: 1, unit: 'days' },
      { id: 'b', amount: 2, unit: 'days' },
    ]);
    // due Wed 2024-02-28 (CET): +1 = Thu 29 Feb, +2 = Fri 1 Mar.
    expect(planRemainingSteps(c, { dueDate: '2024-02-28', timeZone: 'Europe/Berlin' }, [], EARLY).map((p) => p.at)).toEqual([
      '2024-02-29T08:30:00.000Z',
      '2024-03-01T08:30:00.000Z',
    ]);
  });

  it('negative offsets: a courtesy reminder before the due date, across the March switch', () => {
    const c = cadence([
      { id: 'courtesy', amount: -3, unit: 'days' },
      { id: 'on-due', amount: 0, unit: 'days' },
      { id: 'overdue', amount: 5, unit: 'days' },
    ]);
    // due Tue 2025-04-01 (CEST). -3 = Sat 29 Mar, still CET: 08:30Z. 0 = 1 Apr 07:30Z. +5 = Sun 6 Apr 07:30Z.
    const planned = planRemainingSteps(c, { dueDate: '2025-04-01', timeZone: 'Europe/Berlin' }, [], EARLY);
    expect(summary(planned)).toEqual([
      ['courtesy', 0, '2025-03-29T08:30:00.000Z'],
      ['on-due', 1, '2025-04-01T07:30:00.000Z'],
      ['overdue', 2, '2025-04-06T07:30:00.000Z'],
    ]);
    const plan = planNextStep(c, { dueDate: '2025-04-01', timeZone: 'Europe/Berlin' }, [], new Date('2025-03-20T00:00:00.000Z'));
    expect(plan?.next.step.id).toBe('courtesy');
    expect(plan?.superseded).toEqual([]);
  });

  describe('previous_step anchors with second, minute and hour offsets', () => {
    const demo = cadence([
      { id: 'kickoff', amount: 0, unit: 'days' },
      { id: 'nudge', anchor: 'previous_step', amount: 30, unit: 'seconds' },
      { id: 'escalate', anchor: 'previous_step', amount: 2, unit: 'minutes' },
      { id: 'call', anchor: 'previous_step', amount: 1, unit: 'hours' },
    ]);
    const ctx = { dueDate: '2025-03-27', timeZone: 'Europe/Berlin' };

    it('chains from the planned time of the previous step when nothing is handled', () => {
      // kickoff 09:30 CET = 08:30:00Z; +30 s = 08:30:30Z; +2 min = 08:32:30Z; +1 h = 09:32:30Z.
      expect(summary(planRemainingSteps(demo, ctx, [], EARLY))).toEqual([
        ['kickoff', 0, '2025-03-27T08:30:00.000Z'],
        ['nudge', 1, '2025-03-27T08:30:30.000Z'],
        ['escalate', 2, '2025-03-27T08:32:30.000Z'],
        ['call', 3, '2025-03-27T09:32:30.000Z'],
      ]);
    });

    it('chains from the actual handled time, to the millisecond', () => {
      // kickoff really ran 67.25 s late, at 08:31:07.250Z: nudge 08:31:37.250Z, escalate 08:33:37.250Z, call 09:33:37.250Z.
      const handled: HandledStep[] = [{ stepId: 'kickoff', at: '2025-03-27T08:31:07.250Z' }];
      const now = new Date('2025-03-27T08:31:07.250Z');
      expect(summary(planRemainingSteps(demo, ctx, handled, now))).toEqual([
        ['nudge', 1, '2025-03-27T08:31:37.250Z'],
        ['escalate', 2, '2025-03-27T08:33:37.250Z'],
        ['call', 3, '2025-03-27T09:33:37.250Z'],
      ]);
      // The same instant written with an offset gives the same plan.
      const withOffset: HandledStep[] = [{ stepId: 'kickoff', at: '2025-03-27T09:31:07.250+01:00' }];
      expect(summary(planRemainingSteps(demo, ctx, withOffset, now))).toEqual(summary(planRemainingSteps(demo, ctx, handled, now)));
    });

    it('chains from the last handled step', () => {
      const handled: HandledStep[] = [
        { stepId: 'kickoff', at: '2025-03-27T08:31:07.250Z' },
        { stepId: 'nudge', at: '2025-03-27T08:45:00.000Z' },
      ];
      expect(summary(planRemainingSteps(demo, ctx, handled, new Date('2025-03-27T08:45:00.000Z')))).toEqual([
        ['escalate', 2, '2025-03-27T08:47:00.000Z'],
        ['call', 3, '2025-03-27T09:47:00.000Z'],
      ]);
    });

    it('planNextStep waits for the chained step after a handled one', () => {
      const handled: HandledStep[] = [{ stepId: 'kickoff', at: '2025-03-27T08:31:07.250Z' }];
      const plan = planNextStep(demo, ctx, handled, new Date('2025-03-27T08:31:07.250Z'));
      expect(plan).toEqual({ next: { step: demo.steps[1], index: 1, at: '2025-03-27T08:31:37.250Z', dueAt: '2025-03-27T08:31:37.250Z' }, superseded: [] });
    });

    it('a late start: the overdue first step runs now and the chain keeps its spacing from now', () => {
      // At 09:00Z kickoff (08:30:00Z) is overdue and has not happened, so it cannot happen before 09:00Z:
      // nudge = 09:00:00 + 30 s = 09:00:30Z, escalate = +2 min = 09:02:30Z, call = +1 h = 10:02:30Z.
      const now = new Date('2025-03-27T09:00:00.000Z');
      expect(summary(planRemainingSteps(demo, ctx, [], now))).toEqual([
        ['kickoff', 0, '2025-03-27T08:30:00.000Z'],
        ['nudge', 1, '2025-03-27T09:00:30.000Z'],
        ['escalate', 2, '2025-03-27T09:02:30.000Z'],
        ['call', 3, '2025-03-27T10:02:30.000Z'],
      ]);
      expect(planNextStep(demo, ctx, [], now)).toEqual({
        next: { step: demo.steps[0], index: 0, at: '2025-03-27T08:30:00.000Z', dueAt: '2025-03-27T08:30:00.000Z' },
        superseded: [],
      });
    });

    it('worker down mid-chain: the overdue step keeps its date, the ones after it are spaced from now', () => {
      // kickoff ran on time at 08:30:00Z, so nudge was due at 08:30:30Z; the worker is back at 09:00Z:
      // escalate = 09:00:00 + 2 min = 09:02:00Z, call = +1 h = 10:02:00Z.
      const handled: HandledStep[] = [{ stepId: 'kickoff', at: '2025-03-27T08:30:00.000Z' }];
      const now = new Date('2025-03-27T09:00:00.000Z');
      expect(summary(planRemainingSteps(demo, ctx, handled, now))).toEqual([
        ['nudge', 1, '2025-03-27T08:30:30.000Z'],
        ['escalate', 2, '2025-03-27T09:02:00.000Z'],
        ['call', 3, '2025-03-27T10:02:00.000Z'],
      ]);
      expect(planNextStep(demo, ctx, handled, now)).toEqual({
        next: { step: demo.steps[1], index: 1, at: '2025-03-27T08:30:30.000Z', dueAt: '2025-03-27T08:30:30.000Z' },
        superseded: [],
      });
    });

    it('a step falling due exactly now is not moved, and neither is the chain after it', () => {
      const handled: HandledStep[] = [{ stepId: 'kickoff', at: '2025-03-27T08:30:00.000Z' }];
      expect(summary(planRemainingSteps(demo, ctx, handled, new Date('2025-03-27T08:30:30.000Z')))).toEqual([
        ['nudge', 1, '2025-03-27T08:30:30.000Z'],
        ['escalate', 2, '2025-03-27T08:32:30.000Z'],
        ['call', 3, '2025-03-27T09:32:30.000Z'],
      ]);
    });

    it('a zero previous_step offset after an overdue step falls due now, so the overdue step is superseded', () => {
      const c = cadence([
        { id: 'first', amount: 1, unit: 'days' },
        { id: 'same-time', anchor: 'previous_step', amount: 0, unit: 'seconds' },
      ]);
      // first: Fri 28 Mar 09:30 CET = 08:30Z, overdue at 12:00Z; same-time = now.
      const plan = planNextStep(c, ctx, [], new Date('2025-03-28T12:00:00.000Z'));
      expect(plan?.next.step.id).toBe('same-time');
      expect(plan?.next.at).toBe('2025-03-28T12:00:00.000Z');
      expect(summary(plan!.superseded)).toEqual([['first', 0, '2025-03-28T08:30:00.000Z']]);
    });
  });

  it('hours are exact durations across DST, days are local calendar days', () => {
    // first: Sat 2025-03-29 09:30 CET = 08:30Z. The night of 29/30 March has only 23 hours in Berlin.
    const hours = cadence([
      { id: 'first', amount: 0, unit: 'days' },
      { id: 'second', anchor: 'previous_step', amount: 24, unit: 'hours' },
    ]);
    const days = cadence([
      { id: 'first', amount: 0, unit: 'days' },
      { id: 'second', anchor: 'previous_step', amount: 1, unit: 'days' },
    ]);
    const ctx = { dueDate: '2025-03-29', timeZone: 'Europe/Berlin' };
    // +24 h = 2025-03-30 08:30Z = 10:30 CEST; +1 day = 2025-03-30 09:30 CEST = 07:30Z.
    expect(planRemainingSteps(hours, ctx, [], EARLY).map((p) => p.at)).toEqual(['2025-03-29T08:30:00.000Z', '2025-03-30T08:30:00.000Z']);
    expect(planRemainingSteps(days, ctx, [], EARLY).map((p) => p.at)).toEqual(['2025-03-29T08:30:00.000Z', '2025-03-30T07:30:00.000Z']);
    expect(localTime('2025-03-30T08:30:00.000Z', 'Europe/Berlin')).toBe('10:30');
  });

  it('a previous_step day offset keeps the local time of the handled moment across DST', () => {
    const c = cadence([
      { id: 'first', amount: 1, unit: 'days' },
      { id: 'second', anchor: 'previous_step', amount: 7, unit: 'days' },
    ]);
    // first handled Fri 2025-03-28 14:05Z = 15:05 CET; +7 days = Fri 4 Apr 15:05 CEST = 13:05Z.
    const ctx = { dueDate: '2025-03-27', timeZone: 'Europe/Berlin' };
    const now = new Date('2025-03-28T14:05:00.000Z');
    const planned = planRemainingSteps(c, ctx, [{ stepId: 'first', at: '2025-03-28T14:05:00.000Z' }], now);
    expect(summary(planned)).toEqual([['second', 1, '2025-04-04T13:05:00.000Z']]);
    // Not handled yet at that moment (first overdue since 08:30Z): second is dated from now, the same instant.
    expect(summary(planRemainingSteps(c, ctx, [], now))).toEqual([
      ['first', 0, '2025-03-28T08:30:00.000Z'],
      ['second', 1, '2025-04-04T13:05:00.000Z'],
    ]);
  });

  it('due_date anchors are absolute: an overdue step does not move the due_date steps after it', () => {
    const planned = planRemainingSteps(standard, { dueDate: '2025-03-27', timeZone: 'Europe/Berlin' }, [], new Date('2025-04-12T12:00:00.000Z'));
    expect(planned.map((p) => p.at)).toEqual([
      '2025-03-28T08:30:00.000Z',
      '2025-04-03T07:30:00.000Z',
      '2025-04-10T07:30:00.000Z',
      '2025-04-17T07:30:00.000Z',
    ]);
  });
});

describe('planRemainingSteps: handled steps', () => {
  const ctx = { dueDate: '2025-03-27', timeZone: 'Europe/Berlin' };

  it('skips handled steps; due_date-anchored steps keep their dates whatever the handled time', () => {
    const planned = planRemainingSteps(standard, ctx, [{ stepId: 'reminder-1', at: '2025-03-28T08:30:02.000Z' }], EARLY);
    expect(summary(planned)).toEqual([
      ['reminder-2', 1, '2025-04-03T07:30:00.000Z'],
      ['reminder-3', 2, '2025-04-10T07:30:00.000Z'],
      ['call-1', 3, '2025-04-17T07:30:00.000Z'],
    ]);
  });

  it('ignores handled ids the cadence does not know', () => {
    const planned = planRemainingSteps(standard, ctx, [{ stepId: 'legacy-step', at: '2025-03-28T08:30:00.000Z' }], EARLY);
    expect(planned.map((p) => p.step.id)).toEqual(['reminder-1', 'reminder-2', 'reminder-3', 'call-1']);
  });

  it('nothing left: an empty plan and no next step, however late it is', () => {
    const handled: HandledStep[] = standard.steps.map((s) => ({ stepId: s.id, at: '2025-05-01T00:00:00.000Z' }));
    expect(planRemainingSteps(standard, ctx, handled, EARLY)).toEqual([]);
    expect(planNextStep(standard, ctx, handled, new Date('2025-04-01T00:00:00.000Z'))).toBeUndefined();
    expect(planNextStep(standard, ctx, handled, new Date('2030-01-01T00:00:00.000Z'))).toBeUndefined();
  });
});

describe('planNextStep: catch-up', () => {
  const ctx = { dueDate: '2025-03-27', timeZone: 'Europe/Berlin' };
  const next = (now: string, handled: HandledStep[] = []) => {
    const plan = planNextStep(standard, ctx, handled, new Date(now));
    if (!plan) throw new Error('expected a plan');
    return { next: [plan.next.step.id, plan.next.index, plan.next.at], superseded: summary(plan.superseded) };
  };

  it('before anything is due: the first step, nothing superseded', () => {
    expect(next('2025-03-20T00:00:00.000Z')).toEqual({ next: ['reminder-1', 0, '2025-03-28T08:30:00.000Z'], superseded: [] });
    expect(next('2025-03-28T08:29:59.999Z')).toEqual({ next: ['reminder-1', 0, '2025-03-28T08:30:00.000Z'], superseded: [] });
  });

  it('exactly at the scheduled instant a step counts as due', () => {
    expect(next('2025-03-28T08:30:00.000Z')).toEqual({ next: ['reminder-1', 0, '2025-03-28T08:30:00.000Z'], superseded: [] });
    expect(next('2025-04-03T07:29:59.999Z')).toEqual({ next: ['reminder-1', 0, '2025-03-28T08:30:00.000Z'], superseded: [] });
    expect(next('2025-04-03T07:30:00.000Z')).toEqual({
      next: ['reminder-2', 1, '2025-04-03T07:30:00.000Z'],
      superseded: [['reminder-1', 0, '2025-03-28T08:30:00.000Z']],
    });
  });

  it('enrolled 16 days late: one reminder (the latest due), the two earlier ones superseded', () => {
    expect(next('2025-04-12T12:00:00.000Z')).toEqual({
      next: ['reminder-3', 2, '2025-04-10T07:30:00.000Z'],
      superseded: [
        ['reminder-1', 0, '2025-03-28T08:30:00.000Z'],
        ['reminder-2', 1, '2025-04-03T07:30:00.000Z'],
      ],
    });
  });

  it('everything due: only the last step runs', () => {
    expect(next('2025-06-01T00:00:00.000Z')).toEqual({
      next: ['call-1', 3, '2025-04-17T07:30:00.000Z'],
      superseded: [
        ['reminder-1', 0, '2025-03-28T08:30:00.000Z'],
        ['reminder-2', 1, '2025-04-03T07:30:00.000Z'],
        ['reminder-3', 2, '2025-04-10T07:30:00.000Z'],
      ],
    });
  });

  it('after a catch-up (superseded recorded at their scheduled time, the run at its actual time) the plan moves on', () => {
    const handled: HandledStep[] = [
      { stepId: 'reminder-1', at: '2025-03-28T08:30:00.000Z' },
      { stepId: 'reminder-2', at: '2025-04-03T07:30:00.000Z' },
      { stepId: 'reminder-3', at: '2025-04-12T12:00:05.000Z' },
    ];
    expect(next('2025-04-12T12:00:06.000Z', handled)).toEqual({ next: ['call-1', 3, '2025-04-17T07:30:00.000Z'], superseded: [] });
  });

  // BUG (regression in 8da978f): once a previous_step step is dated from `now`, the remaining dates are no longer in
  // cadence order, but planNextStep still treats "the number of due steps" as a prefix length. Here the follow-up is
  // pushed after a due_date step that is already due, becomes `next` although it is not due, and the due reminder-2
  // is then sent right after it: two reminders in a burst, two days late.
  it('a due step is never left behind a previous_step step that is not due yet', () => {
    const c = cadenceSchema.parse({
      id: 'with-follow-up',
      version: 1,
      name: 'Follow-up between reminders',
      sendAt: '09:30',
      steps: [
        { id: 'reminder-1', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
        { id: 'follow-up', anchor: 'previous_step', offset: { amount: 2, unit: 'days' }, action: { type: 'call_task', note: 'Call.' } },
        { id: 'reminder-2', offset: { amount: 7, unit: 'days' }, action: { type: 'email', template: 'reminder-firm' } },
      ],
    });
    // On paper: reminder-1 Fri 28 Mar 08:30Z, follow-up Sun 30 Mar 09:30 CEST = 07:30Z, reminder-2 Thu 3 Apr 07:30Z.
    // Enrolled Fri 4 Apr 10:00Z (12:00 CEST): reminder-1 and reminder-2 are due; follow-up is dated 6 Apr 12:00 CEST = 10:00Z.
    const now = new Date('2025-04-04T10:00:00.000Z');
    expect(planRemainingSteps(c, ctx, [], now).map((p) => p.at)).toEqual([
      '2025-03-28T08:30:00.000Z',
      '2025-04-06T10:00:00.000Z',
      '2025-04-03T07:30:00.000Z',
    ]);
    const plan = planNextStep(c, ctx, [], now)!;
    // Whether follow-up is then superseded or kept for later is a design choice; running it first is not.
    expect([plan.next.step.id, plan.next.at]).toEqual(['reminder-2', '2025-04-03T07:30:00.000Z']); // got follow-up, 2025-04-06T10:00Z
    expect(plan.superseded.map((p) => p.step.id)).toContain('reminder-1');
  });
});

describe('invalid input', () => {
  it('an unknown time zone is a RangeError naming the step', () => {
    const ctx = { dueDate: '2025-03-27', timeZone: 'Mars/Olympus_Mons' };
    expect(() => planRemainingSteps(standard, ctx, [], EARLY)).toThrow(RangeError);
    expect(() => planRemainingSteps(standard, ctx, [], EARLY)).toThrow(/cannot date step "reminder-1"/);
    expect(() => planNextStep(standard, ctx, [], new Date('2025-04-01T00:00:00.000Z'))).toThrow(RangeError);
  });

  it('an unknown time zone is a RangeError for a previous_step anchor too', () => {
    const c = cadence([
      { id: 'first', amount: 0, unit: 'days' },
      { id: 'second', anchor: 'previous_step', amount: 10, unit: 'minutes' },
    ]);
    const handled = [{ stepId: 'first', at: '2025-03-27T08:30:00.000Z' }];
    expect(() => planRemainingSteps(c, { dueDate: '2025-03-27', timeZone: 'Not/AZone' }, handled, EARLY)).toThrow(RangeError);
    expect(() => planRemainingSteps(c, { dueDate: '2025-03-27', timeZone: 'Not/AZone' }, handled, EARLY)).toThrow(/"second"/);
  });

  it('an impossible due date is a RangeError', () => {
    expect(() => planRemainingSteps(standard, { dueDate: '2025-02-30', timeZone: 'Europe/Berlin' }, [], EARLY)).toThrow(RangeError);
    expect(() => planRemainingSteps(standard, { dueDate: 'tomorrow', timeZone: 'Europe/Berlin' }, [], EARLY)).toThrow(RangeError);
  });
});

describe('daysPastDue', () => {
  const at = (dueDate: string, timeZone: string, now: string) => daysPastDue({ dueDate, timeZone }, new Date(now));

  it('changes at local midnight, not UTC midnight (Berlin, CET)', () => {
    expect(at('2025-03-27', 'Europe/Berlin', '2025-03-27T22:59:59.999Z')).toBe(0); // 23:59:59.999 CET on the 27th
    expect(at('2025-03-27', 'Europe/Berlin', '2025-03-27T23:00:00.000Z')).toBe(1); // 00:00 CET on the 28th
  });

  it('is negative before the due date', () => {
    expect(at('2025-03-27', 'Europe/Berlin', '2025-03-20T12:00:00.000Z')).toBe(-7);
    expect(at('2025-04-01', 'Europe/Berlin', '2025-03-20T00:00:00.000Z')).toBe(-12); // 01:00 CET on the 20th
  });

  it('counts whole calendar days across the 23-hour and 25-hour days', () => {
    // due Sat 29 Mar; Mon 31 Mar 00:00 CEST = 30 Mar 22:00Z is 47 real hours later but 2 calendar days.
    expect(at('2025-03-29', 'Europe/Berlin', '2025-03-30T21:59:59.999Z')).toBe(1);
    expect(at('2025-03-29', 'Europe/Berlin', '2025-03-30T22:00:00.000Z')).toBe(2);
    // due Sat 25 Oct; Mon 27 Oct 00:00 CET = 26 Oct 23:00Z is 49 real hours later but 2 calendar days.
    expect(at('2025-10-25', 'Europe/Berlin', '2025-10-26T22:59:59.999Z')).toBe(1);
    expect(at('2025-10-25', 'Europe/Berlin', '2025-10-26T23:00:00.000Z')).toBe(2);
  });

  it('works in Tokyo, Sydney and New York', () => {
    expect(at('2025-03-27', 'Asia/Tokyo', '2025-03-26T14:59:59.999Z')).toBe(-1); // 23:59:59.999 JST on the 26th
    expect(at('2025-03-27', 'Asia/Tokyo', '2025-03-26T15:00:00.000Z')).toBe(0); // 00:00 JST on the 27th
    expect(at('2025-04-01', 'Australia/Sydney', '2025-04-10T13:59:59.000Z')).toBe(9); // 23:59:59 AEST on the 10th
    expect(at('2025-04-01', 'Australia/Sydney', '2025-04-10T14:00:00.000Z')).toBe(10);
    expect(at('2025-03-27', 'America/New_York', '2025-03-28T03:59:59.000Z')).toBe(0); // 23:59:59 EDT on the 27th
    expect(at('2025-03-27', 'America/New_York', '2025-03-28T04:00:00.000Z')).toBe(1);
  });

  it('the same instant is a different day in different zones', () => {
    // 2025-03-27T14:30Z: 15:30 in Berlin, 10:30 in New York, 23:30 in Tokyo (all the 27th), 01:30 on the 28th in Sydney.
    const now = '2025-03-27T14:30:00.000Z';
    expect(at('2025-03-27', 'Europe/Berlin', now)).toBe(0);
    expect(at('2025-03-27', 'America/New_York', now)).toBe(0);
    expect(at('2025-03-27', 'Asia/Tokyo', now)).toBe(0);
    expect(at('2025-03-27', 'Australia/Sydney', now)).toBe(1);
  });

  it('long spans: 15 Jan to 15 Jul 2025 is 16+28+31+30+31+30+15 = 181 days', () => {
    expect(at('2025-01-15', 'Europe/Berlin', '2025-07-15T10:00:00.000Z')).toBe(181);
  });
});

describe('planNextStep: a step is due by its own time, not by the send window that moves it', () => {
  const weekly = cadenceSchema.parse({
    id: 'weekly', version: 1, name: 'weekly', sendAt: '09:30',
    sendWindow: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '16:00' },
    steps: [
      { id: 'r1', offset: { amount: 7, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
      { id: 'r2', offset: { amount: 14, unit: 'days' }, action: { type: 'email', template: 'reminder-firm' } },
    ],
  });
  // Due Saturday 2026-11-14: r1 fell due on Saturday 21st, r2 on Saturday 28th; the window moves r2 to Monday 30th 09:00.
  const ctx = { dueDate: '2026-11-14', timeZone: 'Europe/Berlin' };
  const mondayEarly = new Date('2026-11-30T06:00:00Z'); // 07:00 in Berlin, before the window opens

  it('enrolled late on a Monday before the window opens: the Saturday step runs in the window, the one before is superseded', () => {
    const plan = planNextStep(weekly, ctx, [], mondayEarly)!;
    expect(plan.next).toMatchObject({ step: { id: 'r2' }, at: '2026-11-30T08:00:00.000Z', dueAt: '2026-11-28T08:30:00.000Z' });
    expect(plan.superseded.map((p) => p.step.id)).toEqual(['r1']);
  });

  it('the rule before it (kept for workflows started under it) judged by the moved time and ran both in the window', () => {
    expect(planNextStep(weekly, ctx, [], mondayEarly, false)!.next.step.id).toBe('r1');
  });
});

