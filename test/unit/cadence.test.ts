import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cadenceSchema } from '../../domain/cadence';

const STANDARD_PATH = path.resolve(__dirname, '../../config/cadences/standard.json');

const email = (template = 'reminder-friendly') => ({ type: 'email', template });

/** A valid cadence to start from; each test breaks one thing. */
function valid() {
  return {
    id: 'test',
    version: 1,
    name: 'Test cadence',
    sendAt: '09:30',
    steps: [
      { id: 'a', anchor: 'due_date', offset: { amount: 1, unit: 'days' }, action: email() },
      { id: 'b', anchor: 'previous_step', offset: { amount: 6, unit: 'days' }, action: email('reminder-firm') },
      { id: 'c', anchor: 'due_date', offset: { amount: 21, unit: 'days' }, action: { type: 'call_task', note: 'Call them.' } },
    ] as Record<string, unknown>[],
  };
}

function issues(input: unknown) {
  const result = cadenceSchema.safeParse(input);
  if (result.success) throw new Error('expected the cadence to be rejected');
  return result.error.issues.map((i) => ({ path: i.path, code: i.code, message: i.message }));
}

function withStep(index: number, patch: Record<string, unknown>) {
  const c = valid();
  c.steps[index] = { ...c.steps[index], ...patch };
  return c;
}

describe('cadenceSchema: accepted', () => {
  it('the shipped standard cadence parses to exactly its four steps (ids, anchors and offsets as in version 1), a window, a cap and a selection', () => {
    const parsed = cadenceSchema.parse(JSON.parse(readFileSync(STANDARD_PATH, 'utf8')));
    expect(parsed).toEqual({
      id: 'standard',
      version: 2,
      name: 'Standard B2B follow-up',
      sendAt: '09:30',
      sendWindow: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '16:00' },
      contactCap: { maxEmails: 3, perDays: 7 },
      selection: { segments: ['standard'] },
      steps: [
        { id: 'reminder-1', anchor: 'due_date', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
        { id: 'reminder-2', anchor: 'due_date', offset: { amount: 7, unit: 'days' }, action: { type: 'email', template: 'reminder-firm' } },
        { id: 'reminder-3', anchor: 'due_date', offset: { amount: 14, unit: 'days' }, action: { type: 'email', template: 'reminder-final' } },
        {
          id: 'call-1',
          anchor: 'due_date',
          offset: { amount: 21, unit: 'days' },
          action: { type: 'call_task', note: "Three reminders unanswered: call the customer's AP contact, ask for a payment date." },
        },
      ],
    });
  });

  it('the test base cadence is valid (so each rejection below is caused by its one change)', () => {
    expect(cadenceSchema.safeParse(valid()).success).toBe(true);
  });

  it('anchor defaults to due_date', () => {
    const c = valid();
    delete c.steps[0]!.anchor;
    expect(cadenceSchema.parse(c).steps[0]!.anchor).toBe('due_date');
  });

  it('negative due_date offsets (courtesy reminders) and zero previous_step offsets are fine', () => {
    const c = withStep(0, { offset: { amount: -3, unit: 'days' } });
    c.steps[1] = { ...c.steps[1], offset: { amount: 0, unit: 'seconds' } };
    expect(cadenceSchema.safeParse(c).success).toBe(true);
  });

  it.each(['00:00', '09:30', '23:59', '19:05'])('sendAt %s is accepted', (sendAt) => {
    expect(cadenceSchema.safeParse({ ...valid(), sendAt }).success).toBe(true);
  });

  it('offset bounds are -365 and 3650 inclusive', () => {
    expect(cadenceSchema.safeParse(withStep(0, { offset: { amount: -365, unit: 'days' } })).success).toBe(true);
    expect(cadenceSchema.safeParse(withStep(2, { offset: { amount: 3650, unit: 'days' } })).success).toBe(true);
  });

  it('step ids up to 64 characters', () => {
    expect(cadenceSchema.safeParse(withStep(0, { id: `a${'b'.repeat(63)}` })).success).toBe(true);
  });
});

describe('cadenceSchema: rejected, with the issue at the right path', () => {
  it('duplicate step ids: flagged on the second occurrence', () => {
    expect(issues(withStep(2, { id: 'a' }))).toEqual([{ path: ['steps', 2, 'id'], code: 'custom', message: 'duplicate step id "a"' }]);
  });

  it('a first step anchored to previous_step', () => {
    expect(issues(withStep(0, { anchor: 'previous_step' }))).toEqual([
      { path: ['steps', 0, 'anchor'], code: 'custom', message: 'the first step has no previous step' },
    ]);
  });

  it('a negative previous_step offset', () => {
    expect(issues(withStep(1, { offset: { amount: -1, unit: 'hours' } }))).toEqual([
      { path: ['steps', 1, 'offset', 'amount'], code: 'custom', message: 'a step cannot come before the previous one' },
    ]);
  });

  it.each(['9:30', '24:00', '09:60', '09:30:00', '0930', '', ' 09:30'])('a bad sendAt %j', (sendAt) => {
    expect(issues({ ...valid(), sendAt })).toEqual([{ path: ['sendAt'], code: 'invalid_format', message: 'HH:mm' }]);
  });

  it('an empty step list', () => {
    expect(issues({ ...valid(), steps: [] }).map((i) => [i.path, i.code])).toEqual([[['steps'], 'too_small']]);
  });

  it('more than 50 steps', () => {
    const steps = Array.from({ length: 51 }, (_, i) => ({ id: `s${i}`, offset: { amount: i, unit: 'days' }, action: email() }));
    expect(issues({ ...valid(), steps }).map((i) => [i.path, i.code])).toEqual([[['steps'], 'too_big']]);
  });

  it('an unknown action type', () => {
    expect(issues(withStep(1, { action: { type: 'sms', to: '+491701234567' } })).map((i) => [i.path, i.code])).toEqual([
      [['steps', 1, 'action', 'type'], 'invalid_union'],
    ]);
  });

  it('an email step without a template, a call task without a note or with an over-long one', () => {
    expect(issues(withStep(0, { action: { type: 'email' } })).map((i) => i.path)).toEqual([['steps', 0, 'action', 'template']]);
    expect(issues(withStep(0, { action: { type: 'email', template: '' } })).map((i) => i.path)).toEqual([['steps', 0, 'action', 'template']]);
    expect(issues(withStep(2, { action: { type: 'call_task' } })).map((i) => i.path)).toEqual([['steps', 2, 'action', 'note']]);
    expect(issues(withStep(2, { action: { type: 'call_task', note: 'x'.repeat(501) } })).map((i) => i.path)).toEqual([
      ['steps', 2, 'action', 'note'],
    ]);
  });

  it('an unknown offset unit, a fractional amount, amounts out of range', () => {
    expect(issues(withStep(0, { offset: { amount: 1, unit: 'weeks' } })).map((i) => i.path)).toEqual([['steps', 0, 'offset', 'unit']]);
    for (const amount of [1.5, -366]) {
      expect(issues(withStep(0, { offset: { amount, unit: 'days' } })).map((i) => i.path)).toEqual([['steps', 0, 'offset', 'amount']]);
    }
    expect(issues(withStep(2, { offset: { amount: 3651, unit: 'days' } })).map((i) => i.path)).toEqual([['steps', 2, 'offset', 'amount']]);
  });

  it('due-date steps out of date order (units compared as durations)', () => {
    expect(issues(withStep(2, { offset: { amount: 0, unit: 'days' } }))).toEqual([
      { path: ['steps', 2, 'offset'], code: 'custom', message: 'steps anchored to the due date must come in date order' },
    ]);
    expect(cadenceSchema.safeParse(withStep(2, { offset: { amount: 1, unit: 'days' } })).success).toBe(true); // equal is fine
    expect(issues(withStep(2, { offset: { amount: 23, unit: 'hours' } })).map((i) => i.path)).toEqual([['steps', 2, 'offset']]);
  });

  it.each(['Reminder-1', '-a', '_a', 'a b', 'ä', '', `a${'b'.repeat(64)}`])('a bad step id %j', (id) => {
    expect(issues(withStep(1, { id }))).toEqual([
      { path: ['steps', 1, 'id'], code: 'invalid_format', message: 'lower-case id: letters, digits, - and _' },
    ]);
  });

  it('a bad cadence id, version or name', () => {
    expect(issues({ ...valid(), id: 'Standard' }).map((i) => i.path)).toEqual([['id']]);
    expect(issues({ ...valid(), version: 0 }).map((i) => i.path)).toEqual([['version']]);
    expect(issues({ ...valid(), version: 1.5 }).map((i) => i.path)).toEqual([['version']]);
    expect(issues({ ...valid(), name: '' }).map((i) => i.path)).toEqual([['name']]);
  });

  it('reports every problem at once', () => {
    const c = withStep(0, { anchor: 'previous_step' });
    c.steps[2] = { ...c.steps[2], id: 'b' };
    expect(issues(c).map((i) => i.path)).toEqual([
      ['steps', 0, 'anchor'],
      ['steps', 2, 'id'],
    ]);
  });
});
