import ExcelJS from 'exceljs';
import type { ReportTable } from '../../domain/reports/table';
import { tablesToXlsx, tableToCsv } from '../../reports/formats';
import { check, fmt, mib, table, timed, type Bench } from './harness';

/**
 * The report formats alone (reports/formats.ts): an aging-by-customer-shaped table (2 text, 1 integer, 7 money in
 * EUR, 1 percent column) of 1,000 to 50,000 rows as CSV and as an XLSX workbook, with the workbook's size; the largest
 * workbook is read back with exceljs and its totals checked. No database: the reports' SQL is timed by their own
 * benchmarks.
 */
const SIZES = [1_000, 10_000, 50_000];

function agingLike(rows: number): ReportTable {
  const money = ['open', 'current', 'b1', 'b2', 'b3', 'b4', 'pastDue'];
  const data = Array.from({ length: rows }, (_, i) => ({
    key: `C${String(i).padStart(6, '0')}`,
    name: `Customer ${i}, "Ltd"`,
    count: 1 + (i % 17),
    ...Object.fromEntries(money.map((k, j) => [k, (i * 7919 + j * 104_729) % 10_000_000])),
    pastDuePercent: (i % 10_000) / 100,
  }));
  const totals = { key: 'Total', name: null, count: data.reduce((s, r) => s + r.count, 0), ...Object.fromEntries(money.map((k) => [k, data.reduce((s, r) => s + (r[k as keyof typeof r] as number), 0)])), pastDuePercent: null };
  return {
    name: 'Aging',
    title: `Aging of ${rows} customers, in EUR`,
    columns: [
      { key: 'key', header: 'Group', type: 'text' },
      { key: 'name', header: 'Name', type: 'text' },
      { key: 'count', header: 'Invoices', type: 'integer' },
      ...money.map((key) => ({ key, header: key, type: 'money' as const, currency: 'EUR' })),
      { key: 'pastDuePercent', header: 'Past due %', type: 'percent' },
    ],
    rows: data,
    totals,
    notes: ['generated'],
  };
}

export const bench: Bench = {
  timeoutMs: 300_000,
  async run() {
    const lines: (string | number)[][] = [['rows', 'CSV', 'CSV size', 'XLSX', 'XLSX size', 'µs/row XLSX']];
    let last: { buffer: Buffer; t: ReportTable } | undefined;
    for (const rows of SIZES) {
      const t = agingLike(rows);
      const [csv, csvMs] = await timed(() => tableToCsv(t));
      const [{ buffer }, xlsxMs] = await timed(() => tablesToXlsx([t]));
      check(csv.split('\r\n').length === rows + 3, `CSV of ${rows} rows has a header, the rows, the totals and a final CRLF`);
      lines.push([fmt(rows), `${fmt(csvMs)} ms`, mib(csv.length), `${fmt(xlsxMs)} ms`, mib(buffer.length), fmt((xlsxMs * 1000) / rows)]);
      last = { buffer, t };
    }
    table('Report formats: an aging-shaped table as CSV and XLSX', lines);
    const wb = new ExcelJS.Workbook();
    const [, readMs] = await timed(() => wb.xlsx.load(last!.buffer as never));
    const ws = wb.getWorksheet('Aging')!;
    const totalsRow = 4 + last!.t.rows.length;
    check(ws.getCell(totalsRow, 1).value === 'Total', 'the totals row follows the data');
    check(ws.getCell(totalsRow, 4).value === (last!.t.totals!.open as number) / 100, 'the totals row holds the open total in major units');
    console.log(`  read back ${fmt(last!.t.rows.length)} rows with exceljs in ${fmt(readMs)} ms; totals checked`);
  },
};
