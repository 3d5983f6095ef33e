import { monthEnd as lastDayOf } from '../domain/reports/dso';
import type { ReportTable } from '../domain/reports/table';
import type { PackDate, ReportContext, ReportDefinition } from './definition';
import { sheetName, tablesToXlsx, type CoverSheet } from './formats';

/**
 * The AR pack (issue 13): every report with a `packQuery`, run for one pack date, as one list of tables behind a
 * cover sheet (tenant, month, as-of day, reporting currency, the FX rates in force, when it was generated, the
 * contents). The month-end pack (GET /reports/ar-pack) is as of the month's last day; the weekly pack mailed by the
 * schedule (activities/ar-pack.ts) is as of today with the last complete month's DSO and CEI.
 */

export interface ArPackSheet {
  /** The sheet's name in the workbook (unique, Excel's rules). */
  sheet: string;
  report: string;
  table: ReportTable;
}

export interface ArPack {
  tenantId: string;
  month: string;
  monthEnd: string;
  asOf: string;
  reportingCurrency: string;
  /** 1 unit of each currency = rate units of the reporting currency (config/reporting.json). */
  rates: Record<string, string>;
  /** ISO 8601 with the reporting zone's offset. */
  generatedAt: string;
  timeZone: string;
  reports: string[];
  sheets: ArPackSheet[];
}

/** The pack's dates: `asOf` the month end (month-end pack) or a day given (the weekly pack: today). */
export function packDate(month: string, asOf?: string): PackDate {
  const monthEnd = lastDayOf(month);
  return { month, monthEnd, asOf: asOf ?? monthEnd };
}

/** An instant as ISO 8601 with the offset of the zone at that instant: 2026-04-06T07:00:03.120+02:00. */
export function isoInZone(instant: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : (parts.timeZoneName ?? 'GMT+00:00').replace('GMT', '');
  const ms = String(instant.getUTCMilliseconds()).padStart(3, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${ms}${offset}`;
}

/** Runs every report of `reports` that has a packQuery, in order, each with its query parsed by its own schema. */
export async function buildArPack(ctx: ReportContext, at: PackDate, reports: readonly ReportDefinition[], generatedAt: Date): Promise<ArPack> {
  const taken = new Set<string>(['Cover']);
  const sheets: ArPackSheet[] = [];
  const names: string[] = [];
  for (const report of reports) {
    if (!report.packQuery) continue;
    const query = report.query.parse(report.packQuery(at, ctx));
    const result = await report.run(ctx, query);
    names.push(report.name);
    for (const table of report.tables(result, ctx)) sheets.push({ sheet: sheetName(table.name, taken), report: report.name, table });
  }
  return {
    tenantId: ctx.tenantId,
    month: at.month,
    monthEnd: at.monthEnd,
    asOf: at.asOf,
    reportingCurrency: ctx.fx.reportingCurrency,
    rates: { ...ctx.fx.rates },
    generatedAt: isoInZone(generatedAt, ctx.config.timeZone),
    timeZone: ctx.config.timeZone,
    reports: names,
    sheets,
  };
}

/** The cover sheet's lines. */
export function packCover(pack: ArPack): CoverSheet {
  const rates = Object.entries(pack.rates).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    name: 'Cover',
    title: `AR pack ${pack.month}, as of ${pack.asOf}`,
    lines: [
      ['Tenant', pack.tenantId],
      ['Month', pack.month],
      ['Month end', pack.monthEnd],
      ['As of', pack.asOf],
      ['Reporting currency', pack.reportingCurrency],
      ...rates.map(([currency, rate]): [string, string] => [`FX rate ${currency}`, `1 ${currency} = ${rate} ${pack.reportingCurrency}`]),
      ['Time zone', pack.timeZone],
      ['Generated at', pack.generatedAt],
      ['Reports', pack.reports.join(', ')],
      ...pack.sheets.map((s, i): [string, string] => [`Sheet ${i + 2}`, `${s.sheet}: ${s.table.title}`]),
    ],
  };
}

/** The pack as XLSX bytes: the cover, then a sheet per table. */
export async function packToXlsx(pack: ArPack): Promise<Buffer> {
  const { buffer } = await tablesToXlsx(
    pack.sheets.map((s) => ({ ...s.table, name: s.sheet })),
    { cover: packCover(pack) },
  );
  return buffer;
}
