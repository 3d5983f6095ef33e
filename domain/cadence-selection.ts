import type { Cadence, Segment } from './cadence';

/**
 * Which cadence an invoice is dunned with. Pure. Precedence:
 * 1. the customer's override, when it names an active cadence (an override naming an inactive or
 *    unknown cadence is ignored, not an error: the invoice still gets dunned);
 * 2. the active cadence whose `selection` matches and sets the most criteria (segments, currencies,
 *    minAmountMinor and maxAmountMinor count one each; an empty `selection: {}` matches everything
 *    with no criteria, a cadence without `selection` is never chosen this way); ties go to the lowest id;
 * 3. the default cadence.
 * The default must be among the active cadences: that is checked on every call, so a configuration
 * error shows on the first invoice, not on the first one that falls through to the default.
 * `active` should hold one version per cadence id; if it holds several, the highest version counts.
 */
export interface SelectionContext {
  segment: Segment;
  currency: string;
  amountMinor: number;
  /** A cadence id set on the customer. */
  customerOverride?: string;
}

type Selection = NonNullable<Cadence['selection']>;

function find(active: readonly Cadence[], id: string): Cadence | undefined {
  return active.filter((c) => c.id === id).reduce<Cadence | undefined>((best, c) => (!best || c.version > best.version ? c : best), undefined);
}

function criteria(sel: Selection): number {
  return [sel.segments, sel.currencies, sel.minAmountMinor, sel.maxAmountMinor].filter((v) => v !== undefined).length;
}

function matches(sel: Selection, ctx: SelectionContext): boolean {
  return (
    (sel.segments === undefined || sel.segments.includes(ctx.segment)) &&
    (sel.currencies === undefined || sel.currencies.includes(ctx.currency)) &&
    (sel.minAmountMinor === undefined || ctx.amountMinor >= sel.minAmountMinor) &&
    (sel.maxAmountMinor === undefined || ctx.amountMinor <= sel.maxAmountMinor)
  );
}

export function selectCadence(active: readonly Cadence[], ctx: SelectionContext, defaultCadenceId: string): Cadence {
  const fallback = find(active, defaultCadenceId);
  if (!fallback) {
    const ids = [...new Set(active.map((c) => c.id))].sort();
    throw new Error(`default cadence "${defaultCadenceId}" is not among the active cadences (${ids.length ? ids.join(', ') : 'none'})`);
  }
  if (ctx.customerOverride !== undefined) {
    const override = find(active, ctx.customerOverride);
    if (override) return override;
  }
  let best: { cadence: Cadence; score: number } | undefined;
  for (const id of [...new Set(active.map((c) => c.id))].sort()) {
    const cadence = find(active, id)!;
    if (!cadence.selection || !matches(cadence.selection, ctx)) continue;
    const score = criteria(cadence.selection);
    if (!best || score > best.score) best = { cadence, score }; // ids in ascending order: a tie keeps the lower id
  }
  return best?.cadence ?? fallback;
}
