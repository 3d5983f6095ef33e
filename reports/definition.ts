import { z } from 'zod';
import type { Sql } from '../db/sql';
import type { FxTable } from '../domain/fx';
import type { ReportsConfig } from '../domain/reports/config';
import type { ReportTable } from '../domain/reports/table';
import { dateSchema } from '../domain/dates';

/**
 * The contract every report implements (issue 13). A report is a definition: its querystring, its JSON response,
 * how it runs (SQL over ar_items / ar_postings and the work tables, never the ledger loaded into Node), and how its
 * JSON becomes tables for CSV and XLSX. api/routes/reports.ts mounts each at GET /reports/<name> and adds the
 * formats (`?format=json|csv|xlsx`, or `Accept: text/csv`); the month-end AR pack runs every report with a
 * `packQuery` into one workbook.
 */
export interface ReportContext {
  sql: Sql;
  tenantId: string;
  /**
   * A collector's (and team member's) reports cover their portfolio only: the customers whose
   * customers.collector_id is this user. undefined: every customer (team leads, AR managers, admins).
   */
  collectorId: string | undefined;
  /** The reporting currency and the rates into it (config/reporting.json). */
  fx: FxTable;
  /** Time zone, aging buckets, count-back lookback (config/reports.json). */
  config: ReportsConfig;
  /** Today in the reporting zone (YYYY-MM-DD): the default asOf. */
  today: string;
}

// z.ZodType<any> keeps each definition's own query and result types while a list holds them all.
export interface ReportDefinition<Q extends z.ZodType<any> = z.ZodType<any>, R = any> {
  /** The URL segment: GET /reports/<name>. */
  name: string;
  summary: string;
  /** Definitions and formulas, shown in the OpenAPI document. */
  description: string;
  /** The querystring (without `format`, which the route adds); each field optional or defaulted. */
  query: Q;
  /** The JSON response. */
  response: z.ZodType<R>;
  run(ctx: ReportContext, query: z.infer<Q>): Promise<R>;
  /** The result as tables for CSV (the first table; `?table=<name>` picks another) and XLSX (one sheet each). */
  tables(result: R, ctx: ReportContext): ReportTable[];
  /**
   * In the AR pack: this report's query. `month` (YYYY-MM) is the pack's month and `monthEnd` its last day; `asOf` is
   * the day of point-in-time reports (aging, forecast): `monthEnd` for the month-end pack, today for the weekly one.
   * Absent: not in the pack.
   */
  packQuery?(at: PackDate, ctx: ReportContext): z.input<Q>;
}

export interface PackDate {
  month: string;
  monthEnd: string;
  asOf: string;
}

/** Shared query fields. */
export const asOfQuery = dateSchema.optional().describe('the day the report is as of (YYYY-MM-DD, reporting zone); default today');
export const monthQuery = z
  .string()
  .regex(/^(20\d\d|2100)-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM')
  .describe('a calendar month, YYYY-MM');
export const periodQuery = {
  from: dateSchema.optional().describe('first day of the period (YYYY-MM-DD, inclusive)'),
  to: dateSchema.optional().describe('last day of the period (YYYY-MM-DD, inclusive); default today'),
};

/** A list of report definitions whose types stay checked where each is written. */
export const defineReport = <Q extends z.ZodType<object>, R>(d: ReportDefinition<Q, R>): ReportDefinition<Q, R> => d;
