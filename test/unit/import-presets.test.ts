import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { customLayout, customMappingSchema, findHeader, PRESETS, type ImportLayout } from '../../domain/imports/presets';
import { interpretRow, type RowResult } from '../../domain/imports/rows';
import { parseAmount, parseDate } from '../../domain/imports/values';
import { readRows, sniffDelimiter, type SheetRow } from '../../integrations/import/readers';

const fixture = (name: string) => path.join(__dirname, '../fixtures/imports', name);

async function rowsOf(file: string): Promise<SheetRow[]> {
  const rows: SheetRow[] = [];
  for await (const r of readRows(fixture(file), 'csv')) rows.push(r);
  return rows;
}

/** The file through header detection (or the layout given) and interpretRow, as the importer does. */
async function interpret(file: string, layout?: ImportLayout): Promise<{ preset: string; results: (RowResult & { row: number })[] }> {
  const rows = await rowsOf(file);
  const match = findHeader(rows.slice(0, 20).map((r) => r.cells.map(String)), layout);
  if (!match.ok) throw new Error(match.message);
  return {
    preset: match.layout.name,
    results: rows.slice(match.headerRow).map((r) => ({ row: r.row, ...interpretRow(r.cells, match.layout, match.columns) })),
  };
}

describe('amounts', () => {
  it('parses dot and comma decimals to minor units by the currency digits, without floats', () => {
    expect(parseAmount('1,234.56', 'dot', 'USD')).toEqual({ ok: true, value: 123456 });
    expect(parseAmount('1.234,56', 'comma', 'EUR')).toEqual({ ok: true, value: 123456 });
    expect(parseAmount('980,5', 'comma', 'EUR')).toEqual({ ok: true, value: 98050 });
    expect(parseAmount('150000', 'dot', 'JPY')).toEqual({ ok: true, value: 150000 });
    expect(parseAmount('1.234', 'dot', 'KWD')).toEqual({ ok: true, value: 1234 });
    expect(parseAmount('0.1', 'dot', 'EUR')).toEqual({ ok: true, value: 10 });
    expect(parseAmount('$1,377.50', 'dot', 'USD')).toEqual({ ok: true, value: 137750 });
  });
  it('reads the negative forms of exports', () => {
    expect(parseAmount('1.234,56-', 'comma', 'EUR')).toEqual({ ok: true, value: -123456 });
    expect(parseAmount('-100.00', 'dot', 'USD')).toEqual({ ok: true, value: -10000 });
    expect(parseAmount('(12.50)', 'dot', 'USD')).toEqual({ ok: true, value: -1250 });
  });
  it('refuses what is not an amount, or has more decimals than the currency', () => {
    expect(parseAmount('abc', 'dot', 'EUR').ok).toBe(false);
    expect(parseAmount('1e5', 'dot', 'EUR').ok).toBe(false);
    expect(parseAmount('1.234,56', 'dot', 'EUR').ok).toBe(false);
    expect(parseAmount('12,34,5', 'comma', 'EUR').ok).toBe(false);
    expect(parseAmount('10.5', 'dot', 'JPY')).toEqual({ ok: false, reason: '"10.5" has more decimals than JPY\'s 0' });
    expect(parseAmount('', 'dot', 'EUR').ok).toBe(false);
  });
});

describe('dates', () => {
  it('reads each layout, and ISO always', () => {
    expect(parseDate('31.12.2025', 'DD.MM.YYYY')).toEqual({ ok: true, value: '2025-12-31' });
    expect(parseDate('2/1/2013', 'MM/DD/YYYY')).toEqual({ ok: true, value: '2013-02-01' });
    expect(parseDate('2/1/2013', 'DD/MM/YYYY')).toEqual({ ok: true, value: '2013-01-02' });
    expect(parseDate('2025-12-31', 'DD.MM.YYYY')).toEqual({ ok: true, value: '2025-12-31' });
  });
  it('refuses impossible and foreign dates', () => {
    expect(parseDate('30.02.2025', 'DD.MM.YYYY')).toEqual({ ok: false, reason: 'not a calendar date: "30.02.2025"' });
    expect(parseDate('12/31/2025', 'DD.MM.YYYY').ok).toBe(false);
    expect(parseDate('yesterday', 'YYYY-MM-DD').ok).toBe(false);
  });
});

describe('CSV delimiter', () => {
  it('finds ; in a German SAP export and , elsewhere, ignoring quoted ones', () => {
    expect(sniffDelimiter('Account;Amount in local currency\n1;1.234,56\n')).toBe(';');
    expect(sniffDelimiter('"a;b;c",x,y\n1,2,3\n')).toBe(',');
    expect(sniffDelimiter('a\tb\tc\n')).toBe('\t');
  });
});

describe('presets', () => {
  it('own template: open, partly paid, paid with its settled date, JPY without decimals', async () => {
    const { preset, results } = await interpret('own.csv');
    expect(preset).toBe('own');
    expect(results.map((r) => r.kind)).toEqual(['record', 'record', 'record', 'record']);
    const [a, b, c, d] = results.map((r) => (r.kind === 'record' ? r : undefined));
    expect(a!.invoice).toMatchObject({ invoiceNumber: 'INV-1001', amountMinor: 123450, openAmountMinor: 123450, status: 'open', currency: 'EUR', dueDate: '2026-10-31' });
    expect(a!.customer).toEqual({ customerId: 'C-ACME', name: 'Acme GmbH', email: 'ap@acme.example', country: 'DE' });
    expect(b!.invoice).toMatchObject({ amountMinor: 50000, openAmountMinor: 20000, status: 'open' });
    expect(c!.invoice).toMatchObject({ status: 'paid', openAmountMinor: 0, settledDate: '2026-09-28', currency: 'GBP' });
    expect(c!.customer.name).toBe('Bolt Ltd, London');
    expect(d!.invoice).toMatchObject({ currency: 'JPY', amountMinor: 150000, openAmountMinor: 150000, disputed: true });
  });

  it('SAP FBL5N: German numbers and dates, cleared items settled on their clearing date', async () => {
    const { preset, results } = await interpret('sap-fbl5n.csv');
    expect(preset).toBe('sap-fbl5n');
    const records = results.flatMap((r) => (r.kind === 'record' ? [r.invoice] : []));
    expect(records).toEqual([
      expect.objectContaining({ invoiceNumber: '1800001234', customerId: '100234', amountMinor: 123456, openAmountMinor: 123456, status: 'open', issueDate: '2026-10-01', dueDate: '2026-10-31' }),
      expect.objectContaining({ invoiceNumber: '1800001235', amountMinor: 1200000, openAmountMinor: 0, status: 'paid', settledDate: '2026-10-20' }),
      expect.objectContaining({ invoiceNumber: '1800001240', amountMinor: 98050, status: 'open' }),
    ]);
  });

  it('QuickBooks A/R Aging Detail: title, bucket and total lines passed over, payments skipped, USD', async () => {
    const { preset, results } = await interpret('quickbooks-aging.csv');
    expect(preset).toBe('quickbooks-aging');
    const seen = results.filter((r) => r.kind !== 'layout');
    expect(seen.map((r) => r.kind)).toEqual(['record', 'record', 'skipped']);
    expect(seen[0]).toMatchObject({ row: 7, invoice: { invoiceNumber: '1037', currency: 'USD', amountMinor: 36207, openAmountMinor: 36207, dueDate: '2026-12-20' } });
    expect(seen[1]).toMatchObject({ invoice: { invoiceNumber: '1036', amountMinor: 147750, openAmountMinor: 137750, status: 'open' }, customer: { name: 'Freeman Sporting Goods:0969 Ocean View Road' } });
    expect(seen[2]).toMatchObject({ kind: 'skipped', reason: 'a Payment, not an invoice' });
  });

  it('IBM sample: history, every invoice paid on its settled date, USD', async () => {
    const { preset, results } = await interpret('ibm-ar.csv');
    expect(preset).toBe('ibm-ar');
    expect(results).toHaveLength(20);
    expect(results[0]).toMatchObject({
      kind: 'record',
      invoice: { invoiceNumber: '0000611365', customerId: '0379-NEVHP', amountMinor: 5594, openAmountMinor: 0, status: 'paid', issueDate: '2013-01-02', dueDate: '2013-02-01', settledDate: '2013-01-15', currency: 'USD', disputed: false },
      customer: { country: null },
    });
    expect(results[1]).toMatchObject({ invoice: { disputed: true } });
  });

  it('a custom mapping: the named columns, its date and decimal formats and currency', async () => {
    const mapping = customMappingSchema.parse(JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(fixture('custom-mapping.json'), 'utf8'))));
    const { preset, results } = await interpret('custom.csv', customLayout(mapping));
    expect(preset).toBe('custom');
    expect(results.map((r) => (r.kind === 'record' ? r.invoice : r))).toEqual([
      expect.objectContaining({ invoiceNumber: 'A-1', currency: 'CHF', amountMinor: 100000, issueDate: '2026-11-03', dueDate: '2026-12-03', status: 'open' }),
      expect.objectContaining({ invoiceNumber: 'A-2', amountMinor: 25075, status: 'paid', settledDate: '2026-10-30', openAmountMinor: 0 }),
    ]);
  });

  it('refuses a mapping that lacks the essential columns', () => {
    const r = customMappingSchema.safeParse({ columns: { invoiceNumber: 'No' } });
    expect(r.success).toBe(false);
  });

  it('refuses a header no preset knows, naming what each expects', async () => {
    const rows = await rowsOf('wrong-columns.csv');
    const match = findHeader(rows.map((r) => r.cells.map(String)));
    expect(match.ok).toBe(false);
    expect(!match.ok && match.message).toMatch(/no preset recognises the file's header.*own \(invoice_number, customer_id, currency, amount, issue_date, due_date\).*--preset/);
    const given = findHeader(rows.map((r) => r.cells.map(String)), PRESETS['sap-fbl5n']);
    expect(!given.ok && given.message).toMatch(/lacks the columns of preset sap-fbl5n: customerId \(Account/);
  });

  it('rejects bad rows with the column and the reason', async () => {
    const { results } = await interpret('bad-rows.csv');
    const byRow = new Map(results.map((r) => [r.row, r]));
    expect(byRow.get(2)!.kind).toBe('record');
    expect(byRow.get(3)).toMatchObject({ kind: 'rejected', issues: [{ column: 'issue_date', reason: 'not a calendar date: "2026-02-30"' }] });
    expect(byRow.get(4)).toMatchObject({ kind: 'rejected', issues: [{ column: 'amount', reason: expect.stringMatching(/^negative amount/) }] });
    expect(byRow.get(5)).toMatchObject({ kind: 'rejected', issues: [{ column: 'amount', reason: expect.stringMatching(/^not an amount: "abc"/) }] });
    expect(byRow.get(6)).toMatchObject({ kind: 'rejected', issues: [{ column: 'currency', reason: expect.stringMatching(/^unknown currency "XYZ"/) }] });
  });

  it('checks the row as a whole: open amount, status, settled and due dates', () => {
    const layout = PRESETS.own;
    const match = findHeader([['invoice_number', 'customer_id', 'currency', 'amount', 'open_amount', 'issue_date', 'due_date', 'settled_date', 'status']], layout);
    if (!match.ok) throw new Error(match.message);
    const row = (amount: string, open: string, issue: string, due: string, settled: string, status: string) => interpretRow(['X', 'C', 'EUR', amount, open, issue, due, settled, status], layout, match.columns);
    expect(row('10', '11', '2026-01-01', '2026-02-01', '', '')).toMatchObject({ kind: 'rejected', issues: [{ column: 'open_amount' }] });
    expect(row('10', '5', '2026-01-01', '2026-02-01', '', 'paid')).toMatchObject({ kind: 'rejected', issues: [{ reason: 'status paid with an open amount' }] });
    expect(row('10', '10', '2026-03-01', '2026-02-01', '', '')).toMatchObject({ kind: 'rejected', issues: [{ column: 'due_date' }] });
    expect(row('10', '10', '2026-01-01', '2026-02-01', '2026-01-20', 'open')).toMatchObject({ kind: 'rejected', issues: [{ reason: 'a settled date on an open item' }] });
    expect(row('10', '0', '2026-01-01', '2026-02-01', '', '')).toMatchObject({ kind: 'record', invoice: { status: 'paid' } });
    expect(row('10', '', '2026-01-01', '2026-02-01', '', 'bogus')).toMatchObject({ kind: 'rejected', issues: [{ column: 'status' }] });
  });

  it('XLSX numeric cells are read as dot decimals whatever the preset writes', () => {
    const layout = PRESETS['sap-fbl5n'];
    const match = findHeader([['Account', 'Document Number', 'Document Date', 'Net due date', 'Amount in local currency', 'Local Currency']], layout);
    if (!match.ok) throw new Error(match.message);
    expect(interpretRow(['1', 'D1', '2026-01-02', '2026-02-01', 1234.5, 'EUR'], layout, match.columns)).toMatchObject({ kind: 'record', invoice: { amountMinor: 123450 } });
    expect(interpretRow(['1', 'D1', '2026-01-02', '2026-02-01', '1.234,5', 'EUR'], layout, match.columns)).toMatchObject({ kind: 'record', invoice: { amountMinor: 123450 } });
  });
});
