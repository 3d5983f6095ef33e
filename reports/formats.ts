import { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { minorDigits } from '../domain/money';
import type { ReportCell, ReportColumn, ReportTable } from '../domain/reports/table';

/**
 * A report's tables as files (issue 13): CSV (RFC 4180) and XLSX (exceljs). Pure apart from exceljs' own buffer
 * writing: no clock, no I/O. docs/reports-formats.md says what each format holds.
 *
 * Money cells are integer MINOR units in a ReportTable. CSV writes them as exact decimal strings in major units,
 * built from the digits (never through a float): 123456 EUR -> "1234.56", -5 EUR -> "-0.05", 1000 JPY -> "1000".
 * XLSX stores a number (major units: Excel has only doubles) with a number format naming the currency and its
 * minor digits, e.g. `#,##0.00 "EUR"`.
 */

// ---------------------------------------------------------------------------------------------------------------
// Pure parts
// ---------------------------------------------------------------------------------------------------------------

/** Integer minor units as an exact decimal string in major units: (123456, 'EUR') -> "1234.56"; (7, 'KWD') -> "0.007". */
export function minorToDecimal(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not a safe integer count of minor units: ${String(minor)}`);
  const digits = minorDigits(currency);
  const negative = minor < 0;
  const text = String(Math.abs(minor));
  if (digits === 0) return `${negative ? '-' : ''}${text}`;
  const padded = text.padStart(digits + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/** Characters Excel refuses in a sheet name. */
const SHEET_FORBIDDEN = /[[\]:*?/\\]/g;
export const SHEET_NAME_MAX = 31;

/**
 * A name Excel accepts for a sheet, unique among `taken` (compared case-insensitively, as Excel does): the forbidden
 * characters []:*?/\ become "-", leading and trailing apostrophes go, at most 31 characters, never empty nor
 * "History" (reserved); a clash gets " (2)", " (3)"... within the 31. The name is added to `taken`.
 */
export function sheetName(wanted: string, taken: Set<string>): string {
  let base = wanted.replace(SHEET_FORBIDDEN, '-').replace(/[\u0000-\u001f]/g, ' ').trim().replace(/^'+|'+$/g, '').trim();
  if (base === '' || base.toLowerCase() === 'history') base = base === '' ? 'Sheet' : `${base} report`;
  base = base.slice(0, SHEET_NAME_MAX).trim();
  const lower = new Set([...taken].map((t) => t.toLowerCase()));
  let name = base;
  for (let n = 2; lower.has(name.toLowerCase()); n++) {
    const suffix = ` (${n})`;
    name = `${base.slice(0, SHEET_NAME_MAX - suffix.length).trim()}${suffix}`;
  }
  taken.add(name);
  return name;
}

/** A file-name stem from a table or report name: "Aging by currency" -> "aging-by-currency". */
export function fileStem(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'report'
  );
}

/** The currency of a money cell: the column's own, or the row's currency cell; undefined when neither names one. */
function currencyOf(column: ReportColumn, row: Record<string, ReportCell>): string | undefined {
  if (column.currency) return column.currency;
  const cell = column.currencyKey ? row[column.currencyKey] : undefined;
  return typeof cell === 'string' && /^[A-Z]{3}$/.test(cell) ? cell : undefined;
}

/**
 * The CSV columns: the table's, plus a "Currency" column when its money columns all carry one fixed currency (the
 * reporting currency) and no row-currency column exists: the amounts are bare decimals, so the currency is kept in
 * a column of its own.
 */
function csvColumns(table: ReportTable): { columns: ReportColumn[]; fixedCurrency: string | undefined } {
  const money = table.columns.filter((c) => c.type === 'money');
  const fixed = [...new Set(money.map((c) => c.currency).filter((c): c is string => c !== undefined))];
  const rowCurrency = money.some((c) => c.currencyKey !== undefined) || table.columns.some((c) => c.key === 'currency');
  if (fixed.length === 1 && !rowCurrency) {
    return { columns: [...table.columns, { key: '\u0000currency', header: 'Currency', type: 'text' }], fixedCurrency: fixed[0] };
  }
  return { columns: table.columns, fixedCurrency: undefined };
}

/** One cell as CSV text (before quoting). */
export function csvValue(column: ReportColumn, row: Record<string, ReportCell>): string {
  const value = row[column.key];
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return value;
  switch (column.type) {
    case 'money': {
      const currency = currencyOf(column, row);
      if (!currency) throw new RangeError(`money column "${column.key}" has no currency (neither currency nor a row currency in ${column.currencyKey ?? '-'})`);
      return minorToDecimal(value, currency);
    }
    case 'days':
    case 'percent':
      // Already rounded to 2 decimals by the report: the shortest text of that double is its 2-decimal value.
      return value.toFixed(2);
    default:
      return String(value);
  }
}

/** RFC 4180 quoting: a field with a comma, quote, CR or LF is quoted, its quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The table as CSV text (RFC 4180: CRLF line ends, a header row, quoted fields where needed), UTF-8 without BOM.
 * The totals row, when the table has one, is the last record. Notes are not part of the CSV (it has no comments).
 */
export function tableToCsv(table: ReportTable): string {
  const { columns, fixedCurrency } = csvColumns(table);
  const lines = [columns.map((c) => csvField(c.header)).join(',')];
  for (const row of table.totals ? [...table.rows, table.totals] : table.rows) {
    const withCurrency = fixedCurrency ? { ...row, '\u0000currency': fixedCurrency } : row;
    lines.push(columns.map((c) => csvField(csvValue(c, withCurrency))).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The Excel number format of a money cell: `#,##0.00 "EUR"` (2 minor digits), `#,##0 "JPY"` (none). */
export function moneyFormat(currency: string): string {
  const digits = minorDigits(currency);
  return `#,##0${digits > 0 ? `.${'0'.repeat(digits)}` : ''} "${currency}"`;
}

export const NUMBER_FORMATS = {
  date: 'yyyy-mm-dd',
  integer: '#,##0',
  days: '0.00',
  percent: '0.00"%"',
  number: 'General',
} as const;

/** A YYYY-MM-DD string as the Date Excel stores (UTC midnight: exceljs writes dates as UTC serial days). */
function excelDate(text: string): Date | string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : text;
}

/** A cell's value and number format in the workbook. */
export function xlsxCell(column: ReportColumn, row: Record<string, ReportCell>): { value: ExcelJS.CellValue; numFmt?: string } {
  const value = row[column.key];
  if (value === null || value === undefined) return { value: null };
  if (typeof value === 'boolean') return { value: value ? 'yes' : 'no' };
  switch (column.type) {
    case 'money': {
      const currency = currencyOf(column, row);
      if (typeof value !== 'number' || !currency) return { value: String(value) };
      // The exact decimal read back as a double: the nearest double to the decimal amount (what Excel can hold).
      return { value: Number(minorToDecimal(value, currency)), numFmt: moneyFormat(currency) };
    }
    case 'date':
      return typeof value === 'string' ? { value: excelDate(value), numFmt: NUMBER_FORMATS.date } : { value };
    case 'integer':
    case 'days':
    case 'percent':
    case 'number':
      return typeof value === 'number' ? { value, numFmt: NUMBER_FORMATS[column.type] } : { value };
    default:
      return { value };
  }
}

/** The shown width of a cell, roughly, in characters (for the column widths). */
function shownWidth(column: ReportColumn, row: Record<string, ReportCell>): number {
  const value = row[column.key];
  if (value === null || value === undefined) return 0;
  if (column.type === 'money' && typeof value === 'number') {
    const currency = currencyOf(column, row) ?? 'XXX';
    const decimal = minorToDecimal(value, currency);
    return decimal.length + Math.floor(decimal.replace(/^-/, '').split('.')[0]!.length / 3) + 4;
  }
  if (column.type === 'date') return 10;
  if (typeof value === 'number') return (column.type === 'days' || column.type === 'percent' ? value.toFixed(2) : String(value)).length + 2;
  return String(value).length;
}

// ---------------------------------------------------------------------------------------------------------------
// Workbooks
// ---------------------------------------------------------------------------------------------------------------

/** Where a table's parts land on its sheet (1-based rows), for the readers and the tests. */
export const SHEET_LAYOUT = { titleRow: 1, headerRow: 3, firstDataRow: 4 } as const;

/** A cover sheet: a title and label/value lines (the AR pack's tenant, as-of day, rates, contents...). */
export interface CoverSheet {
  name: string;
  title: string;
  lines: [string, string | number | null][];
}

/**
 * One sheet for the table: the title in A1 (bold), the header on row 3 (bold, frozen with the rows above it), the
 * data from row 4 with an autofilter over header and data, the totals row (bold) right under the data, the notes
 * one row below that. Column widths from the longest shown value (10 to 60 characters). Rows are written in order
 * and committed, so the same code fills a streamed workbook (rows flushed as they go) and an in-memory one.
 */
function addTableSheet(workbook: ExcelJS.Workbook, table: ReportTable, name: string): void {
  const { titleRow, headerRow, firstDataRow } = SHEET_LAYOUT;
  const ws = workbook.addWorksheet(name, { views: [{ state: 'frozen', xSplit: 0, ySplit: headerRow }] });
  // Widths first: a streamed sheet writes its columns before its first row.
  const all = table.totals ? [...table.rows, table.totals] : table.rows;
  ws.columns = table.columns.map((c) => ({ width: Math.min(60, Math.max(10, Math.max(c.header.length, ...all.map((r) => shownWidth(c, r))) + 2)) }));
  const title = ws.getRow(titleRow);
  title.getCell(1).value = table.title;
  title.getCell(1).font = { bold: true, size: 13 };
  title.commit();
  const header = ws.getRow(headerRow);
  table.columns.forEach((c, i) => {
    const cell = header.getCell(i + 1);
    cell.value = c.header;
    cell.font = { bold: true };
    cell.border = { bottom: { style: 'thin' } };
    if (c.type !== 'text' && c.type !== 'date') cell.alignment = { horizontal: 'right' };
  });
  header.commit();
  const write = (rowNumber: number, data: Record<string, ReportCell>, bold: boolean) => {
    const row = ws.getRow(rowNumber);
    table.columns.forEach((c, i) => {
      const cell = row.getCell(i + 1);
      const { value, numFmt } = xlsxCell(c, data);
      cell.value = value;
      if (numFmt) cell.numFmt = numFmt;
      if (bold) {
        cell.font = { bold: true };
        cell.border = { top: { style: 'thin' } };
      }
    });
    row.commit();
  };
  table.rows.forEach((r, i) => write(firstDataRow + i, r, false));
  const lastDataRow = firstDataRow + table.rows.length - 1;
  if (table.columns.length > 0) ws.autoFilter = { from: { row: headerRow, column: 1 }, to: { row: Math.max(lastDataRow, headerRow), column: table.columns.length } };
  let next = lastDataRow + 1;
  if (table.totals) write(next++, table.totals, true);
  if (table.notes?.length) {
    next++;
    for (const note of table.notes) {
      const row = ws.getRow(next++);
      row.getCell(1).value = note;
      row.getCell(1).font = { italic: true };
      row.commit();
    }
  }
  commitSheet(ws);
}

function addCoverSheet(workbook: ExcelJS.Workbook, cover: CoverSheet, name: string): void {
  const ws = workbook.addWorksheet(name);
  ws.columns = [
    { width: Math.min(40, Math.max(12, ...cover.lines.map(([l]) => l.length + 2))) },
    { width: Math.min(100, Math.max(20, ...cover.lines.map(([, v]) => String(v ?? '').length + 2))) },
  ];
  const title = ws.getRow(1);
  title.getCell(1).value = cover.title;
  title.getCell(1).font = { bold: true, size: 14 };
  title.commit();
  cover.lines.forEach(([label, value], i) => {
    const row = ws.getRow(3 + i);
    row.getCell(1).value = label;
    row.getCell(1).font = { bold: true };
    row.getCell(2).value = value;
    row.commit();
  });
  commitSheet(ws);
}

/** A streamed sheet is written out when done (an in-memory one has no commit). */
function commitSheet(ws: ExcelJS.Worksheet): void {
  const streamed = ws as unknown as { commit?: () => void };
  if (typeof streamed.commit === 'function') streamed.commit();
}

/**
 * The tables as one workbook (XLSX bytes): an optional cover sheet first, then one sheet per table, named after the
 * table (sheetName: Excel's rules, unique). Returns the bytes and the sheet names in order. Written with exceljs'
 * streaming writer (rows flushed to the zip as they are committed) into memory.
 */
export async function tablesToXlsx(tables: readonly ReportTable[], opts: { cover?: CoverSheet; creator?: string; created?: Date } = {}): Promise<{ buffer: Buffer; sheets: string[] }> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const finished = new Promise<void>((resolve, reject) => {
    sink.on('finish', resolve);
    sink.on('error', reject);
  });
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: sink, useStyles: true, useSharedStrings: false });
  workbook.creator = opts.creator ?? 'Dunning Orchestrator';
  if (opts.created) workbook.created = opts.created;
  const taken = new Set<string>();
  const sheets: string[] = [];
  if (opts.cover) {
    const name = sheetName(opts.cover.name, taken);
    addCoverSheet(workbook, opts.cover, name);
    sheets.push(name);
  }
  for (const table of tables) {
    const name = sheetName(table.name, taken);
    addTableSheet(workbook, table, name);
    sheets.push(name);
  }
  await workbook.commit();
  await finished;
  return { buffer: Buffer.concat(chunks), sheets };
}

export const CONTENT_TYPES = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;
