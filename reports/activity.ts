import { DateTime } from 'luxon';
import { z } from 'zod';
import {
  collectedByPortfolio,
  disputeCycle,
  forecastCells,
  promisesTaken,
  promiseVerdicts,
  touchesByActor,
  userNames,
  writeOffs,
  type ActivityScope,
  type DisputeCycleRow,
  type PeriodBounds,
  type WriteOffRow,
} from '../db/reports/activity';
import { addDays } from '../domain/aging';
import { averageDays, dayStart, forecastWeeks, medianDays, mondayOf, periodInstants, periodOf, reportingSum } from '../domain/reports/activity';
import { requireRates } from '../domain/reports/aging-lines';
import { percent2 } from '../domain/reports/dso';
import type { ReportColumn, ReportTable } from '../domain/reports/table';
import { asOfQuery, defineReport, periodQuery, type PackDate, type ReportContext, type ReportDefinition } from './definition';
import { ReportQueryError } from './ledger';

/**
 * The reports over the collectors' work (issue 13): collector effectiveness, dispute cycle time, write-offs and the
 * cash forecast. Definitions and the method of each: docs/reports.md, "Collection activity reports". Amounts are
 * summed per currency in SQL (db/reports/activity.ts); each currency's sum is converted once to the reporting
 * currency and the currencies added.
 */

const scopeOf = (ctx: ReportContext): ActivityScope => ({ tenantId: ctx.tenantId, collectorId: ctx.collectorId });

const periodQuerySchema = z.object(periodQuery);

/** The period asked (30 days ending today by default) with its instants in the reporting zone; from after to is a 400. */
function boundsOf(ctx: ReportContext, q: { from?: string | undefined; to?: string | undefined }): PeriodBounds {
  const period = periodOf(q, ctx.today);
  if (period.from > period.to) throw new ReportQueryError(`the period's first day (from ${period.from}) is after its last (to ${period.to})`);
  return { ...period, ...periodInstants(period, ctx.config.timeZone) };
}

/** In a month-end pack: the pack's month. */
const packPeriod = (at: PackDate) => ({ from: `${at.month}-01`, to: at.monthEnd });

const add = (m: Map<string, number>, currency: string, minor: number) => m.set(currency, (m.get(currency) ?? 0) + minor);
const byKey = <T>(a: { key: string | null } & T, b: { key: string | null } & T) =>
  a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : 1;
const money = (key: string, header: string, currency?: string): ReportColumn =>
  currency ? { key, header, type: 'money', currency } : { key, header, type: 'money', currencyKey: 'currency' };

// ---------------------------------------------------------------------------------------------------------------
// Collector effectiveness
// ---------------------------------------------------------------------------------------------------------------

const effectivenessFigures = {
  touches: z.number().int().describe('calls + notes'),
  calls: z.number().int().describe('call outcomes logged'),
  notes: z.number().int().describe('notes logged'),
  reached: z.number().int().describe('calls that reached the customer'),
  reachRate: z.number().nullable().describe('reached / calls * 100'),
  promisesTaken: z.number().int().describe('promises and payment plans recorded in the period (each counts once)'),
  promisedMinor: z.number().int().describe('their amount, reporting currency'),
  kept: z.number().int(),
  partiallyKept: z.number().int(),
  broken: z.number().int(),
  keptRateByCount: z.number().nullable().describe('kept / (kept + partially kept + broken) * 100, of the promise rows due in the period'),
  keptRateByAmount: z.number().nullable().describe('paid (each row up to its amount) / promised * 100, of the same rows, reporting currency'),
  collectedMinor: z.number().int().describe('money received on the portfolio in the period, reporting currency'),
  byCurrency: z.array(
    z.object({
      currency: z.string(),
      promisedMinor: z.number().int(),
      dueEvaluatedMinor: z.number().int().describe('promised of the evaluated rows due in the period'),
      paidEvaluatedMinor: z.number().int().describe('paid against them, each row up to its amount'),
      collectedMinor: z.number().int(),
    }),
  ),
};
const effectivenessResponse = z.object({
  report: z.literal('collector-effectiveness'),
  from: z.string(),
  to: z.string(),
  reportingCurrency: z.string(),
  collectors: z.array(z.object({ collectorId: z.string().nullable().describe('a user id; null: money received on customers of no collector'), name: z.string().nullable(), ...effectivenessFigures })),
  total: z.object(effectivenessFigures),
});
type EffectivenessResult = z.infer<typeof effectivenessResponse>;
type Figures = EffectivenessResult['total'];

interface Acc {
  calls: number;
  notes: number;
  reached: number;
  promisesTaken: number;
  kept: number;
  partiallyKept: number;
  broken: number;
  promised: Map<string, number>;
  due: Map<string, number>;
  paid: Map<string, number>;
  collected: Map<string, number>;
}
const newAcc = (): Acc => ({ calls: 0, notes: 0, reached: 0, promisesTaken: 0, kept: 0, partiallyKept: 0, broken: 0, promised: new Map(), due: new Map(), paid: new Map(), collected: new Map() });

function figuresOf(a: Acc, ctx: ReportContext): Figures {
  const currencies = [...new Set([...a.promised.keys(), ...a.due.keys(), ...a.paid.keys(), ...a.collected.keys()])].sort();
  const evaluated = a.kept + a.partiallyKept + a.broken;
  const dueReporting = reportingSum(a.due, ctx.fx);
  return {
    touches: a.calls + a.notes,
    calls: a.calls,
    notes: a.notes,
    reached: a.reached,
    reachRate: percent2(a.reached, a.calls),
    promisesTaken: a.promisesTaken,
    promisedMinor: reportingSum(a.promised, ctx.fx),
    kept: a.kept,
    partiallyKept: a.partiallyKept,
    broken: a.broken,
    keptRateByCount: percent2(a.kept, evaluated),
    keptRateByAmount: percent2(reportingSum(a.paid, ctx.fx), dueReporting),
    collectedMinor: reportingSum(a.collected, ctx.fx),
    byCurrency: currencies.map((currency) => ({
      currency,
      promisedMinor: a.promised.get(currency) ?? 0,
      dueEvaluatedMinor: a.due.get(currency) ?? 0,
      paidEvaluatedMinor: a.paid.get(currency) ?? 0,
      collectedMinor: a.collected.get(currency) ?? 0,
    })),
  };
}

const collectorEffectiveness = defineReport({
  name: 'collector-effectiveness',
  summary: 'Collector effectiveness over a period: touches, contacts reached, promises taken and kept, money collected',
  description:
    'Per person, over the days from..to (default: the 30 days ending today) in the reporting zone. touches = call ' +
    'outcomes + notes a person logged (the workflow\'s own entries, promise verdicts, pauses, contact updates and ' +
    'reassignments are not touches; a promise taken on a call is one touch, its call); reached = call outcomes that ' +
    'reached the customer. promisesTaken = promises and payment plans the person recorded in the period (a promise over ' +
    'several invoices or installments, or a plan, counts once; taken back = cancelled ones do not count), promisedMinor ' +
    'their amount. Kept rates over the promise rows (one per installment and invoice) the person recorded whose ' +
    'promised date is in the period and that were evaluated: by count kept / (kept + partially kept + broken) * 100; by ' +
    'amount paid (each row up to its amount) / promised * 100. collectedMinor = money received on the invoices of the ' +
    'customers the collector holds now (customers.collector_id): dated payments (ERP webhook, ledger postings) and ' +
    'positive observed balance decreases, posted on a day of the period; credits and write-offs are not cash. A ' +
    'collector sees the figures of their portfolio\'s customers only. Reporting amounts: each currency\'s sum converted once.',
  query: periodQuerySchema,
  response: effectivenessResponse,
  async run(ctx, query): Promise<EffectivenessResult> {
    const p = boundsOf(ctx, query);
    const scope = scopeOf(ctx);
    const [touches, taken, verdicts, collected] = await Promise.all([
      touchesByActor(ctx.sql, scope, p),
      promisesTaken(ctx.sql, scope, p),
      promiseVerdicts(ctx.sql, scope, p),
      collectedByPortfolio(ctx.sql, scope, p),
    ]);
    requireRates([...taken, ...verdicts, ...collected].map((r) => r.currency), ctx.fx);
    const people = new Map<string | null, Acc>();
    const total = newAcc();
    const accOf = (key: string | null) => {
      let a = people.get(key);
      if (!a) people.set(key, (a = newAcc()));
      return a;
    };
    for (const t of touches) {
      for (const a of [accOf(t.actor), total]) {
        a.calls += t.calls;
        a.notes += t.notes;
        a.reached += t.reached;
      }
    }
    for (const t of taken) {
      for (const a of [accOf(t.recordedBy), total]) {
        a.promisesTaken += t.promises;
        add(a.promised, t.currency, t.amountMinor);
      }
    }
    for (const v of verdicts) {
      for (const a of [accOf(v.recordedBy), total]) {
        a.kept += v.kept;
        a.partiallyKept += v.partiallyKept;
        a.broken += v.broken;
        add(a.due, v.currency, v.promisedMinor);
        add(a.paid, v.currency, v.paidMinor);
      }
    }
    for (const c of collected) {
      for (const a of [accOf(c.collectorId), total]) add(a.collected, c.currency, c.amountMinor);
    }
    const names = await userNames(ctx.sql, ctx.tenantId, [...people.keys()].filter((k): k is string => k !== null));
    const collectors = [...people]
      .map(([key, a]) => ({ key, collectorId: key, name: key === null ? null : (names.get(key) ?? null), ...figuresOf(a, ctx) }))
      .sort(byKey)
      .map(({ key: _, ...row }) => row);
    return { report: 'collector-effectiveness', from: p.from, to: p.to, reportingCurrency: ctx.fx.reportingCurrency, collectors, total: figuresOf(total, ctx) };
  },
  tables(result, ctx) {
    const rc = ctx.fx.reportingCurrency;
    const cells = (f: Figures) => ({
      touches: f.touches,
      calls: f.calls,
      notes: f.notes,
      reached: f.reached,
      reachRate: f.reachRate,
      promisesTaken: f.promisesTaken,
      promised: f.promisedMinor,
      kept: f.kept,
      partiallyKept: f.partiallyKept,
      broken: f.broken,
      keptRateByCount: f.keptRateByCount,
      keptRateByAmount: f.keptRateByAmount,
      collected: f.collectedMinor,
    });
    const period = `${result.from} to ${result.to}`;
    const main: ReportTable = {
      name: 'Collector effectiveness',
      title: `Collector effectiveness, ${period}`,
      columns: [
        { key: 'collector', header: 'Collector', type: 'text' },
        { key: 'name', header: 'Name', type: 'text' },
        { key: 'touches', header: 'Touches', type: 'integer' },
        { key: 'calls', header: 'Calls', type: 'integer' },
        { key: 'notes', header: 'Notes', type: 'integer' },
        { key: 'reached', header: 'Reached', type: 'integer' },
        { key: 'reachRate', header: 'Reach %', type: 'percent' },
        { key: 'promisesTaken', header: 'Promises taken', type: 'integer' },
        money('promised', `Promised (${rc})`, rc),
        { key: 'kept', header: 'Kept', type: 'integer' },
        { key: 'partiallyKept', header: 'Partially kept', type: 'integer' },
        { key: 'broken', header: 'Broken', type: 'integer' },
        { key: 'keptRateByCount', header: 'Kept % (count)', type: 'percent' },
        { key: 'keptRateByAmount', header: 'Kept % (amount)', type: 'percent' },
        money('collected', `Collected (${rc})`, rc),
      ],
      rows: result.collectors.map((c) => ({ collector: c.collectorId ?? 'unassigned', name: c.name, ...cells(c) })),
      totals: { collector: 'Total', name: null, ...cells(result.total) },
      notes: [
        'Touches: call outcomes and notes logged by the person; reached: calls that reached the customer.',
        'Promises taken: recorded in the period (a promise over several invoices or installments, or a plan, counts once).',
        'Kept %: promise rows due in the period and evaluated; by amount, paid (up to each row\'s amount) / promised.',
        'Collected: payments and positive observed balance decreases posted in the period on the customers the collector holds now ("unassigned": customers of no collector).',
        `Amounts in ${rc}: each currency's sum converted once at the rates of config/reporting.json, then added.`,
      ],
    };
    const perCurrency: ReportTable = {
      name: 'Collectors by currency',
      title: `Collector effectiveness by currency, ${period}`,
      columns: [
        { key: 'collector', header: 'Collector', type: 'text' },
        { key: 'currency', header: 'Currency', type: 'text' },
        money('promised', 'Promised'),
        money('due', 'Promises due, evaluated'),
        money('paid', 'Paid against them'),
        money('collected', 'Collected'),
      ],
      rows: result.collectors.flatMap((c) =>
        c.byCurrency.map((l) => ({ collector: c.collectorId ?? 'unassigned', currency: l.currency, promised: l.promisedMinor, due: l.dueEvaluatedMinor, paid: l.paidEvaluatedMinor, collected: l.collectedMinor })),
      ),
      totals: null,
    };
    return [main, perCurrency];
  },
  packQuery: packPeriod,
});

// ---------------------------------------------------------------------------------------------------------------
// Disputes
// ---------------------------------------------------------------------------------------------------------------

const disputeFigures = {
  opened: z.number().int().describe('opened in the period'),
  resolved: z.number().int().describe('resolved in the period (valid, invalid or withdrawn)'),
  resolvedValid: z.number().int(),
  resolvedInvalid: z.number().int(),
  withdrawn: z.number().int(),
  averageDays: z.number().nullable().describe('mean of resolved_at - opened_at of those resolved in the period, days, 2 decimals'),
  medianDays: z.number().nullable().describe('median of the same'),
  openAtEnd: z.number().int().describe('open (or escalated) at the end of the period, or now if earlier'),
  overdueAtEnd: z.number().int().describe('of those, past their deadline then'),
};
const disputeLine = z.object({ key: z.string(), ...disputeFigures });
const disputesResponse = z.object({
  report: z.literal('dispute-cycle-time'),
  from: z.string(),
  to: z.string(),
  openAt: z.string().describe('the instant open and overdue are counted at (ISO, reporting zone offset)'),
  byReason: z.array(disputeLine),
  byOwnerTeam: z.array(disputeLine),
  total: z.object(disputeFigures),
});
type DisputesResult = z.infer<typeof disputesResponse>;

function disputeFiguresOf(r: DisputeCycleRow | undefined): z.infer<z.ZodObject<typeof disputeFigures>> {
  const big = (v: string | null | undefined) => (v === null || v === undefined ? null : BigInt(v));
  return {
    opened: r?.opened ?? 0,
    resolved: r?.resolved ?? 0,
    resolvedValid: r?.resolvedValid ?? 0,
    resolvedInvalid: r?.resolvedInvalid ?? 0,
    withdrawn: r?.withdrawn ?? 0,
    averageDays: r && r.resolved > 0 ? averageDays(big(r.sumMicros) ?? 0n, r.resolved) : null,
    medianDays: medianDays(big(r?.lowerMedianMicros), big(r?.upperMedianMicros)),
    openAtEnd: r?.openAtEnd ?? 0,
    overdueAtEnd: r?.overdueAtEnd ?? 0,
  };
}

const disputes = defineReport({
  name: 'dispute-cycle-time',
  summary: 'Dispute cycle time by reason and by owner team over a period',
  description:
    'Over the days from..to (default: the 30 days ending today) in the reporting zone, by reason code and by owner ' +
    'team: disputes opened in the period; disputes resolved in the period (valid, invalid, withdrawn) and their cycle ' +
    'time resolved_at - opened_at in days (average and median, 2 decimals, half away from zero from the exact ' +
    'microseconds; the median of an even count is the mean of the two middle ones); disputes open at the end of the ' +
    'period (or now, if that is earlier: `openAt`) and, of those, overdue (deadline passed by then). A collector sees ' +
    'the disputes of their portfolio\'s customers only. (GET /reports/disputes, older, counts the disputes opened in a period by reason and root cause.)',
  query: periodQuerySchema,
  response: disputesResponse,
  async run(ctx, query): Promise<DisputesResult> {
    const p = boundsOf(ctx, query);
    const now = new Date();
    const cutoff = p.end < now ? p.end : now;
    const rows = await disputeCycle(ctx.sql, scopeOf(ctx), p, cutoff);
    const lines = (dimension: DisputeCycleRow['dimension']) =>
      rows
        .filter((r) => r.dimension === dimension)
        .map((r) => ({ key: r.key ?? '', ...disputeFiguresOf(r) }))
        .sort(byKey);
    return {
      report: 'dispute-cycle-time',
      from: p.from,
      to: p.to,
      openAt: DateTime.fromJSDate(cutoff, { zone: ctx.config.timeZone }).toISO()!,
      byReason: lines('reason'),
      byOwnerTeam: lines('team'),
      total: disputeFiguresOf(rows.find((r) => r.dimension === 'total')),
    };
  },
  tables(result) {
    const columns = (first: string): ReportColumn[] => [
      { key: 'key', header: first, type: 'text' },
      { key: 'opened', header: 'Opened', type: 'integer' },
      { key: 'resolved', header: 'Resolved', type: 'integer' },
      { key: 'resolvedValid', header: 'Valid', type: 'integer' },
      { key: 'resolvedInvalid', header: 'Invalid', type: 'integer' },
      { key: 'withdrawn', header: 'Withdrawn', type: 'integer' },
      { key: 'averageDays', header: 'Average days', type: 'days' },
      { key: 'medianDays', header: 'Median days', type: 'days' },
      { key: 'openAtEnd', header: 'Open at end', type: 'integer' },
      { key: 'overdueAtEnd', header: 'Overdue at end', type: 'integer' },
    ];
    const period = `${result.from} to ${result.to}`;
    const notes = [
      'Cycle time: resolved_at - opened_at of the disputes resolved in the period, in days; median of an even count: mean of the two middle ones.',
      `Open and overdue at ${result.openAt} (the end of the period, or when the report ran if earlier).`,
    ];
    return [
      { name: 'Disputes by reason', title: `Disputes by reason, ${period}`, columns: columns('Reason'), rows: result.byReason, totals: { key: 'Total', ...result.total }, notes },
      { name: 'Disputes by owner team', title: `Disputes by owner team, ${period}`, columns: columns('Owner team'), rows: result.byOwnerTeam, totals: { key: 'Total', ...result.total }, notes },
    ];
  },
  packQuery: packPeriod,
});

// ---------------------------------------------------------------------------------------------------------------
// Write-offs
// ---------------------------------------------------------------------------------------------------------------

const writeOffCurrencyLine = z.object({
  currency: z.string(),
  count: z.number().int(),
  amountMinor: z.number().int().describe('in the currency'),
  reportingMinor: z.number().int().describe('the reporting amounts stored with the requests, added'),
});
const writeOffGroup = z.object({
  key: z.string(),
  name: z.string().nullable(),
  count: z.number().int(),
  reportingMinor: z.number().int(),
  byCurrency: z.array(writeOffCurrencyLine),
});
const writeOffsResponse = z.object({
  report: z.literal('write-offs'),
  from: z.string(),
  to: z.string(),
  reportingCurrency: z.string(),
  byReason: z.array(writeOffGroup),
  byApprover: z.array(writeOffGroup),
  total: z.object({ count: z.number().int(), reportingMinor: z.number().int(), byCurrency: z.array(writeOffCurrencyLine) }),
});
type WriteOffsResult = z.infer<typeof writeOffsResponse>;

function writeOffGroups(rows: readonly WriteOffRow[], names: ReadonlyMap<string, string> | null) {
  const groups = new Map<string, z.infer<typeof writeOffGroup>>();
  for (const r of rows) {
    const key = r.key ?? '';
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, name: names ? (names.get(key) ?? null) : null, count: 0, reportingMinor: 0, byCurrency: [] }));
    g.count += r.count;
    g.reportingMinor += r.reportingMinor;
    g.byCurrency.push({ currency: r.currency, count: r.count, amountMinor: r.amountMinor, reportingMinor: r.reportingMinor });
  }
  for (const g of groups.values()) g.byCurrency.sort((a, b) => (a.currency < b.currency ? -1 : 1));
  // The largest amount first; ties by key.
  return [...groups.values()].sort((a, b) => b.reportingMinor - a.reportingMinor || byKey(a, b));
}

const writeOffsReport = defineReport({
  name: 'write-offs',
  summary: 'Approved write-offs by reason and by approver over a period',
  description:
    'Write-off requests (approval_requests, action write_off) approved with a decision on a day of from..to (default: ' +
    'the 30 days ending today) in the reporting zone, by reason (as written on the request) and by approver ' +
    '(decided_by): count, amount per currency, and in the reporting currency the sum of the reporting amounts stored ' +
    'with each request (converted when it was requested: what the approver decided on). A collector sees the ' +
    'write-offs of their portfolio\'s customers only.',
  query: periodQuerySchema,
  response: writeOffsResponse,
  async run(ctx, query): Promise<WriteOffsResult> {
    const p = boundsOf(ctx, query);
    const rows = await writeOffs(ctx.sql, scopeOf(ctx), p);
    const approvers = rows.filter((r) => r.dimension === 'approver');
    const names = await userNames(ctx.sql, ctx.tenantId, [...new Set(approvers.map((r) => r.key ?? ''))]);
    const [total] = writeOffGroups(rows.filter((r) => r.dimension === 'total'), null);
    return {
      report: 'write-offs',
      from: p.from,
      to: p.to,
      reportingCurrency: ctx.fx.reportingCurrency,
      byReason: writeOffGroups(rows.filter((r) => r.dimension === 'reason'), null),
      byApprover: writeOffGroups(approvers, names),
      total: { count: total?.count ?? 0, reportingMinor: total?.reportingMinor ?? 0, byCurrency: total?.byCurrency ?? [] },
    };
  },
  tables(result, ctx) {
    const rc = ctx.fx.reportingCurrency;
    const period = `${result.from} to ${result.to}`;
    const groupTable = (name: string, first: string, groups: WriteOffsResult['byReason'], withName: boolean): ReportTable => ({
      name,
      title: `${name}, ${period}`,
      columns: [
        { key: 'key', header: first, type: 'text' },
        ...(withName ? [{ key: 'name', header: 'Name', type: 'text' } as const] : []),
        { key: 'count', header: 'Write-offs', type: 'integer' },
        money('reporting', `Amount (${rc})`, rc),
      ],
      rows: groups.map((g) => ({ key: g.key, ...(withName ? { name: g.name } : {}), count: g.count, reporting: g.reportingMinor })),
      totals: { key: 'Total', ...(withName ? { name: null } : {}), count: result.total.count, reporting: result.total.reportingMinor },
      notes: [`Amounts in ${rc}: the reporting amount stored with each request (converted when it was requested), added.`],
    });
    const currencyRows = (dimension: string, groups: WriteOffsResult['byReason']) =>
      groups.flatMap((g) => g.byCurrency.map((l) => ({ by: dimension, key: g.key, currency: l.currency, count: l.count, amount: l.amountMinor, reporting: l.reportingMinor })));
    return [
      groupTable('Write-offs by reason', 'Reason', result.byReason, false),
      groupTable('Write-offs by approver', 'Approver', result.byApprover, true),
      {
        name: 'Write-offs by currency',
        title: `Write-offs by currency, ${period}`,
        columns: [
          { key: 'by', header: 'By', type: 'text' },
          { key: 'key', header: 'Reason or approver', type: 'text' },
          { key: 'currency', header: 'Currency', type: 'text' },
          { key: 'count', header: 'Write-offs', type: 'integer' },
          money('amount', 'Amount'),
          money('reporting', `Amount (${rc})`, rc),
        ],
        rows: [...currencyRows('reason', result.byReason), ...currencyRows('approver', result.byApprover)],
        totals: null,
      },
    ];
  },
  packQuery: packPeriod,
});

// ---------------------------------------------------------------------------------------------------------------
// Cash forecast
// ---------------------------------------------------------------------------------------------------------------

const forecastAmounts = {
  promisedMinor: z.number().int().describe('open promises and plan installments'),
  dueMinor: z.number().int().describe('the rest of open items falling due'),
  totalMinor: z.number().int(),
};
const forecastCurrencyLine = z.object({ currency: z.string(), ...forecastAmounts });
const forecastResponse = z.object({
  report: z.literal('cash-forecast'),
  asOf: z.string(),
  weeks: z.number().int(),
  reportingCurrency: z.string(),
  overdueUnscheduled: z.object({
    totalMinor: z.number().int().describe('open past-due amounts no open promise covers, reporting currency'),
    byCurrency: z.array(z.object({ currency: z.string(), totalMinor: z.number().int() })),
  }),
  weekly: z.array(
    z.object({
      week: z.number().int(),
      isoWeek: z.string(),
      from: z.string().describe('Monday'),
      to: z.string().describe('Sunday'),
      ...forecastAmounts,
      byCurrency: z.array(forecastCurrencyLine),
    }),
  ),
  later: z.object({ ...forecastAmounts, byCurrency: z.array(forecastCurrencyLine) }).describe('promised or due after the last week'),
  total: z
    .object({ openArMinor: z.number().int(), byCurrency: z.array(z.object({ currency: z.string(), openArMinor: z.number().int() })) })
    .describe('the open AR at asOf: overdue, unscheduled + every week + later'),
});
type ForecastResult = z.infer<typeof forecastResponse>;

const forecastQuery = z.object({
  asOf: asOfQuery,
  weeks: z.coerce.number().int().min(1).max(104).default(13).describe('weeks of the horizon, the first being the week of asOf (ISO weeks, Monday to Sunday); default 13'),
});

const cashForecast = defineReport({
  name: 'cash-forecast',
  summary: 'Expected cash by week from promises, payment plans and due dates, as of a day',
  description:
    'The items open at asOf (default today) with their open amount at asOf, by ISO week (Monday to Sunday) from the week ' +
    'of asOf for `weeks` weeks (default 13). Promises and plan installments open at asOf (recorded by then, not yet ' +
    'evaluated then) count at their amounts in the week of their promised date (dated before asOf and not yet ' +
    'evaluated: week 1), each up to what the invoice\'s earlier promises leave of its open amount. The rest of each ' +
    'item falls in the week of its due date when not yet due; past due, in the "overdue, unscheduled" line; beyond ' +
    'the horizon, in "later". So overdue + the weeks + later = the open AR at asOf, in each currency. Reporting ' +
    'amounts: each line\'s sum per currency converted once, then added. A collector sees their portfolio only.',
  query: forecastQuery,
  response: forecastResponse,
  async run(ctx, query): Promise<ForecastResult> {
    const asOf = query.asOf ?? ctx.today;
    const weeks = forecastWeeks(asOf, query.weeks);
    const cells = await forecastCells(ctx.sql, scopeOf(ctx), {
      asOf,
      dayEnd: dayStart(addDays(asOf, 1), ctx.config.timeZone),
      monday: mondayOf(asOf),
      weeks: query.weeks,
    });
    requireRates(cells.map((c) => c.currency), ctx.fx);
    const overdue = new Map<string, number>();
    const lines = Array.from({ length: query.weeks + 2 }, () => ({ promised: new Map<string, number>(), due: new Map<string, number>() }));
    const open = new Map<string, number>();
    for (const c of cells) {
      add(open, c.currency, c.amountMinor);
      if (c.kind === 'overdue') add(overdue, c.currency, c.amountMinor);
      else add(lines[c.week]![c.kind], c.currency, c.amountMinor);
    }
    const sorted = (m: ReadonlyMap<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    const lineOf = (l: { promised: Map<string, number>; due: Map<string, number> }) => {
      const currencies = [...new Set([...l.promised.keys(), ...l.due.keys()])].sort();
      const totals = new Map(currencies.map((c) => [c, (l.promised.get(c) ?? 0) + (l.due.get(c) ?? 0)] as const));
      return {
        promisedMinor: reportingSum(l.promised, ctx.fx),
        dueMinor: reportingSum(l.due, ctx.fx),
        totalMinor: reportingSum(totals, ctx.fx),
        byCurrency: currencies.map((currency) => ({ currency, promisedMinor: l.promised.get(currency) ?? 0, dueMinor: l.due.get(currency) ?? 0, totalMinor: totals.get(currency)! })),
      };
    };
    return {
      report: 'cash-forecast',
      asOf,
      weeks: query.weeks,
      reportingCurrency: ctx.fx.reportingCurrency,
      overdueUnscheduled: { totalMinor: reportingSum(overdue, ctx.fx), byCurrency: sorted(overdue).map(([currency, totalMinor]) => ({ currency, totalMinor })) },
      weekly: weeks.map((w) => ({ ...w, ...lineOf(lines[w.week]!) })),
      later: lineOf(lines[query.weeks + 1]!),
      total: { openArMinor: reportingSum(open, ctx.fx), byCurrency: sorted(open).map(([currency, openArMinor]) => ({ currency, openArMinor })) },
    };
  },
  tables(result, ctx) {
    const rc = ctx.fx.reportingCurrency;
    const title = `Cash forecast as of ${result.asOf}`;
    const notes = [
      'Promised: open promises and plan installments in the week of their promised date (dated before the as-of day: week 1), each up to the open amount its invoice has left.',
      'Due: the rest of each open item in the week of its due date; past due without a promise: "overdue, unscheduled"; after the last week: "later".',
      `Amounts in ${rc}: each line's sum per currency converted once at the rates of config/reporting.json, then added (a line's total may differ by a minor unit per currency from promised + due).`,
    ];
    const week = (w: ForecastResult['weekly'][number]) => ({ line: `Week ${w.week} (${w.isoWeek})`, from: w.from, to: w.to });
    const main: ReportTable = {
      name: 'Cash forecast',
      title,
      columns: [
        { key: 'line', header: 'Line', type: 'text' },
        { key: 'from', header: 'From', type: 'date' },
        { key: 'to', header: 'To', type: 'date' },
        money('promised', `Promised (${rc})`, rc),
        money('due', `Falling due (${rc})`, rc),
        money('total', `Expected (${rc})`, rc),
      ],
      rows: [
        { line: 'Overdue, unscheduled', from: null, to: null, promised: 0, due: result.overdueUnscheduled.totalMinor, total: result.overdueUnscheduled.totalMinor },
        ...result.weekly.map((w) => ({ ...week(w), promised: w.promisedMinor, due: w.dueMinor, total: w.totalMinor })),
        { line: 'Later', from: result.weekly.at(-1) ? addDays(result.weekly.at(-1)!.to, 1) : null, to: null, promised: result.later.promisedMinor, due: result.later.dueMinor, total: result.later.totalMinor },
      ],
      totals: { line: 'Open AR', from: null, to: null, promised: null, due: null, total: result.total.openArMinor },
      notes,
    };
    const perCurrency: ReportTable = {
      name: 'Cash forecast by currency',
      title: `${title}, by currency`,
      columns: [
        { key: 'line', header: 'Line', type: 'text' },
        { key: 'from', header: 'From', type: 'date' },
        { key: 'to', header: 'To', type: 'date' },
        { key: 'currency', header: 'Currency', type: 'text' },
        money('promised', 'Promised'),
        money('due', 'Falling due'),
        money('total', 'Expected'),
      ],
      rows: [
        ...result.overdueUnscheduled.byCurrency.map((l) => ({ line: 'Overdue, unscheduled', from: null, to: null, currency: l.currency, promised: 0, due: l.totalMinor, total: l.totalMinor })),
        ...result.weekly.flatMap((w) => w.byCurrency.map((l) => ({ ...week(w), currency: l.currency, promised: l.promisedMinor, due: l.dueMinor, total: l.totalMinor }))),
        ...result.later.byCurrency.map((l) => ({ line: 'Later', from: null, to: null, currency: l.currency, promised: l.promisedMinor, due: l.dueMinor, total: l.totalMinor })),
      ],
      totals: null,
      notes: ['Each currency in its own minor units; the open AR per currency is the sum of its lines.'],
    };
    return [main, perCurrency];
  },
  packQuery: (at) => ({ asOf: at.asOf }),
});

/** Collector effectiveness, dispute cycle time, write-offs and the cash forecast: reports over the collectors' work. */
export const activityReports: ReportDefinition[] = [collectorEffectiveness, disputes, writeOffsReport, cashForecast];
