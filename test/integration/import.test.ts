import { mkdtempSync, rmSync, writeFileSync, readFileSync, truncateSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { importJob, importReport } from '../../db/imports';
import { ledgerInvoice, upsertLedgerInvoices } from '../../db/ledger';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { createImport, runImport, type ImportRequest } from '../../integrations/import/importer';
import { AR_SAMPLE_PATH, hasArSample } from '../support/ar-sample';

/**
 * The importer against the real PostgreSQL: every preset's fixture stored in the ledger, re-imports that change
 * nothing, a changed amount that updates, malformed files answered row by row with nothing half-stored, XLSX
 * through exceljs' streaming reader (and a truncated one), the ERP's word winning with an ERP connected.
 */

const fixture = (name: string) => path.join(__dirname, '../fixtures/imports', name);
let sql: Sql;
let dir: string;
let n = 0;
const tenant = () => `imp-${process.pid}-${++n}`;

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 4 });
  await migrate(sql);
  dir = mkdtempSync(path.join(os.tmpdir(), 'import-test-'));
});
afterAll(async () => {
  await sql.end();
  rmSync(dir, { recursive: true, force: true });
});

async function importFile(tenantId: string, filePath: string, opts: Partial<ImportRequest> = {}) {
  const req: ImportRequest = { tenantId, filePath, fileName: path.basename(filePath), mode: 'all_or_nothing', requestedBy: 'tester', erpKind: 'ledger', ...opts };
  const id = await createImport(sql, req);
  return runImport(sql, id, req);
}

const ledgerCount = async (tenantId: string) => (await sql<{ n: number }[]>`select count(*)::int as n from ledger_invoices where tenant_id = ${tenantId}`)[0]!.n;

describe('presets into the ledger', () => {
  it('own template: created, then unchanged on re-import, then a changed amount updates', async () => {
    const t = tenant();
    const first = await importFile(t, fixture('own.csv'));
    expect(first).toMatchObject({ status: 'succeeded', stored: true, preset: 'own', created: 4, updated: 0, unchanged: 0, rejected: 0, customersWritten: 3 });
    expect(await ledgerInvoice(sql, t, 'INV-1003')).toMatchObject({ status: 'paid', open_amount_minor: 0, settled_date: '2026-09-28', source: 'import', currency: 'GBP' });
    const [customer] = await sql`select name, email, country from ledger_customers where tenant_id = ${t} and customer_id = 'C-ACME'`;
    expect(customer).toEqual({ name: 'Acme GmbH', email: 'ap@acme.example', country: 'DE' });
    const seqBefore = (await ledgerInvoice(sql, t, 'INV-1001'))!.change_seq;

    const again = await importFile(t, fixture('own.csv'));
    expect(again).toMatchObject({ status: 'succeeded', created: 0, updated: 0, unchanged: 4, customersWritten: 0 });
    expect((await ledgerInvoice(sql, t, 'INV-1001'))!.change_seq).toBe(seqBefore);

    const changed = path.join(dir, 'own-changed.csv');
    writeFileSync(changed, readFileSync(fixture('own.csv'), 'utf8').replace('INV-1001,C-ACME,Acme GmbH,ap@acme.example,DE,EUR,1234.50,1234.50', 'INV-1001,C-ACME,Acme GmbH,ap@acme.example,DE,EUR,1234.50,234.50'));
    const third = await importFile(t, changed);
    expect(third).toMatchObject({ created: 0, updated: 1, unchanged: 3 });
    const report = await importReport(sql, third.importId, { limit: 10 });
    expect(report.map((r) => [r.rowNumber, r.outcome])).toEqual([[2, 'updated'], [3, 'unchanged'], [4, 'unchanged'], [5, 'unchanged']]);
    expect((await ledgerInvoice(sql, t, 'INV-1001'))!).toMatchObject({ open_amount_minor: 23450 });
    expect((await ledgerInvoice(sql, t, 'INV-1001'))!.change_seq).toBeGreaterThan(seqBefore);
  });

  it('SAP FBL5N, QuickBooks aging and the IBM sample, detected from their headers', async () => {
    const t = tenant();
    expect(await importFile(t, fixture('sap-fbl5n.csv'))).toMatchObject({ preset: 'sap-fbl5n', created: 3, stored: true });
    expect(await ledgerInvoice(sql, t, '1800001235')).toMatchObject({ status: 'paid', settled_date: '2026-10-20', amount_minor: 1200000 });
    const qb = await importFile(t, fixture('quickbooks-aging.csv'));
    expect(qb).toMatchObject({ preset: 'quickbooks-aging', created: 2, skipped: 1, rejected: 0, stored: true });
    expect(await ledgerInvoice(sql, t, '1036')).toMatchObject({ currency: 'USD', open_amount_minor: 137750, amount_minor: 147750 });
    const ibm = await importFile(t, fixture('ibm-ar.csv'));
    expect(ibm).toMatchObject({ preset: 'ibm-ar', created: 20, stored: true });
    // History is kept: paid invoices with their settlement dates.
    expect(await ledgerInvoice(sql, t, '0000611365')).toMatchObject({ status: 'paid', settled_date: '2013-01-15', due_date: '2013-02-01', amount_minor: 5594 });
  });

  it.skipIf(!hasArSample)("IBM's whole sample: 2,466 paid invoices of 100 customers, their history kept", async () => {
    const t = tenant();
    expect(await importFile(t, AR_SAMPLE_PATH)).toMatchObject({ preset: 'ibm-ar', status: 'succeeded', created: 2466, rejected: 0, skipped: 0, customersWritten: 100 });
    const [sum] = await sql`
      select count(*)::int as n, count(*) filter (where status = 'paid' and settled_date is not null)::int as paid
      from ledger_invoices where tenant_id = ${t}`;
    expect(sum).toMatchObject({ n: 2466, paid: 2466 });
  });

  it('a custom mapping', async () => {
    const t = tenant();
    const mapping = JSON.parse(readFileSync(fixture('custom-mapping.json'), 'utf8')) as ImportRequest['mapping'];
    expect(await importFile(t, fixture('custom.csv'), { mapping })).toMatchObject({ preset: 'custom', created: 2, stored: true });
    expect(await ledgerInvoice(sql, t, 'A-1')).toMatchObject({ currency: 'CHF', amount_minor: 100000, due_date: '2026-12-03' });
  });
});

describe('malformed files', () => {
  it('all or nothing: a bad file stores nothing and reports each row with its column and reason', async () => {
    const t = tenant();
    const r = await importFile(t, fixture('bad-rows.csv'));
    expect(r).toMatchObject({ status: 'failed', stored: false, rejected: 6, skipped: 1, created: 2 });
    expect(r.error).toMatch(/^6 row\(s\) rejected: nothing stored/);
    expect(await ledgerCount(t)).toBe(0);
    expect(await sql`select 1 from ledger_customers where tenant_id = ${t}`).toHaveLength(0);
    const job = await importJob(sql, t, r.importId);
    expect(job).toMatchObject({ status: 'failed', stored: false, phase: 'done', rejected: 6 });
    const rejected = await importReport(sql, r.importId, { outcome: 'rejected', limit: 50 });
    expect(rejected.map((x) => [x.rowNumber, x.issues[0]!.column, x.issues[0]!.reason])).toEqual([
      [3, 'issue_date', 'not a calendar date: "2026-02-30"'],
      [4, 'amount', expect.stringMatching(/^negative amount/)],
      [5, 'amount', expect.stringMatching(/^not an amount: "abc"/)],
      [6, 'currency', expect.stringMatching(/^unknown currency "XYZ"/)],
      [7, 'invoice_number', 'invoice B-6 appears on rows 7, 8 with different data'],
      [8, 'invoice_number', 'invoice B-6 appears on rows 7, 8 with different data'],
    ]);
    const [dup] = await importReport(sql, r.importId, { outcome: 'skipped', limit: 5 });
    expect(dup).toMatchObject({ rowNumber: 10, invoiceNumber: 'B-7', issues: [{ reason: 'the same as row 9: counted once' }] });
  });

  it('keep_good: the good rows are stored, the rejected ones kept with their cells', async () => {
    const t = tenant();
    const r = await importFile(t, fixture('bad-rows.csv'), { mode: 'keep_good' });
    expect(r).toMatchObject({ status: 'succeeded', stored: true, rejected: 6, created: 2 });
    expect((await sql<{ invoice_number: string }[]>`select invoice_number from ledger_invoices where tenant_id = ${t} order by 1`).map((x) => x.invoice_number)).toEqual(['B-1', 'B-7']);
    const [row] = await sql`select cells from import_rows where import_id = ${r.importId} and row_number = 5`;
    expect(row!.cells).toEqual(['B-4', 'C-1', '', '', 'DE', 'EUR', 'abc', '', '2026-10-01', '2026-10-31', '', '', '', '']);
  });

  it('dry run: says what would be created and stores nothing', async () => {
    const t = tenant();
    const r = await importFile(t, fixture('own.csv'), { mode: 'dry_run' });
    expect(r).toMatchObject({ status: 'succeeded', stored: false, created: 4 });
    expect(await ledgerCount(t)).toBe(0);
  });

  it('a CSV that cannot be parsed (an unclosed quote) fails the import and stores nothing', async () => {
    const t = tenant();
    const file = path.join(dir, 'unclosed.csv');
    writeFileSync(file, `${readFileSync(fixture('own.csv'), 'utf8')}INV-9,C-9,"Unclosed,,,EUR,1.00,,2026-01-01,2026-02-01,,,,\n`);
    const r = await importFile(t, file);
    expect(r).toMatchObject({ status: 'failed', stored: false });
    expect(r.error).toMatch(/^the CSV cannot be read: .*quote/i);
    expect(await ledgerCount(t)).toBe(0);
  });

  it('NUL characters (which PostgreSQL cannot store) in a rejected row and in a column no field reads', async () => {
    const t = tenant();
    const file = path.join(dir, 'nul.csv');
    writeFileSync(file, 'invoice_number,customer_id,customer_name,currency,amount,issue_date,due_date,note\nN-1,C-1,Bad\u0000Name,EUR,1.00,2026-01-01,2026-02-01,x\nN-2,C-1,Good,EUR,2.00,2026-01-01,2026-02-01,a\u0000b\n');
    const r = await importFile(t, file, { mode: 'keep_good' });
    expect(r).toMatchObject({ status: 'succeeded', stored: true, created: 1, rejected: 1 });
    const [rejected] = await importReport(sql, r.importId, { outcome: 'rejected', limit: 1 });
    expect(rejected).toMatchObject({ rowNumber: 2, issues: [{ column: 'customer_name', reason: 'customer name contains control characters' }] });
  });

  it('wrong columns: refused with what the presets expect', async () => {
    const t = tenant();
    const r = await importFile(t, fixture('wrong-columns.csv'));
    expect(r).toMatchObject({ status: 'failed', stored: false });
    expect(r.error).toMatch(/no preset recognises the file's header/);
  });
});

async function writeXlsx(file: string, rows: (string | number | Date)[][]) {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Export');
  for (const r of rows) ws.addRow(r);
  await wb.xlsx.writeFile(file);
}

describe('XLSX', () => {
  it('own template and SAP FBL5N from workbooks: date cells, numeric amounts', async () => {
    const t = tenant();
    const own = path.join(dir, 'own.xlsx');
    await writeXlsx(own, [
      ['invoice_number', 'customer_id', 'customer_name', 'currency', 'amount', 'issue_date', 'due_date'],
      ['X-1', 'C-9', 'Nine Inc', 'USD', 1234.56, new Date(Date.UTC(2026, 9, 1)), new Date(Date.UTC(2026, 9, 31))],
      [1002, 'C-9', 'Nine Inc', 'USD', '99.90', '2026-10-02', '2026-11-01'],
    ]);
    expect(await importFile(t, own)).toMatchObject({ preset: 'own', created: 2, stored: true });
    expect(await ledgerInvoice(sql, t, 'X-1')).toMatchObject({ amount_minor: 123456, issue_date: '2026-10-01', due_date: '2026-10-31' });
    expect(await ledgerInvoice(sql, t, '1002')).toMatchObject({ amount_minor: 9990 });

    const sap = path.join(dir, 'fbl5n.xlsx');
    await writeXlsx(sap, [
      ['Account', 'Document Number', 'Document Date', 'Net due date', 'Amount in local currency', 'Local Currency', 'Clearing Document', 'Clearing date'],
      ['100234', '1800009999', new Date(Date.UTC(2026, 0, 15)), '14.02.2026', 2500.5, 'EUR', '', ''],
      ['100234', '1800009998', '15.01.2026', '14.02.2026', '1.000,00', 'EUR', '1400000001', '10.02.2026'],
    ]);
    expect(await importFile(t, sap, { preset: 'sap-fbl5n' })).toMatchObject({ preset: 'sap-fbl5n', created: 2, stored: true });
    expect(await ledgerInvoice(sql, t, '1800009999')).toMatchObject({ amount_minor: 250050, issue_date: '2026-01-15', status: 'open' });
    expect(await ledgerInvoice(sql, t, '1800009998')).toMatchObject({ amount_minor: 100000, status: 'paid', settled_date: '2026-02-10' });
  });

  it('a truncated workbook fails the import and stores nothing', async () => {
    const t = tenant();
    const file = path.join(dir, 'truncated.xlsx');
    await writeXlsx(file, [['invoice_number', 'customer_id', 'currency', 'amount', 'issue_date', 'due_date'], ...Array.from({ length: 2000 }, (_, i) => [`T-${i}`, 'C', 'EUR', 10, '2026-01-01', '2026-02-01'])]);
    truncateSync(file, Math.floor(statSync(file).size * 0.6));
    const r = await importFile(t, file);
    expect(r).toMatchObject({ status: 'failed', stored: false });
    expect(r.error).toMatch(/the XLSX cannot be read|the XLSX has no worksheet/);
    expect(await ledgerCount(t)).toBe(0);
  });
});

describe('with an ERP connected', () => {
  it("the ERP's rows are not overwritten: reported as skipped", async () => {
    const t = tenant();
    await upsertLedgerInvoices(sql, t, [{ invoiceNumber: 'INV-1001', customerId: 'C-ACME', currency: 'EUR', amountMinor: 1, openAmountMinor: 1, status: 'open', issueDate: '2026-10-01', dueDate: '2026-10-31', settledDate: null, rebillOf: null, disputed: false }], { source: 'erp', erp: new Map([['INV-1001', { erpId: '7', changedAt: '2026-10-02T00:00:00Z' }]]) });
    const r = await importFile(t, fixture('own.csv'), { erpKind: 'simulator' });
    expect(r).toMatchObject({ stored: true, created: 3, skipped: 1 });
    expect(await ledgerInvoice(sql, t, 'INV-1001')).toMatchObject({ amount_minor: 1, source: 'erp' });
    const [skip] = await importReport(sql, r.importId, { outcome: 'skipped', limit: 1 });
    expect(skip!.issues[0]!.reason).toBe(
      'the ERP (simulator) holds this invoice and its word wins: not overwritten by an import; the file differs: amount 1 in the ERP, 123450 in the file, open amount 1 in the ERP, 123450 in the file',
    );
  });
});

describe('100k rows', () => {
  it('stream through the import with bounded memory', { timeout: 180_000 }, async () => {
    const t = tenant();
    const file = path.join(dir, 'big.csv');
    const lines = ['invoice_number,customer_id,currency,amount,issue_date,due_date'];
    for (let i = 0; i < 100_000; i++) lines.push(`BIG-${i},C-${i % 500},EUR,${(i % 9000) + 10}.${String(i % 100).padStart(2, '0')},2026-10-01,2026-10-31`);
    writeFileSync(file, lines.join('\n'));
    lines.length = 0;
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const r = await importFile(t, file);
    clearInterval(sampler);
    expect(r).toMatchObject({ status: 'succeeded', stored: true, created: 100_000, rejected: 0 });
    expect(await ledgerCount(t)).toBe(100_000);
    // The file is ~5 MB; 100k parsed rows held at once would be well over 100 MB. Loose: the process grows by less than 150 MiB.
    expect(peak - base).toBeLessThan(150 * 2 ** 20);
    console.log(`100k rows: ${r.seconds.toFixed(1)} s, ${Math.round(100_000 / r.seconds)} rows/s, RSS growth ${((peak - base) / 2 ** 20).toFixed(0)} MiB`);
  });
});
