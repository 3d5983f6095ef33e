import { convertMinor, type FxTable } from '../fx';
import { percent2 } from './dso';

/**
 * The aging report's lines from the per-currency bucket sums SQL gives (issue 13). Pure.
 *
 * A line in a currency is exact: its buckets are sums of open amounts at the as-of day. A line in the reporting
 * currency takes each figure of each currency (open, past due, each bucket) converted ONCE (domain/fx.ts, half-even)
 * and adds the currencies: so with several currencies a converted line's buckets may differ from its open amount by
 * a minor unit per currency, as each is rounded on its own.
 */
export interface AgingLine {
  count: number;
  openMinor: number;
  pastDueMinor: number;
  /** (open - current) / open * 100, 2 decimals; null when nothing is open. */
  pastDuePercent: number | null;
  buckets: Record<string, number>;
}
export type CurrencyLine = AgingLine & { currency: string };

/** One SQL row: open items of a group, in one currency, in one bucket (index into the labels). */
export interface AgingCell {
  key: string;
  currency: string;
  bucket: number;
  count: number;
  openMinor: number;
}

/** A currency the rate table lacks (the reporting currency needs none): the API answers 422 no_exchange_rate. */
export class NoExchangeRateError extends Error {
  readonly code = 'no_exchange_rate';
  readonly statusCode = 422;
  constructor(
    readonly currency: string,
    reportingCurrency: string,
  ) {
    super(`no exchange rate from ${currency} to the reporting currency ${reportingCurrency}: add it to config/reporting.json`);
    this.name = 'NoExchangeRateError';
  }
}

/** Throws NoExchangeRateError for the first currency (alphabetically) without a rate. */
export function requireRates(currencies: Iterable<string>, fx: FxTable): void {
  for (const currency of [...new Set(currencies)].sort()) {
    if (currency !== fx.reportingCurrency && !Object.hasOwn(fx.rates, currency)) throw new NoExchangeRateError(currency, fx.reportingCurrency);
  }
}

const emptyBuckets = (labels: readonly string[]) => Object.fromEntries(labels.map((l) => [l, 0])) as Record<string, number>;

function finish(count: number, openMinor: number, pastDueMinor: number, buckets: Record<string, number>): AgingLine {
  return { count, openMinor, pastDueMinor, pastDuePercent: percent2(pastDueMinor, openMinor), buckets };
}

/** The lines of one set of cells per currency (exact), sorted by currency. */
export function currencyLines(cells: readonly AgingCell[], labels: readonly string[]): CurrencyLine[] {
  const byCurrency = new Map<string, { count: number; buckets: Record<string, number> }>();
  for (const c of cells) {
    let acc = byCurrency.get(c.currency);
    if (!acc) byCurrency.set(c.currency, (acc = { count: 0, buckets: emptyBuckets(labels) }));
    acc.count += c.count;
    const label = labels[c.bucket]!;
    acc.buckets[label] = acc.buckets[label]! + c.openMinor;
  }
  return [...byCurrency.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, acc]) => {
      const open = Object.values(acc.buckets).reduce((s, v) => s + v, 0);
      return { currency, ...finish(acc.count, open, open - acc.buckets[labels[0]!]!, acc.buckets) };
    });
}

/** Currency lines converted once each, figure by figure, and added: the line in the reporting currency. */
export function reportingLine(lines: readonly CurrencyLine[], labels: readonly string[], fx: FxTable): AgingLine {
  // Zero and the reporting currency itself convert to themselves: thousands of groups times buckets skip the arithmetic.
  const convert = (minor: number, currency: string) => (minor === 0 || currency === fx.reportingCurrency ? minor : convertMinor(minor, currency, fx));
  let count = 0;
  let open = 0;
  let pastDue = 0;
  const buckets = emptyBuckets(labels);
  for (const l of lines) {
    count += l.count;
    open += convert(l.openMinor, l.currency);
    pastDue += convert(l.pastDueMinor, l.currency);
    for (const label of labels) buckets[label] = buckets[label]! + convert(l.buckets[label]!, l.currency);
  }
  return finish(count, open, pastDue, buckets);
}
