import { z } from 'zod';
import { agingCells, openArAt, salesByMonth, type AgingGroupBy, type LedgerScope } from '../db/reports/ledger';
import { convertMinor, type FxTable } from '../domain/fx';
import { currencyCodeSchema } from '../domain/money';
import { currencyLines, reportingLine, requireRates, type AgingCell } from '../domain/reports/aging-lines';
import { bucketLabels } from '../domain/reports/config';
import {
  addMonths,
  cei,
  countBackDso,
  dayBefore,
  daysInMonth,
  lastCompleteMonth,
  monthEnd,
  monthsFrom,
  monthStart,
  periodDso,
} from '../domain/reports/dso';
import type { ReportColumn, ReportTable } from '../domain/reports/table';
import { asOfQuery, defineReport, monthQuery, type ReportContext, type ReportDefinition } from './definition';

/**
 * The reports over the receivables ledger (issue 13): aging with past-due %, DSO (count-back, standard, best possible,
 * average days delinquent) and CEI. Definitions and formulas: docs/reports.md. Every amount is summed per currency in
 * SQL (db/reports/ledger.ts); each currency's sum is converted once to the reporting currency and the currencies added.
 */

/** A query the schema accepts but that makes no sense as a whole (from after to): 400, like a schema issue. */
export class ReportQueryError extends Error {
  readonly code = 'validation_failed';
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'ReportQueryError';
  }
}

const scopeOf = (ctx: ReportContext): LedgerScope => ({ tenantId: ctx.tenantId, collectorId: ctx.collectorId });

/** Each currency's amount converted once, then added (the currencies are checked for rates first). */
function inReporting(amounts: ReadonlyMap<string, number>, fx: FxTable): number {
  let total = 0;
  for (const [currency, minor] of amounts) total += convertMinor(minor, currency, fx);
  return total;
}
const add = (m: Map<string, number>, currency: string, minor: number) => m.set(currency, (m.get(currency) ?? 0) + minor);

// ---------------------------------------------------------------------------------------------------------------
// Aging
// ---------------------------------------------------------------------------------------------------------------

const lineShape = {
  count: z.number().int(),
  openMinor: z.number().int(),
  pastDueMinor: z.number().int(),
  pastDuePercent: z.number().nullable(),
  buckets: z.record(z.string(), z.number().int()),
};
const currencyLineSchema = z.object({ currency: z.string(), ...lineShape });
const agingResponse = z.object({
  report: z.literal('aging'),
  asOf: z.string(),
  reportingCurrency: z.string(),
  buckets: z.array(z.string()),
  total: z.object(lineShape),
  byCurrency: z.array(currencyLineSchema),
  groups: z.array(z.object({ key: z.string(), name: z.string().nullable(), ...lineShape, byCurrency: z.array(currencyLineSchema) })),
});
type AgingResult = z.infer<typeof agingResponse>;

const agingQuery = z.object({
  asOf: asOfQuery,
  groupBy: z
    .enum(['customer', 'collector', 'segment', 'currency', 'none'])
    .default('customer')
    .describe('the groups: customer (default), collector (customers.collector_id; "unassigned"), segment, currency, or none'),
  currency: currencyCodeSchema.optional().describe('only the invoices in this currency (ISO 4217)'),
});

const aging = defineReport({
  name: 'aging',
  summary: 'Aging of the open receivables by bucket, as of a day',
  description:
    'The invoices open at asOf (issued on or before it and not settled on or before it), their open amount at asOf ' +
    '(amount minus the postings dated on or before asOf), by days past due (asOf - due date) in the buckets of ' +
    'config/reports.json (current <= 0, 1-30, 31-60, 61-90, 91+ by default). Per group (customer, collector, segment, ' +
    'currency or none) and per currency; total and group lines in the reporting currency (each currency\'s sums ' +
    'converted once), byCurrency lines in their own currency. pastDuePercent = (open - current) / open * 100.',
  query: agingQuery,
  response: agingResponse,
  async run(ctx, query): Promise<AgingResult> {
    const asOf = query.asOf ?? ctx.today;
    const bounds = ctx.config.agingBuckets;
    const labels = bucketLabels(bounds);
    const groupBy: AgingGroupBy = query.groupBy;
    const rows = await agingCells(ctx.sql, scopeOf(ctx), { asOf, bounds, groupBy, currency: query.currency });
    requireRates(
      rows.map((r) => r.currency),
      ctx.fx,
    );
    const all: AgingCell[] = rows.map((r) => ({ key: 'all', currency: r.currency, bucket: r.bucket, count: r.count, openMinor: r.openMinor }));
    const byCurrency = currencyLines(all, labels);
    const groups: AgingResult['groups'] = [];
    if (groupBy !== 'none') {
      const byKey = new Map<string, { name: string | null; cells: AgingCell[] }>();
      for (const r of rows) {
        let g = byKey.get(r.key);
        if (!g) byKey.set(r.key, (g = { name: r.name, cells: [] }));
        g.cells.push(r);
      }
      for (const [key, g] of byKey) {
        const lines = currencyLines(g.cells, labels);
        groups.push({ key, name: g.name, ...reportingLine(lines, labels, ctx.fx), byCurrency: lines });
      }
      // The largest open amount first; ties by key.
      groups.sort((a, b) => b.openMinor - a.openMinor || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    return {
      report: 'aging',
      asOf,
      reportingCurrency: ctx.fx.reportingCurrency,
      buckets: labels,
      total: reportingLine(byCurrency, labels, ctx.fx),
      byCurrency,
      groups,
    };
  },
  tables(result, ctx) {
    const rc = ctx.fx.reportingCurrency;
    const money = (key: string, header: string, currency?: string): ReportColumn =>
      currency ? { key, header, type: 'money', currency } : { key, header, type: 'money', currencyKey: 'currency' };
    const lineColumns = (currency?: string): ReportColumn[] => [
      { key: 'count', header: 'Invoices', type: 'integer' },
      money('open', `Open${currency ? ` (${currency})` : ''}`, currency),
      ...result.buckets.map((label) => money(`b:${label}`, label, currency)),
      money('pastDue', 'Past due', currency),
      { key: 'pastDuePercent', header: 'Past due %', type: 'percent' },
    ];
    const lineCells = (l: z.infer<typeof currencyLineSchema> | AgingResult['total']) => ({
      count: l.count,
      open: l.openMinor,
      ...Object.fromEntries(result.buckets.map((label) => [`b:${label}`, l.buckets[label] ?? 0])),
      pastDue: l.pastDueMinor,
      pastDuePercent: l.pastDuePercent,
    });
    const title = `Aging as of ${result.asOf}`;
    const notes = [
      'Open at the as-of day: issued on or before it and not settled on or before it; days past due = as-of day - due date.',
      `Amounts in ${rc}: each currency's sums converted once at the rates of config/reporting.json, then added.`,
    ];
    return [
      {
        name: 'Aging',
        title: `${title}, in ${rc}`,
        columns: [{ key: 'key', header: 'Group', type: 'text' }, { key: 'name', header: 'Name', type: 'text' }, ...lineColumns(rc)],
        rows: result.groups.map((g) => ({ key: g.key, name: g.name, ...lineCells(g) })),
        totals: { key: 'Total', name: null, ...lineCells(result.total) },
        notes,
      },
      {
        name: 'Aging by currency',
        title: `${title}, by invoice currency`,
        columns: [{ key: 'currency', header: 'Currency', type: 'text' }, ...lineColumns()],
        rows: result.byCurrency.map((l) => ({ currency: l.currency, ...lineCells(l) })),
        totals: null,
      },
      {
        name: 'Aging by group and currency',
        title: `${title}, by group and invoice currency`,
        columns: [
          { key: 'key', header: 'Group', type: 'text' },
          { key: 'name', header: 'Name', type: 'text' },
          { key: 'currency', header: 'Currency', type: 'text' },
          ...lineColumns(),
        ],
        rows: result.groups.flatMap((g) => g.byCurrency.map((l) => ({ key: g.key, name: g.name, currency: l.currency, ...lineCells(l) }))),
        totals: null,
      },
    ] satisfies ReportTable[];
  },
  packQuery: (at) => ({ asOf: at.asOf, groupBy: 'customer' as const }),
});

// ---------------------------------------------------------------------------------------------------------------
// DSO
// ---------------------------------------------------------------------------------------------------------------

const dsoResponse = z.object({
  report: z.literal('dso'),
  month: z.string(),
  asOf: z.string(),
  reportingCurrency: z.string(),
  openArMinor: z.number().int(),
  currentArMinor: z.number().int(),
  pastDueArMinor: z.number().int(),
  countBack: z.object({
    days: z.number(),
    exhausted: z.boolean(),
    months: z.array(z.object({ month: z.string(), daysInMonth: z.number().int(), salesMinor: z.number().int(), usedMinor: z.number().int(), daysCounted: z.number() })),
  }),
  standard: z.object({ from: z.string(), to: z.string(), periodDays: z.number().int(), salesMinor: z.number().int(), days: z.number().nullable() }),
  bestPossible: z.object({ days: z.number().nullable() }),
  averageDaysDelinquent: z.number().nullable(),
});
type DsoResult = z.infer<typeof dsoResponse>;

/** Open and current AR at one day, per currency, converted (each currency once) and added. */
async function arAt(ctx: ReportContext, dates: string[]) {
  const rows = await openArAt(ctx.sql, scopeOf(ctx), dates);
  requireRates(
    rows.map((r) => r.currency),
    ctx.fx,
  );
  return (day: string) => {
    const open = new Map<string, number>();
    const current = new Map<string, number>();
    const pastDue = new Map<string, number>();
    for (const r of rows) {
      if (r.day !== day) continue;
      add(open, r.currency, r.openMinor);
      add(current, r.currency, r.currentMinor);
      add(pastDue, r.currency, r.openMinor - r.currentMinor);
    }
    return { openMinor: inReporting(open, ctx.fx), currentMinor: inReporting(current, ctx.fx), pastDueMinor: inReporting(pastDue, ctx.fx) };
  };
}

/** Credit sales per month between two months, per currency; `of(months)` sums each currency over them, converts once, adds. */
async function sales(ctx: ReportContext, first: string, last: string) {
  const rows = await salesByMonth(ctx.sql, scopeOf(ctx), monthStart(first), monthEnd(last));
  requireRates(
    rows.map((r) => r.currency),
    ctx.fx,
  );
  return (months: readonly string[]) => {
    const wanted = new Set(months);
    const sums = new Map<string, number>();
    for (const r of rows) if (wanted.has(r.month)) add(sums, r.currency, r.salesMinor);
    return inReporting(sums, ctx.fx);
  };
}

const dso = defineReport({
  name: 'dso',
  summary: 'Days sales outstanding at a month end: count-back, standard, best possible, average days delinquent',
  description:
    'Open AR at the month end (the aging\'s definition of open). Count-back DSO: the open AR is matched against each ' +
    'month\'s credit sales (amount of the invoices issued in it), newest first from `month`: a month whose sales what ' +
    'is left covers counts all its days (a month without sales too), the month whose sales exceed it counts ' +
    'daysInMonth * left / sales; at most dsoLookbackMonths months (exhausted: AR left over). Standard DSO = open AR / ' +
    'sales of the periodMonths months ending with `month` * their days; best possible DSO = current AR / the same ' +
    'sales * the same days; average days delinquent = standard - best possible. Days rounded to 2 decimals; null when ' +
    'the period has no sales.',
  query: z.object({
    month: monthQuery.optional().describe('the month (YYYY-MM) whose last day the DSO is as of; default the last complete month in the reporting zone'),
    periodMonths: z.coerce.number().int().min(1).max(12).default(3).describe('months of sales (ending with `month`) of the standard and best-possible DSO; default 3'),
  }),
  response: dsoResponse,
  async run(ctx, query): Promise<DsoResult> {
    const month = query.month ?? lastCompleteMonth(ctx.today);
    const asOf = monthEnd(month);
    const lookback = ctx.config.dsoLookbackMonths;
    const periodFirst = addMonths(month, -(query.periodMonths - 1));
    const firstNeeded = addMonths(month, -(Math.max(lookback, query.periodMonths) - 1));
    const [ar, salesOf] = await Promise.all([arAt(ctx, [asOf]), sales(ctx, firstNeeded, month)]);
    const { openMinor, currentMinor, pastDueMinor } = ar(asOf);
    const countBack = countBackDso(openMinor, month, (m) => salesOf([m]), lookback);
    const periodMonths = monthsFrom(periodFirst, month);
    const periodDays = periodMonths.reduce((s, m) => s + daysInMonth(m), 0);
    const periodSales = salesOf(periodMonths);
    const period = periodDso({ openArMinor: openMinor, currentArMinor: currentMinor, pastDueArMinor: pastDueMinor, salesMinor: periodSales, periodDays });
    return {
      report: 'dso',
      month,
      asOf,
      reportingCurrency: ctx.fx.reportingCurrency,
      openArMinor: openMinor,
      currentArMinor: currentMinor,
      pastDueArMinor: pastDueMinor,
      countBack,
      standard: { from: monthStart(periodFirst), to: asOf, periodDays, salesMinor: periodSales, days: period.standard },
      bestPossible: { days: period.bestPossible },
      averageDaysDelinquent: period.averageDaysDelinquent,
    };
  },
  tables(r, ctx) {
    const rc = ctx.fx.reportingCurrency;
    const money = (key: string, header: string): ReportColumn => ({ key, header, type: 'money', currency: rc });
    return [
      {
        name: 'DSO',
        title: `Days sales outstanding at ${r.asOf}, in ${rc}`,
        columns: [
          { key: 'month', header: 'Month', type: 'text' },
          { key: 'asOf', header: 'As of', type: 'date' },
          money('openAr', 'Open AR'),
          money('currentAr', 'Current AR'),
          money('pastDueAr', 'Past-due AR'),
          { key: 'countBack', header: 'DSO (count-back)', type: 'days' },
          { key: 'exhausted', header: 'Lookback exhausted', type: 'text' },
          { key: 'from', header: 'Period from', type: 'date' },
          { key: 'to', header: 'Period to', type: 'date' },
          { key: 'periodDays', header: 'Period days', type: 'integer' },
          money('periodSales', 'Period credit sales'),
          { key: 'standard', header: 'DSO (standard)', type: 'days' },
          { key: 'bestPossible', header: 'Best possible DSO', type: 'days' },
          { key: 'add', header: 'Average days delinquent', type: 'days' },
        ],
        rows: [
          {
            month: r.month,
            asOf: r.asOf,
            openAr: r.openArMinor,
            currentAr: r.currentArMinor,
            pastDueAr: r.pastDueArMinor,
            countBack: r.countBack.days,
            exhausted: r.countBack.exhausted ? 'yes' : 'no',
            from: r.standard.from,
            to: r.standard.to,
            periodDays: r.standard.periodDays,
            periodSales: r.standard.salesMinor,
            standard: r.standard.days,
            bestPossible: r.bestPossible.days,
            add: r.averageDaysDelinquent,
          },
        ],
        totals: null,
        notes: [
          'Count-back: the open AR at the month end used up by each month\'s credit sales, newest first; whole months count all their days, the last the fraction left / sales.',
          'Standard DSO = open AR / period sales * period days; best possible = current AR / period sales * period days; average days delinquent = standard - best possible.',
        ],
      },
      {
        name: 'DSO count-back',
        title: `Count-back DSO at ${r.asOf}: the months used, in ${rc}`,
        columns: [
          { key: 'month', header: 'Month', type: 'text' },
          { key: 'daysInMonth', header: 'Days in month', type: 'integer' },
          money('sales', 'Credit sales'),
          money('used', 'AR matched'),
          { key: 'daysCounted', header: 'Days counted', type: 'days' },
        ],
        rows: r.countBack.months.map((m) => ({ month: m.month, daysInMonth: m.daysInMonth, sales: m.salesMinor, used: m.usedMinor, daysCounted: m.daysCounted })),
        totals: {
          month: 'Total',
          daysInMonth: null,
          sales: r.countBack.months.reduce((s, m) => s + m.salesMinor, 0),
          used: r.countBack.months.reduce((s, m) => s + m.usedMinor, 0),
          daysCounted: r.countBack.days,
        },
      },
    ] satisfies ReportTable[];
  },
  packQuery: (at) => ({ month: at.month }),
});

// ---------------------------------------------------------------------------------------------------------------
// CEI
// ---------------------------------------------------------------------------------------------------------------

const ceiLineShape = {
  openingArMinor: z.number().int(),
  salesMinor: z.number().int(),
  closingArMinor: z.number().int(),
  closingCurrentArMinor: z.number().int(),
  collectedMinor: z.number().int(),
  cei: z.number().nullable(),
};
const ceiResponse = z.object({
  report: z.literal('cei'),
  reportingCurrency: z.string(),
  months: z.array(z.object({ month: z.string(), ...ceiLineShape })),
  total: z.object(ceiLineShape),
});
type CeiResult = z.infer<typeof ceiResponse>;

/** At most this many months in one CEI report. */
export const CEI_MAX_MONTHS = 36;

const ceiReport = defineReport({
  name: 'cei',
  summary: 'Collection effectiveness index per month',
  description:
    'Per month: opening AR (open at the day before its first day), credit sales (invoices issued in it), closing AR and ' +
    'closing current AR (open, and not yet due, at its last day), collected = opening + sales - closing (every ' +
    'reduction: payments, credits, write-offs), CEI = (opening + sales - closing) / (opening + sales - closing current) ' +
    '* 100, 2 decimals (null when the denominator is 0). The total spans the months: opening of the first, sales of ' +
    `all, closing of the last. At most ${CEI_MAX_MONTHS} months.`,
  query: z.object({
    from: monthQuery.optional().describe('first month (YYYY-MM); default the last complete month in the reporting zone'),
    to: monthQuery.optional().describe('last month (YYYY-MM); default the last complete month'),
  }),
  response: ceiResponse,
  async run(ctx, query): Promise<CeiResult> {
    const last = lastCompleteMonth(ctx.today);
    const from = query.from ?? (query.to !== undefined && query.to < last ? query.to : last);
    const to = query.to ?? (query.from !== undefined && query.from > last ? query.from : last);
    if (from > to) throw new ReportQueryError(`from (${from}) must not be after to (${to})`);
    const months = monthsFrom(from, to);
    if (months.length > CEI_MAX_MONTHS) throw new ReportQueryError(`at most ${CEI_MAX_MONTHS} months from from to to (asked for ${months.length})`);
    const days = [dayBefore(monthStart(from)), ...months.map(monthEnd)];
    const [ar, salesOf] = await Promise.all([arAt(ctx, days), sales(ctx, from, to)]);
    const line = (opening: number, salesMinor: number, closingDay: string) => {
      const closing = ar(closingDay);
      const figures = { openingArMinor: opening, salesMinor, closingArMinor: closing.openMinor, closingCurrentArMinor: closing.currentMinor };
      return { ...figures, collectedMinor: opening + salesMinor - closing.openMinor, cei: cei(figures) };
    };
    const rows = months.map((m) => ({ month: m, ...line(ar(dayBefore(monthStart(m))).openMinor, salesOf([m]), monthEnd(m)) }));
    return {
      report: 'cei',
      reportingCurrency: ctx.fx.reportingCurrency,
      months: rows,
      total: line(ar(days[0]!).openMinor, salesOf(months), monthEnd(to)),
    };
  },
  tables(r, ctx) {
    const rc = ctx.fx.reportingCurrency;
    const money = (key: string, header: string): ReportColumn => ({ key, header, type: 'money', currency: rc });
    const cells = (l: CeiResult['total']) => ({
      opening: l.openingArMinor,
      sales: l.salesMinor,
      closing: l.closingArMinor,
      closingCurrent: l.closingCurrentArMinor,
      collected: l.collectedMinor,
      cei: l.cei,
    });
    const first = r.months[0]?.month ?? '';
    const last = r.months[r.months.length - 1]?.month ?? '';
    return [
      {
        name: 'CEI',
        title: `Collection effectiveness index ${first === last ? first : `${first} to ${last}`}, in ${rc}`,
        columns: [
          { key: 'month', header: 'Month', type: 'text' },
          money('opening', 'Opening AR'),
          money('sales', 'Credit sales'),
          money('closing', 'Closing AR'),
          money('closingCurrent', 'Closing current AR'),
          money('collected', 'Collected'),
          { key: 'cei', header: 'CEI %', type: 'percent' },
        ],
        rows: r.months.map((m) => ({ month: m.month, ...cells(m) })),
        totals: { month: 'Total', ...cells(r.total) },
        notes: ['CEI = (opening AR + credit sales - closing AR) / (opening AR + credit sales - closing current AR) * 100.'],
      },
    ] satisfies ReportTable[];
  },
  packQuery: (at) => ({ from: at.month, to: at.month }),
});

/** Aging, past-due %, DSO (count-back, standard, best possible, ADD) and CEI: reports over the receivables ledger. */
export const ledgerReports: ReportDefinition[] = [aging, dso, ceiReport];
