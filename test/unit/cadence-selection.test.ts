import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cadenceSchema, type Cadence } from '../../domain/cadence';
import { selectCadence, type SelectionContext } from '../../domain/cadence-selection';

function cadence(id: string, selection?: Record<string, unknown>, version = 1): Cadence {
  return cadenceSchema.parse({
    id,
    version,
    name: id,
    sendAt: '09:30',
    ...(selection ? { selection } : {}),
    steps: [{ id: 'a', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } }],
  });
}
const load = (file: string) => cadenceSchema.parse(JSON.parse(readFileSync(path.resolve(__dirname, '../../config/cadences', file), 'utf8')));

const standard = cadence('standard', { segments: ['standard'] });
const strategic = cadence('strategic', { segments: ['strategic'] });
const highRisk = cadence('high-risk', { segments: ['high_risk'] });
/** Three criteria: segment, currency and a minimum amount. */
const bigEur = cadence('big-eur', { segments: ['standard'], currencies: ['EUR'], minAmountMinor: 1_000_000 });
const noSelection = cadence('manual-only');
const ACTIVE = [standard, strategic, highRisk, bigEur, noSelection];

const ctx = (patch: Partial<SelectionContext> = {}): SelectionContext => ({ segment: 'standard', currency: 'EUR', amountMinor: 50_000, ...patch });
const pick = (active: readonly Cadence[], c: SelectionContext, fallback = 'standard') => selectCadence(active, c, fallback).id;

describe('selectCadence', () => {
  it('by segment', () => {
    expect(pick(ACTIVE, ctx())).toBe('standard');
    expect(pick(ACTIVE, ctx({ segment: 'strategic' }))).toBe('strategic');
    expect(pick(ACTIVE, ctx({ segment: 'high_risk' }))).toBe('high-risk');
  });

  it('the match with the most criteria wins', () => {
    expect(pick(ACTIVE, ctx({ amountMinor: 2_000_000 }))).toBe('big-eur');
    expect(pick(ACTIVE, ctx({ amountMinor: 1_000_000 }))).toBe('big-eur'); // the minimum is inclusive
    expect(pick(ACTIVE, ctx({ amountMinor: 999_999 }))).toBe('standard');
    expect(pick(ACTIVE, ctx({ amountMinor: 2_000_000, currency: 'USD' }))).toBe('standard');
  });

  it('bounds are inclusive at both ends', () => {
    const band = cadence('band', { currencies: ['USD'], minAmountMinor: 100, maxAmountMinor: 200 });
    const active = [standard, band];
    expect([99, 100, 200, 201].map((amountMinor) => pick(active, ctx({ currency: 'USD', amountMinor })))).toEqual(['standard', 'band', 'band', 'standard']);
  });

  it('ties go to the lowest id, whatever the order of the list', () => {
    const zeta = cadence('zeta', { currencies: ['USD'] });
    const alpha = cadence('alpha', { currencies: ['USD'] });
    // A USD high-risk invoice matches high-risk (segment), alpha and zeta (currency): one criterion each.
    expect(pick([zeta, highRisk, standard, alpha], ctx({ segment: 'high_risk', currency: 'USD' }))).toBe('alpha');
    expect(pick([alpha, standard, highRisk, zeta].reverse(), ctx({ segment: 'high_risk', currency: 'USD' }))).toBe('alpha');
    expect(pick([zeta, highRisk, standard], ctx({ segment: 'high_risk', currency: 'USD' }))).toBe('high-risk');
  });

  it('the customer override beats every selection, if it names an active cadence', () => {
    expect(pick(ACTIVE, ctx({ segment: 'high_risk', customerOverride: 'strategic' }))).toBe('strategic');
    expect(pick(ACTIVE, ctx({ amountMinor: 2_000_000, customerOverride: 'manual-only' }))).toBe('manual-only');
    expect(pick(ACTIVE, ctx({ segment: 'high_risk', customerOverride: 'retired-cadence' }))).toBe('high-risk');
  });

  it('nothing matches: the default; a cadence without selection is chosen only as override or default', () => {
    expect(pick([standard, highRisk, noSelection], ctx({ segment: 'strategic' }))).toBe('standard');
    expect(pick([standard, noSelection], ctx({ segment: 'strategic' }), 'manual-only')).toBe('manual-only');
  });

  it('an empty selection matches everything, with no criteria', () => {
    const catchAll = cadence('catch-all', {});
    expect(pick([standard, catchAll], ctx({ segment: 'strategic' }))).toBe('catch-all');
    expect(pick([standard, catchAll], ctx())).toBe('standard'); // one criterion beats none
  });

  it('several versions of one id: the highest counts', () => {
    const v1 = cadence('standard', { segments: ['standard'] }, 1);
    const v3 = cadence('standard', { segments: ['standard'] }, 3);
    expect(selectCadence([v1, v3, strategic], ctx(), 'standard').version).toBe(3);
    expect(selectCadence([v3, v1, strategic], ctx({ segment: 'high_risk' }), 'standard').version).toBe(3);
  });

  it('a default that is not active is a clear error, even when a selection would match', () => {
    expect(() => selectCadence([strategic, highRisk], ctx({ segment: 'strategic' }), 'standard')).toThrow(
      'default cadence "standard" is not among the active cadences (high-risk, strategic)',
    );
    expect(() => selectCadence([], ctx(), 'standard')).toThrow('default cadence "standard" is not among the active cadences (none)');
  });

  it('the shipped cadences select by segment, standard as the default', () => {
    const shipped = [load('standard.json'), load('strategic.json'), load('high-risk.json')];
    expect(pick(shipped, ctx({ segment: 'standard' }))).toBe('standard');
    expect(pick(shipped, ctx({ segment: 'strategic', currency: 'USD' }))).toBe('strategic');
    expect(pick(shipped, ctx({ segment: 'high_risk', amountMinor: 1 }))).toBe('high-risk');
    expect(pick(shipped, ctx({ segment: 'high_risk', customerOverride: 'strategic' }))).toBe('strategic');
  });
});
