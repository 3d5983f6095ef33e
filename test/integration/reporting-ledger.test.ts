import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { upsertLedgerInvoices, type LedgerInvoice } from '../../db/ledger';
import { migrate } from '../../db/migrate';
import { insertPaymentOnce } from '../../db/payments';
import { rebuildReportingLedger, writeReportSettings } from '../../db/report-settings';
import { createSql, type Sql } from '../../db/sql';

/**
 * What the reports read (migration 017): ar_items and the dated ar_postings, kept by triggers from the tables the
 * product already writes. Every expectation below is worked out by hand from the rows the test writes.
 */
const tenantId = `rep-${randomUUID().slice(0, 8)}`;
let sql: Sql;

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 2 });
  await migrate(sql);
  await writeReportSettings(sql, tenantId, 'Europe/Berlin');
  await sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale)
            values (${tenantId}, 'C1', 'Kunde', 'ap@kunde.example', 'Europe/Berlin', 'de-DE')`;
});
afterAll(async () => {
  await sql?.end();
});

const ledgerRow = (invoiceNumber: string, over: Partial<LedgerInvoice> = {}): LedgerInvoice => ({
  invoiceNumber,
  customerId: 'C1',
  currency: 'EUR',
  amountMinor: 10_000,
  openAmountMinor: 10_000,
  status: 'open',
  issueDate: '2026-01-10',
  dueDate: '2026-02-09',
  settledDate: null,
  rebillOf: null,
  disputed: false,
  ...over,
});
const importRows = (rows: LedgerInvoice[]) => upsertLedgerInvoices(sql, tenantId, rows, { source: 'import' });
const syncRows = (rows: LedgerInvoice[]) => upsertLedgerInvoices(sql, tenantId, rows, { source: 'erp' });

async function item(invoiceNumber: string) {
  const [row] = await sql<{ amount: number; open: number; settled: string | null; origin: string }[]>`
    select amount_minor::int as amount, open_amount_minor::int as open, to_char(settled_on, 'YYYY-MM-DD') as settled, origin
    from ar_items where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}`;
  return row;
}
async function postings(invoiceNumber: string) {
  return sql<{ on: string; amount: number; kind: string }[]>`
    select to_char(posted_on, 'YYYY-MM-DD') as on, amount_minor::int as amount, kind
    from ar_postings where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by posted_on, id`;
}
/** The reports' definition of the open amount at D, written out once more here. */
async function openAt(invoiceNumber: string, d: string): Promise<number> {
  const [row] = await sql<{ open: number }[]>`
    select case when i.issue_date <= ${d}::date and (i.settled_on is null or i.settled_on > ${d}::date)
                then i.amount_minor - coalesce((select sum(p.amount_minor) from ar_postings p where p.tenant_id = i.tenant_id
                                                 and p.invoice_number = i.invoice_number and p.posted_on <= ${d}::date), 0)
                else 0 end::int as open
    from ar_items i where i.tenant_id = ${tenantId} and i.invoice_number = ${invoiceNumber}`;
  return row!.open;
}
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

describe('ar_items and ar_postings from the ledger', () => {
  it('an imported invoice paid in the past is settled on its settled date: open the day before, not on the day', async () => {
    await importRows([ledgerRow('H-1', { openAmountMinor: 0, status: 'paid', settledDate: '2026-03-05' })]);
    expect(await item('H-1')).toEqual({ amount: 10_000, open: 0, settled: '2026-03-05', origin: 'ledger' });
    expect(await postings('H-1')).toEqual([{ on: '2026-03-05', amount: 10_000, kind: 'observed' }]);
    expect(await openAt('H-1', '2026-01-09')).toBe(0); // not issued yet
    expect(await openAt('H-1', '2026-01-10')).toBe(10_000);
    expect(await openAt('H-1', '2026-03-04')).toBe(10_000);
    expect(await openAt('H-1', '2026-03-05')).toBe(0); // settled on D itself: not open at D
  });

  it("an ERP partial payment is dated in the reporting zone; a payment reported through the API is a claim and posts nothing", async () => {
    await importRows([ledgerRow('H-2', { amountMinor: 50_000, openAmountMinor: 50_000 })]);
    // 23:30 UTC on 14 April is 01:30 on 15 April in Berlin (CEST): the payment is posted on the 15th.
    await insertPaymentOnce(sql, { tenantId, paymentId: 'P-2a', invoiceNumber: 'H-2', amountMinor: 20_000, currency: 'EUR', receivedAt: '2026-04-14T23:30:00Z', source: 'erp_webhook' });
    await insertPaymentOnce(sql, { tenantId, paymentId: 'P-2b', invoiceNumber: 'H-2', amountMinor: 30_000, currency: 'EUR', receivedAt: '2026-04-20T10:00:00Z', source: 'api' });
    expect(await postings('H-2')).toEqual([{ on: '2026-04-15', amount: 20_000, kind: 'payment' }]);
    expect(await item('H-2')).toMatchObject({ open: 30_000, settled: null });
    expect(await openAt('H-2', '2026-04-14')).toBe(50_000);
    expect(await openAt('H-2', '2026-04-15')).toBe(30_000);
    // The same ERP payment again (a retried webhook) posts nothing more.
    await insertPaymentOnce(sql, { tenantId, paymentId: 'P-2a', invoiceNumber: 'H-2', amountMinor: 20_000, currency: 'EUR', receivedAt: '2026-04-14T23:30:00Z', source: 'erp_webhook' });
    expect(await item('H-2')).toMatchObject({ open: 30_000 });
    // The ERP's next sync shows the balance the payment left: nothing more to explain.
    await syncRows([ledgerRow('H-2', { amountMinor: 50_000, openAmountMinor: 30_000 })]);
    expect(await postings('H-2')).toEqual([{ on: '2026-04-15', amount: 20_000, kind: 'payment' }]);
  });

  it('a balance change seen before its payment is observed, then takes the payment date when the payment arrives: never counted twice', async () => {
    await syncRows([ledgerRow('H-3', { amountMinor: 40_000, openAmountMinor: 40_000 })]);
    // The sync sees 15,000 paid before the ERP's payment reaches us: observed today.
    await syncRows([ledgerRow('H-3', { amountMinor: 40_000, openAmountMinor: 25_000 })]);
    expect(await postings('H-3')).toEqual([{ on: today(), amount: 15_000, kind: 'observed' }]);
    // The payment behind it (10,000 on 2 May) consumes 10,000 of the observed 15,000; 5,000 stays observed.
    await insertPaymentOnce(sql, { tenantId, paymentId: 'P-3', invoiceNumber: 'H-3', amountMinor: 10_000, currency: 'EUR', receivedAt: '2026-05-02T08:00:00Z', source: 'erp_webhook' });
    expect(await postings('H-3')).toEqual(
      [
        { on: '2026-05-02', amount: 10_000, kind: 'payment' },
        { on: today(), amount: 5_000, kind: 'observed' },
      ].sort((a, b) => a.on.localeCompare(b.on)),
    );
    expect(await item('H-3')).toMatchObject({ open: 25_000, settled: null });
    // The rest is paid and the ledger closes it on 20 May: 25,000 more, dated by the ledger's settled date.
    await syncRows([ledgerRow('H-3', { amountMinor: 40_000, openAmountMinor: 0, status: 'paid', settledDate: '2026-05-20' })]);
    expect(await item('H-3')).toMatchObject({ open: 0, settled: '2026-05-20' }); // the observed 5,000 had arrived by the settled date too
    const sum = (await postings('H-3')).reduce((s, p) => s + p.amount, 0);
    expect(sum).toBe(40_000);
  });

  it('a payment reversed in the ERP reopens the invoice (a negative observed posting)', async () => {
    await importRows([ledgerRow('H-4', { openAmountMinor: 0, status: 'paid', settledDate: '2026-02-01' })]);
    expect(await item('H-4')).toMatchObject({ open: 0, settled: '2026-02-01' });
    await syncRows([ledgerRow('H-4', { openAmountMinor: 10_000, status: 'open', settledDate: null })]);
    expect(await item('H-4')).toMatchObject({ open: 10_000, settled: null });
    expect((await postings('H-4')).map((p) => p.amount)).toEqual(expect.arrayContaining([10_000, -10_000]));
  });

  it('once enrolled, the invoice mirror describes the item; the ledger row no longer does', async () => {
    await importRows([ledgerRow('H-5', { amountMinor: 30_000, openAmountMinor: 30_000, dueDate: '2026-02-09' })]);
    await sql`insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date, workflow_id, cadence_id, cadence_version)
              values (${tenantId}, 'H-5', 'C1', 'EUR', 30000, 30000, '2026-01-10', '2026-02-23', ${`wf-${tenantId}-H-5`}, 'standard', 1)`;
    const [due] = await sql<{ due: string }[]>`select to_char(due_date, 'YYYY-MM-DD') as due from ar_items where tenant_id = ${tenantId} and invoice_number = 'H-5'`;
    expect(due!.due).toBe('2026-02-23'); // the enrolled invoice's (extended) due date
    expect(await item('H-5')).toMatchObject({ origin: 'invoice', open: 30_000 });
    // A stale ledger row changes nothing now; the mirror's open amount does.
    await importRows([ledgerRow('H-5', { amountMinor: 30_000, openAmountMinor: 1 })]);
    expect(await item('H-5')).toMatchObject({ origin: 'invoice', open: 30_000 });
    await sql`update invoices set open_amount_minor = 12000 where tenant_id = ${tenantId} and invoice_number = 'H-5'`;
    expect(await item('H-5')).toMatchObject({ origin: 'invoice', open: 12_000 });
  });

  it("ledger mode's postings are dated postings", async () => {
    await importRows([ledgerRow('H-6', { amountMinor: 8_000, openAmountMinor: 8_000 })]);
    await sql`insert into ledger_adjustments (tenant_id, kind, idempotency_key, document_id, invoice_number, amount_minor, currency, answer, created_at)
              values (${tenantId}, 'credit_memo', 'cm-1', 'CM-1', 'H-6', 3000, 'EUR', '{}', '2026-06-30T22:30:00Z')`;
    // Ledger mode writes the balance in the same transaction (integrations/erp/ledger-erp.ts).
    await sql`update ledger_invoices set open_amount_minor = 5000 where tenant_id = ${tenantId} and invoice_number = 'H-6'`;
    expect(await postings('H-6')).toEqual([{ on: '2026-07-01', amount: 3_000, kind: 'credit' }]);
    expect(await item('H-6')).toMatchObject({ open: 5_000 });
  });

  it('ar_rebuild gives the same items and balances as the triggers did', async () => {
    const snapshot = () => sql`
      select a.invoice_number, a.amount_minor::int, a.open_amount_minor::int, to_char(a.settled_on, 'YYYY-MM-DD') as settled, a.origin,
             coalesce((select sum(p.amount_minor) from ar_postings p where p.tenant_id = a.tenant_id and p.invoice_number = a.invoice_number), 0)::int as posted
      from ar_items a where a.tenant_id = ${tenantId} order by a.invoice_number`;
    const before = await snapshot();
    expect(before.length).toBe(6);
    await rebuildReportingLedger(sql, tenantId);
    expect(await snapshot()).toEqual(before);
    // The dated postings survive a rebuild (only observed ones are recomputed).
    expect(await postings('H-2')).toEqual([{ on: '2026-04-15', amount: 20_000, kind: 'payment' }]);
  });
});
