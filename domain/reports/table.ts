/**
 * A report as a table: what CSV and XLSX are made of (api/reports/formats.ts). Each report's JSON is its own typed
 * shape; its definition turns that JSON into one or more ReportTables. Pure types.
 *
 * Cells are plain values: money in integer MINOR units (the renderer turns them into major units with the
 * currency's digits: CSV "1234.56", XLSX a number with a currency format), days as numbers with 2 decimals,
 * percentages as numbers of percent (37.25 means 37.25 %), dates as YYYY-MM-DD strings.
 */
export type ReportCell = string | number | boolean | null;

export type ReportColumnType =
  | 'text'
  | 'date'
  | 'integer'
  /** Integer minor units; the currency is the row's `currencyKey` cell, or `currency` for the whole column. */
  | 'money'
  /** Days with 2 decimals (DSO, days past due averages). */
  | 'days'
  /** Percent with 2 decimals (37.25 = 37.25 %). */
  | 'percent'
  /** Any other number (a rate, a count with decimals). */
  | 'number';

export interface ReportColumn {
  key: string;
  header: string;
  type: ReportColumnType;
  /** money: the key of the row's currency cell (per-currency rows) ... */
  currencyKey?: string;
  /** ... or the one currency of the whole column (the reporting currency). */
  currency?: string;
}

export interface ReportTable {
  /** Sheet name in a workbook (at most 31 characters, unique in the pack) and the CSV file's stem. */
  name: string;
  /** One line above the header in the workbook: what it is and as of when. */
  title: string;
  columns: ReportColumn[];
  rows: Record<string, ReportCell>[];
  /** The totals row (same keys), or null when totals make no sense (per-currency rows in several currencies). */
  totals: Record<string, ReportCell> | null;
  /** Lines under the table in the workbook (definitions, FX rates used, caveats). */
  notes?: string[];
}
