import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { ErpCapabilityError, ErpInvoiceNotFoundError, ErpRequestRejectedError, type ErpAdapter } from '../../integrations/erp/adapter';
import { erpChangePageSchema, type ErpReceivable } from '../../integrations/erp/changes';
import { createLedgerErp } from '../../integrations/erp/ledger-erp';
import { createErp } from '../../integrations/erp/select';
import { createImport, runImport, type ImportRequest } from '../../integrations/import/importer';

/**
 * Ledger mode (ERP_KIND=ledger) against the real PostgreSQL: the ledger an import fills is the system of record.
 * Balances, the change feed the ERP sync pages through (a re-import that shows an invoice paid appears in it),
 * payments applied, credit memos, write-offs and rebills posted once per key with their audit rows, and the credit
 * hold it cannot place.
 */

const fixture = (name: string) => path.join(__dirname, '../fixtures/imports', name);
let sql: Sql;
let dir: string;
let n = 0;

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 4 });
  await migrate(sql);
  dir = mkdtempSync(path.join(os.tmpdir(), 'ledger-erp-test-'));
});
afterAll(async () => {
  await sql.end();
  rmSync(dir, { recursive: true, force: true });
});

async function importFile(tenantId: string, filePath: string) {
  const req: ImportRequest = { tenantId, filePath, fileName: path.basename(filePath), mode: 'all_or_nothing', requestedBy: 'tester', erpKind: 'ledger' };
  const r = await runImport(sql, await createImport(sql, req), req);
  expect(r.status).toBe('succeeded');
  return r;
}

/** A tenant whose ledger holds own.csv, and its adapter at a fixed clock. */
async function ledger(): Promise<{ tenantId: string; erp: ErpAdapter }> {
  const tenantId = `ledger-${process.pid}-${++n}`;
  await importFile(tenantId, fixture('own.csv'));
  return { tenantId, erp: createLedgerErp({ sql, tenantId, now: () => new Date('2026-11-20T10:00:00Z') }) };
}

async function allChanges(erp: ErpAdapter, cursor: string | null, limit: number) {
  const receivables: ErpReceivable[] = [];
  for (;;) {
    const page = erpChangePageSchema.parse(await erp.listChanges({ cursor, limit }));
    receivables.push(...page.receivables);
    cursor = page.nextCursor;
    if (!page.hasMore) return { receivables, cursor, customers: page.customers };
  }
}

describe('ledger ERP', () => {
  it('is what ERP_KIND=ledger selects', () => {
    const erp = createErp({ ERP_KIND: 'ledger', ERP_BASE_URL: 'http://x', ERP_API_KEY: 'k', TRYTON_URL: 'http://x', TRYTON_DB: 'd', TRYTON_USER: 'u', TRYTON_PASSWORD: 'p', TENANT_ID: 't' }, { sql });
    expect(erp.kind).toBe('ledger');
    expect(erp.capabilities).toEqual({ creditHold: false, creditMemo: true, writeOff: true, rebill: true, applyPayment: true, changeFeed: true });
  });

  it('answers balances from the ledger, and ErpInvoiceNotFoundError for an invoice not in it', async () => {
    const { erp } = await ledger();
    expect(await erp.getInvoiceBalance('INV-1002')).toEqual({ invoiceNumber: 'INV-1002', customerId: 'C-ACME', currency: 'EUR', amountMinor: 50000, openAmountMinor: 20000, status: 'open', asOf: '2026-11-20T10:00:00.000Z' });
    expect(await erp.getInvoiceBalance('INV-1003')).toMatchObject({ status: 'paid', openAmountMinor: 0 });
    await expect(erp.getInvoiceBalance('NOPE')).rejects.toBeInstanceOf(ErpInvoiceNotFoundError);
  });

  it('pages the ledger by change, with its customers; a re-import that changes an invoice appears after the cursor', async () => {
    const { tenantId, erp } = await ledger();
    const first = await allChanges(erp, null, 3);
    expect(first.receivables.map((r) => r.invoiceNumber).sort()).toEqual(['INV-1001', 'INV-1002', 'INV-1003', 'INV-1004']);
    expect(first.receivables.find((r) => r.invoiceNumber === 'INV-1003')).toMatchObject({ status: 'paid', settledDate: '2026-09-28' });
    const quiet = await erp.listChanges({ cursor: first.cursor, limit: 10 });
    expect(quiet).toMatchObject({ receivables: [], hasMore: false, nextCursor: first.cursor });

    // The next export shows INV-1001 paid: the feed carries it, so the sync closes its workflow.
    const paid = path.join(dir, `paid-${tenantId}.csv`);
    writeFileSync(paid, readFileSync(fixture('own.csv'), 'utf8').replace('1234.50,1234.50,2026-10-01,2026-10-31,,open', '1234.50,0,2026-10-01,2026-10-31,2026-11-15,paid'));
    expect(await importFile(tenantId, paid)).toMatchObject({ updated: 1, unchanged: 3 });
    const next = await erp.listChanges({ cursor: first.cursor, limit: 10 });
    expect(next.receivables).toEqual([expect.objectContaining({ invoiceNumber: 'INV-1001', status: 'paid', openAmountMinor: 0, settledDate: '2026-11-15' })]);
    expect(next.customers).toEqual([expect.objectContaining({ customerId: 'C-ACME', name: 'Acme GmbH', email: 'ap@acme.example', country: 'DE' })]);
    await expect(erp.listChanges({ cursor: 'garbage', limit: 10 })).rejects.toBeInstanceOf(ErpRequestRejectedError);
  });

  it('applies a confirmed payment once per key, and refuses more than is open or another currency', async () => {
    const { tenantId, erp } = await ledger();
    const req = { paymentId: 'PAY-1', currency: 'EUR', allocations: [{ invoiceNumber: 'INV-1001', amountMinor: 34_50 }, { invoiceNumber: 'INV-1002', amountMinor: 200_00 }], idempotencyKey: 'k-pay-1' };
    const answer = await erp.applyPayment(req);
    expect(answer).toEqual({
      paymentId: 'PAY-1',
      invoices: [
        { invoiceNumber: 'INV-1001', appliedMinor: 3450, openAmountMinor: 120000, status: 'open' },
        { invoiceNumber: 'INV-1002', appliedMinor: 20000, openAmountMinor: 0, status: 'paid' },
      ],
      unappliedMinor: 0,
    });
    expect(await erp.applyPayment(req)).toEqual(answer);
    expect(await erp.getInvoiceBalance('INV-1001')).toMatchObject({ openAmountMinor: 120000 });
    expect((await sql`select settled_date::text as d from ledger_invoices where tenant_id = ${tenantId} and invoice_number = 'INV-1002'`)[0]!.d).toBe('2026-11-20');

    const over = erp.applyPayment({ paymentId: 'PAY-2', currency: 'EUR', allocations: [{ invoiceNumber: 'INV-1001', amountMinor: 120001 }], idempotencyKey: 'k-pay-2' });
    await expect(over).rejects.toMatchObject({ name: 'ErpRequestRejectedError', status: 422, code: 'amount_exceeds_open_amount' });
    await expect(erp.applyPayment({ paymentId: 'PAY-3', currency: 'USD', allocations: [{ invoiceNumber: 'INV-1001', amountMinor: 1 }], idempotencyKey: 'k-pay-3' })).rejects.toMatchObject({ code: 'currency_mismatch' });
    await expect(erp.applyPayment({ paymentId: 'PAY-4', currency: 'EUR', allocations: [{ invoiceNumber: 'NOPE', amountMinor: 1 }], idempotencyKey: 'k-pay-4' })).rejects.toBeInstanceOf(ErpInvoiceNotFoundError);
    expect(await erp.getInvoiceBalance('INV-1001')).toMatchObject({ openAmountMinor: 120000 });
    const audit = await sql`select invoice_number, details from audit_events where tenant_id = ${tenantId} and event_type = 'ledger_adjusted' order by invoice_number`;
    expect(audit.map((a) => [a.invoice_number, (a.details as { kind: string }).kind, (a.details as { openAmountMinorAfter: number }).openAmountMinorAfter])).toEqual([
      ['INV-1001', 'payment', 120000],
      ['INV-1002', 'payment', 0],
    ]);
  });

  it('posts credit memos and write-offs once per key, closing the invoice at zero', async () => {
    const { erp } = await ledger();
    const memo = await erp.requestCreditMemo({ invoiceNumber: 'INV-1001', amountMinor: 23450, currency: 'EUR', reason: 'price', idempotencyKey: 'cm-1' });
    expect(memo).toMatchObject({ creditMemoId: 'CM-INV-1001-1', invoice: { openAmountMinor: 100000, status: 'open' } });
    expect(await erp.requestCreditMemo({ invoiceNumber: 'INV-1001', amountMinor: 23450, currency: 'EUR', reason: 'price', idempotencyKey: 'cm-1' })).toEqual(memo);
    const rest = await erp.requestCreditMemo({ invoiceNumber: 'INV-1001', amountMinor: 100000, currency: 'EUR', reason: 'price', idempotencyKey: 'cm-2' });
    expect(rest).toMatchObject({ creditMemoId: 'CM-INV-1001-2', invoice: { openAmountMinor: 0, status: 'credited' } });
    const wo = await erp.postWriteOff({ invoiceNumber: 'INV-1004', amountMinor: 150000, currency: 'JPY', reason: 'bad debt', idempotencyKey: 'wo-1' });
    expect(wo).toMatchObject({ journalId: 'WO-INV-1004-1', invoice: { openAmountMinor: 0, status: 'written_off' } });
    await expect(erp.postWriteOff({ invoiceNumber: 'INV-1004', amountMinor: 1, currency: 'JPY', reason: 'again', idempotencyKey: 'wo-2' })).rejects.toMatchObject({ code: 'amount_exceeds_open_amount' });
  });

  it('rebills as a new ledger row linked to the original, which the feed carries with rebillOf', async () => {
    const { erp } = await ledger();
    const { cursor } = await allChanges(erp, null, 10);
    const rebill = await erp.createRebill({ originalInvoiceNumber: 'INV-1002', amountMinor: 15000, currency: 'EUR', issueDate: '2026-11-20', dueDate: '2026-12-20', idempotencyKey: 'rb-1' });
    expect(rebill).toEqual({ invoiceNumber: 'INV-1002-R1' });
    expect(await erp.createRebill({ originalInvoiceNumber: 'INV-1002', amountMinor: 15000, currency: 'EUR', issueDate: '2026-11-20', dueDate: '2026-12-20', idempotencyKey: 'rb-1' })).toEqual(rebill);
    expect(await erp.getInvoiceBalance('INV-1002-R1')).toMatchObject({ customerId: 'C-ACME', amountMinor: 15000, openAmountMinor: 15000, status: 'open' });
    const page = await erp.listChanges({ cursor, limit: 10 });
    expect(page.receivables).toEqual([expect.objectContaining({ invoiceNumber: 'INV-1002-R1', rebillOf: 'INV-1002', dueDate: '2026-12-20' })]);
    await expect(erp.createRebill({ originalInvoiceNumber: 'INV-1002', amountMinor: 1, currency: 'USD', issueDate: '2026-11-20', dueDate: '2026-12-20', idempotencyKey: 'rb-2' })).rejects.toMatchObject({ code: 'currency_mismatch' });
  });

  it('has no credit hold: refused clearly, never a silent success', async () => {
    const { erp } = await ledger();
    await expect(erp.placeCreditHold({ customerId: 'C-ACME', reason: 'x', idempotencyKey: 'h' })).rejects.toBeInstanceOf(ErpCapabilityError);
    await expect(erp.releaseCreditHold({ customerId: 'C-ACME', reason: 'x', idempotencyKey: 'h' })).rejects.toThrow('the ledger ERP connection cannot place or release a credit hold');
    expect(await erp.getCreditStatus('C-ACME')).toEqual({ customerId: 'C-ACME', onHold: false });
  });
});
