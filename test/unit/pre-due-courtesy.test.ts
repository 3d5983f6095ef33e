import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cadenceSchema } from '../../domain/cadence';
import { planNextStep } from '../../domain/schedule';

const strategic = cadenceSchema.parse(JSON.parse(readFileSync(path.resolve(__dirname, '../../config/cadences/strategic.json'), 'utf8')));
// Due Wednesday 2026-03-11 in Berlin; the courtesy note is 3 business days earlier: Friday 2026-03-06 10:00 (09:00Z).
const ctx = { dueDate: '2026-03-11', timeZone: 'Europe/Berlin' };

describe('a courtesy step before the due date', () => {
  it('runs when the invoice is enrolled before it', () => {
    const plan = planNextStep(strategic, ctx, [], new Date('2026-03-02T08:00:00Z'))!;
    expect(plan.next.step.id).toBe('courtesy-pre-due');
    expect(plan.superseded).toEqual([]);
  });

  it('still runs, caught up, when enrolled between it and the due date', () => {
    const plan = planNextStep(strategic, ctx, [], new Date('2026-03-09T12:00:00Z'))!;
    expect(plan.next.step.id).toBe('courtesy-pre-due');
  });

  it('is passed over once the due date has begun in the customer’s time zone, even if nothing else is due yet', () => {
    // 2026-03-10T23:30Z is already 00:30 on the due date in Berlin.
    const plan = planNextStep(strategic, ctx, [], new Date('2026-03-10T23:30:00Z'))!;
    expect(plan.superseded.map((p) => p.step.id)).toEqual(['courtesy-pre-due']);
    expect(plan.next.step.id).toBe('reminder-1');
    expect(Date.parse(plan.next.at)).toBeGreaterThan(Date.parse('2026-03-10T23:30:00Z'));
  });

  it('leaves nothing to run when it was the only step, rather than sending it late', () => {
    const onlyCourtesy = { ...strategic, steps: [strategic.steps[0]!] };
    expect(planNextStep(onlyCourtesy, ctx, [], new Date('2026-03-12T09:00:00Z'))).toBeUndefined();
  });
});
