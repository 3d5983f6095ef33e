import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertLedgerInvoices, type LedgerInvoice } from '../../db/ledger';
import { insertPaymentOnce } from '../../db/payments';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The report routes' formats over the real aging, DSO and CEI reports (reports/ledger.ts), through the in-process API
 * on the real PostgreSQL: JSON, CSV (parsed back with csv-parse) and XLSX (read back with exceljs, cell by cell),
 * content negotiation, bad input, a collector's scope, and the month-end AR pack.
 *
 * The portfolio (config/reporting.json: EUR reporting, 1 USD = 0.92 EUR, 1 JPY = 0.0062 EUR), as of 2026-03-31:
 *   ACME (collector col-a)  A1 EUR 100,000 minor  issued 2026-03-10 due 2026-04-09  current
 *                           A2 EUR  50,000        issued 2026-01-05 due 2026-02-04  ERP paid 20,000 on 03-20 -> open 30,000,
 *                                                 55 days past due (24 + 31) -> 31-60
 *   BETA (collector col-b)  B1 USD  40,000        issued 2025-11-15 due 2025-12-15  106 days (16 + 31 + 28 + 31) -> 91+
 *                           B2 JPY 123,456 (yen)  issued 2026-02-01 due 2026-03-01  30 days -> 1-30
 * In EUR (each currency converted once, half-even): USD 40,000 * 0.92 = 36,800; JPY 123,456 yen * 0.0062 = 765.4272 EUR
 *   = 76,542.72 cents -> 76,543.
 *   ACME: open 130,000, current 100,000, 31-60 30,000, past due 30,000, 30,000 / 130,000 = 23.0769 % -> 23.08
 *   BETA: open 36,800 + 76,543 = 113,343, 1-30 76,543, 91+ 36,800, past due 113,343 -> 100.00 %
 *   Total: 4 invoices, open 243,343, current 100,000, 1-30 76,543, 31-60 30,000, 61-90 0, 91+ 36,800,
 *          past due 143,343, 143,343 / 243,343 = 58.9057 % -> 58.91
 */
const tenantId = `fmt-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let manager: Record<string, string>;
let collectorA: Record<string, string>;

const ledgerRow = (invoiceNumber: string, customerId: string, currency: string, amountMinor: number, issueDate: string, dueDate: string): LedgerInvoice => ({
  invoiceNumber,
  customerId,
  currency,
  amountMinor,
  openAmountMinor: amountMinor,
  status: 'open',
  issueDate,
  dueDate,
  settledDate: null,
  rebillOf: null,
  disputed: false,
});

beforeAll(async () => {
  t = await startTestApp(tenantId);
  const { sql } = t;
  manager = (await userWithToken(sql, tenantId, { userId: 'mgr', role: 'ar_manager' })).headers;
  collectorA = (await userWithToken(sql, tenantId, { userId: 'col-a', role: 'collector' })).headers;
  await userWithToken(sql, tenantId, { userId: 'col-b', role: 'collector' });
  await sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale, collector_id, segment) values
            (${tenantId}, 'ACME', 'Acme GmbH', 'ap@acme.example', 'Europe/Berlin', 'de-DE', 'col-a', 'strategic'),
            (${tenantId}, 'BETA', 'Beta, "the" Ltd', 'ap@beta.example', 'Europe/London', 'en-GB', 'col-b', 'standard')`;
  await upsertLedgerInvoices(
    sql,
    tenantId,
    [
      ledgerRow('A1', 'ACME', 'EUR', 100_000, '2026-03-10', '2026-04-09'),
      ledgerRow('A2', 'ACME', 'EUR', 50_000, '2026-01-05', '2026-02-04'),
      ledgerRow('B1', 'BETA', 'USD', 40_000, '2025-11-15', '2025-12-15'),
      ledgerRow('B2', 'BETA', 'JPY', 123_456, '2026-02-01', '2026-03-01'),
    ],
    { source: 'import' },
  );
  await insertPaymentOnce(sql, { tenantId, paymentId: 'P-A2', invoiceNumber: 'A2', amountMinor: 20_000, currency: 'EUR', receivedAt: '2026-03-20T10:00:00Z', source: 'erp_webhook' });
});
afterAll(async () => {
  await t?.close();
});

const get = (url: string, headers: Record<string, string>) => t.app.inject({ method: 'GET', url, headers });
const workbookOf = async (body: Buffer) => {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(body as never);
  return wb;
};
const rowsOf = (csv: string) => parse(csv, { columns: true, skip_empty_lines: true }) as Record<string, string>[];

describe('a report as JSON, CSV and XLSX', () => {
  it('lists the reports with their paths and formats', async () => {
    const res = await get('/reports', manager);
    expect(res.statusCode).toBe(200);
    const list = res.json() as { reports: { name: string; path: string; formats: string[]; inArPack: boolean }[]; arPack: { path: string } };
    expect(list.reports.map((r) => r.name)).toEqual(expect.arrayContaining(['aging', 'dso', 'cei']));
    expect(list.reports.find((r) => r.name === 'aging')).toMatchObject({ path: '/reports/aging', formats: ['json', 'csv', 'xlsx'], inArPack: true });
    expect(list.arPack.path).toBe('/reports/ar-pack');
  });

  it('gives the aging as JSON by default', async () => {
    const res = await get('/reports/aging?asOf=2026-03-31', manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json() as { total: { openMinor: number; pastDuePercent: number }; groups: { key: string; openMinor: number }[] };
    expect(body.total).toMatchObject({ openMinor: 243_343, pastDuePercent: 58.91 });
    expect(body.groups.map((g) => [g.key, g.openMinor])).toEqual([
      ['ACME', 130_000],
      ['BETA', 113_343],
    ]);
  });

  it('gives CSV for ?format=csv and for Accept: text/csv, with values equal to the JSON', async () => {
    const json = (await get('/reports/aging?asOf=2026-03-31', manager)).json() as {
      total: { count: number; openMinor: number; pastDueMinor: number; pastDuePercent: number; buckets: Record<string, number> };
      groups: { key: string; name: string; count: number; openMinor: number; pastDueMinor: number; pastDuePercent: number; buckets: Record<string, number> }[];
    };
    const byQuery = await get('/reports/aging?asOf=2026-03-31&format=csv', manager);
    const byAccept = await get('/reports/aging?asOf=2026-03-31', { ...manager, accept: 'text/csv' });
    for (const res of [byQuery, byAccept]) {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toBe('attachment; filename="aging-2026-03-31.csv"');
    }
    expect(byAccept.body).toBe(byQuery.body);
    // RFC 4180: CRLF line ends, the name with a comma and quotes quoted with its quotes doubled.
    expect(byQuery.body.split('\r\n')[0]).toBe('Group,Name,Invoices,Open (EUR),current,1-30,31-60,61-90,91+,Past due,Past due %,Currency');
    expect(byQuery.body).toContain('BETA,"Beta, ""the"" Ltd",2,');
    const rows = rowsOf(byQuery.body);
    expect(rows).toHaveLength(3); // two groups and the totals row
    // Hand-computed (see the top): decimal strings in major units, 2 digits for EUR.
    expect(rows[0]).toEqual({
      Group: 'ACME', Name: 'Acme GmbH', Invoices: '2', 'Open (EUR)': '1300.00', current: '1000.00', '1-30': '0.00', '31-60': '300.00', '61-90': '0.00', '91+': '0.00',
      'Past due': '300.00', 'Past due %': '23.08', Currency: 'EUR',
    });
    expect(rows[2]).toMatchObject({ Group: 'Total', Name: '', Invoices: '4', 'Open (EUR)': '2433.43', '1-30': '765.43', '91+': '368.00', 'Past due': '1433.43', 'Past due %': '58.91' });
    // And each value equals the JSON's (minor units = the decimal's digits without the point).
    const lines = [...json.groups.map((g) => ({ key: g.key, l: g })), { key: 'Total', l: json.total }];
    lines.forEach(({ key, l }, i) => {
      const row = rows[i]!;
      expect(row.Group).toBe(key);
      expect(Number(row.Invoices)).toBe(l.count);
      expect(Number(row['Open (EUR)']!.replace('.', ''))).toBe(l.openMinor);
      expect(Number(row['Past due']!.replace('.', ''))).toBe(l.pastDueMinor);
      for (const b of ['current', '1-30', '31-60', '61-90', '91+']) expect(Number(row[b]!.replace('.', ''))).toBe(l.buckets[b]);
      expect(Number(row['Past due %'])).toBe(l.pastDuePercent);
    });
  });

  it('picks a table for CSV with ?table= (per currency: minor digits of each currency, no totals)', async () => {
    const res = await get('/reports/aging?asOf=2026-03-31&format=csv&table=aging-by-currency', manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="aging-aging-by-currency-2026-03-31.csv"');
    const rows = rowsOf(res.body);
    const byCurrency = Object.fromEntries(rows.map((r) => [r.Currency, r]));
    expect(Object.keys(byCurrency).sort()).toEqual(['EUR', 'JPY', 'USD']);
    expect(byCurrency.JPY).toMatchObject({ Invoices: '1', Open: '123456', '1-30': '123456', 'Past due %': '100.00' }); // yen: no minor digits
    expect(byCurrency.USD).toMatchObject({ Open: '400.00', '91+': '400.00' });
    expect(byCurrency.EUR).toMatchObject({ Open: '1300.00', current: '1000.00', '31-60': '300.00', 'Past due %': '23.08' });
  });

  it('refuses a bad format, a bad table and a bad date with 400', async () => {
    const badFormat = await get('/reports/aging?format=pdf', manager);
    expect(badFormat.statusCode).toBe(400);
    expect(badFormat.json()).toMatchObject({ error: 'validation_failed' });
    expect(JSON.stringify(badFormat.json())).toContain('format');
    const badTable = await get('/reports/aging?format=csv&table=nope', manager);
    expect(badTable.statusCode).toBe(400);
    expect(badTable.json()).toMatchObject({ error: 'validation_failed' });
    expect((badTable.json() as { message: string }).message).toContain('Aging by currency');
    expect((await get('/reports/aging?asOf=2026-02-30', manager)).statusCode).toBe(400);
    expect((await get('/reports/aging', {})).statusCode).toBe(401);
  });

  it('gives a workbook for ?format=xlsx, checked cell by cell', async () => {
    const res = await get('/reports/aging?asOf=2026-03-31&format=xlsx', manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers['content-disposition']).toBe('attachment; filename="aging-2026-03-31.xlsx"');
    const wb = await workbookOf(res.rawPayload);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Aging', 'Aging by currency', 'Aging by group and currency']);
    const ws = wb.getWorksheet('Aging')!;
    expect(ws.getCell('A1').value).toBe('Aging as of 2026-03-31, in EUR');
    expect(ws.getCell('A1').font?.bold).toBe(true);
    // Header on row 3, frozen with the rows above; autofilter over header and the two data rows.
    expect((ws.getRow(3).values as unknown[]).slice(1)).toEqual(['Group', 'Name', 'Invoices', 'Open (EUR)', 'current', '1-30', '31-60', '61-90', '91+', 'Past due', 'Past due %']);
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 3 });
    expect(ws.autoFilter).toBe('A3:K5');
    // Data: ACME on row 4; money as numbers in major units with the currency's format.
    expect(ws.getCell('A4').value).toBe('ACME');
    expect(ws.getCell('C4').value).toBe(2);
    expect(ws.getCell('C4').numFmt).toBe('#,##0');
    expect(ws.getCell('D4').value).toBe(1300);
    expect(ws.getCell('D4').numFmt).toBe('#,##0.00 "EUR"');
    expect(ws.getCell('G4').value).toBe(300);
    expect(ws.getCell('K4').value).toBe(23.08);
    expect(ws.getCell('K4').numFmt).toBe('0.00"%"');
    expect(ws.getCell('B5').value).toBe('Beta, "the" Ltd');
    expect(ws.getCell('D5').value).toBe(1133.43);
    // Totals on row 6, bold.
    expect(ws.getCell('A6').value).toBe('Total');
    expect(ws.getCell('D6').value).toBe(2433.43);
    expect(ws.getCell('D6').font?.bold).toBe(true);
    expect(ws.getCell('F6').value).toBe(765.43);
    expect(ws.getCell('K6').value).toBe(58.91);
    // Notes one row under the totals.
    expect(String(ws.getCell('A8').value)).toMatch(/^Open at the as-of day/);
    expect(ws.getColumn(2).width).toBeGreaterThanOrEqual('Beta, "the" Ltd'.length);
    // Per currency: the yen amount with no decimals and its own format.
    const cur = wb.getWorksheet('Aging by currency')!;
    const jpyRow = [4, 5, 6].find((r) => cur.getCell(r, 1).value === 'JPY')!;
    expect(cur.getCell(jpyRow, 3).value).toBe(123_456);
    expect(cur.getCell(jpyRow, 3).numFmt).toBe('#,##0 "JPY"');
  });

  it('scopes a collector to their portfolio in every format', async () => {
    const json = (await get('/reports/aging?asOf=2026-03-31', collectorA)).json() as { total: { openMinor: number }; groups: { key: string }[] };
    expect(json.groups.map((g) => g.key)).toEqual(['ACME']);
    expect(json.total.openMinor).toBe(130_000);
    const rows = rowsOf((await get('/reports/aging?asOf=2026-03-31&format=csv', collectorA)).body);
    expect(rows.map((r) => r.Group)).toEqual(['ACME', 'Total']);
    expect(rows[1]!['Open (EUR)']).toBe('1300.00');
  });

  it('documents each report with its formats in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, { get: { parameters: { name: string }[]; responses: Record<string, { content: Record<string, unknown> }> } }>;
    };
    const aging = doc.paths['/reports/aging']!.get;
    expect(aging.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['asOf', 'groupBy', 'currency', 'format', 'table']));
    expect(Object.keys(aging.responses['200']!.content)).toEqual(
      expect.arrayContaining(['application/json', 'text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']),
    );
    expect(doc.paths['/reports/ar-pack']).toBeDefined();
    expect(doc.paths['/reports']).toBeDefined();
  });
});

describe('every report', () => {
  it('gives each of its tables as CSV, and all of them as XLSX, with the JSON’s row counts', async () => {
    const list = (await get('/reports', manager)).json() as { reports: { name: string; path: string | null }[] };
    let checked = 0;
    for (const report of list.reports) {
      if (report.path === null) continue;
      const xlsx = await get(`${report.path}?format=xlsx`, manager);
      expect(xlsx.statusCode, `${report.name} as XLSX`).toBe(200);
      const wb = await workbookOf(xlsx.rawPayload);
      for (const ws of wb.worksheets) {
        const csv = await get(`${report.path}?format=csv&table=${encodeURIComponent(ws.name)}`, manager);
        expect(csv.statusCode, `${report.name} table ${ws.name} as CSV`).toBe(200);
        // The sheet's header row is the CSV's first line (the CSV may add its Currency column at the end).
        const header = (ws.getRow(3).values as unknown[]).slice(1).map(String);
        const csvHeader = (parse(csv.body, { to_line: 1 }) as string[][])[0]!;
        expect(csvHeader.slice(0, header.length)).toEqual(header);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6); // aging 3, DSO 2, CEI 1, and the activity reports' tables
  });
});

describe('the month-end AR pack', () => {
  it('puts a cover and every pack report into one workbook', async () => {
    const res = await get('/reports/ar-pack?month=2026-03', manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="ar-pack-2026-03.xlsx"');
    const wb = await workbookOf(res.rawPayload);
    const names = wb.worksheets.map((w) => w.name);
    expect(names[0]).toBe('Cover');
    expect(names).toEqual(expect.arrayContaining(['Aging', 'Aging by currency', 'DSO', 'DSO count-back', 'CEI']));
    for (const n of names) expect(n.length).toBeLessThanOrEqual(31);
    expect(new Set(names).size).toBe(names.length);
    const cover = wb.getWorksheet('Cover')!;
    const coverLines = Object.fromEntries(
      Array.from({ length: cover.rowCount }, (_, i) => cover.getRow(i + 1)).map((r) => [String(r.getCell(1).value ?? ''), r.getCell(2).value]),
    );
    expect(coverLines).toMatchObject({ Tenant: tenantId, Month: '2026-03', 'As of': '2026-03-31', 'Reporting currency': 'EUR', 'FX rate USD': '1 USD = 0.9200 EUR', 'FX rate JPY': '1 JPY = 0.0062 EUR' });
    expect(String(coverLines['Generated at'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
    // The aging as of the month end: the same totals as above.
    const aging = wb.getWorksheet('Aging')!;
    expect(aging.getCell('A6').value).toBe('Total');
    expect(aging.getCell('D6').value).toBe(2433.43);
    // DSO at 2026-03-31: open AR 243,343. Count-back (sales by issue month, in EUR): March A1 100,000 -> 31 days, left
    // 143,343; February B2 76,543 -> 28 days, left 66,800; January A2 50,000 -> 31 days, left 16,800; December no
    // sales -> 31 days; November B1 36,800 > 16,800 -> 30 * 16,800 / 36,800 = 13.6957. Sum 134.6957 -> 134.70.
    const dso = wb.getWorksheet('DSO')!;
    const header = (dso.getRow(3).values as unknown[]).slice(1);
    const col = (h: string) => header.indexOf(h) + 1;
    expect(dso.getCell(4, col('Open AR')).value).toBe(2433.43);
    expect(dso.getCell(4, col('Open AR')).numFmt).toBe('#,##0.00 "EUR"');
    expect(dso.getCell(4, col('DSO (count-back)')).value).toBe(134.7);
    expect(dso.getCell(4, col('DSO (count-back)')).numFmt).toBe('0.00');
    // A date column is a real Excel date.
    expect(dso.getCell(4, col('As of')).value).toEqual(new Date(Date.UTC(2026, 2, 31)));
    expect(dso.getCell(4, col('As of')).numFmt).toBe('yyyy-mm-dd');
  });

  it('gives the same tables as JSON', async () => {
    const res = await get('/reports/ar-pack?month=2026-03&format=json', manager);
    expect(res.statusCode).toBe(200);
    const pack = res.json() as { asOf: string; reports: string[]; sheets: { sheet: string; report: string; table: { totals: Record<string, unknown> | null } }[] };
    expect(pack.asOf).toBe('2026-03-31');
    expect(pack.reports).toEqual(expect.arrayContaining(['aging', 'dso', 'cei']));
    expect(pack.sheets.find((s) => s.sheet === 'Aging')!.table.totals).toMatchObject({ key: 'Total', open: 243_343 });
    expect((await get('/reports/ar-pack?month=2026-13', manager)).statusCode).toBe(400);
    expect((await get('/reports/ar-pack?format=csv', manager)).statusCode).toBe(400);
  });
});
