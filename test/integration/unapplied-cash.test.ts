import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { startTestApp, type TestApp } from '../support/test-app';
import { userWithToken } from '../support/auth';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { recordUnappliedPayments } from '../../db/unapplied-cash';
import { normalizeInvoiceRef } from '../../domain/cash-matching';
import { upsertLedgerInvoices } from '../../db/ledger';
import { ERP_SIGNATURE_HEADER, ERP_TIMESTAMP_HEADER, signTimestampedWebhook } from '../../integrations/erp/webhook-signature';

/**
 * The unapplied-cash queue through the product as it runs (API and worker processes, PostgreSQL, the Temporal
 * dev server, the ERP simulator): a payment the ERP holds unapplied, taken from its change feed as the sync
 * does, suggested and applied to two enrolled invoices through the API; the ERP shows them paid and reduced,
 * their workflows follow. Bank statements in, refund / on-account, a webhook payment for an unknown invoice,
 * the queue's age and totals, and the refusals (bad allocations, the ERP's refusal, the ERP down).
 */
let stack: Stack;
let anna = '';
let lena = '';
let ben = '';

const fixture = (name: string) => readFileSync(path.resolve(__dirname, '..', 'fixtures', 'bank', name));

beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-collector.json' });
  anna = (await userWithToken(stack.sql, stack.tenantId, { userId: 'anna', role: 'collector' })).token;
  ben = (await userWithToken(stack.sql, stack.tenantId, { userId: 'ben', role: 'collector' })).token;
  lena = (await userWithToken(stack.sql, stack.tenantId, { userId: 'lena', role: 'team_lead' })).token;
  const enroll = async (number: string, customerId: string, amountMinor: number, customer: Record<string, unknown> = {}, currency = 'EUR') => {
    const res = await createAndEnroll(stack, { number, customerId, amountMinor, dueDate: '2026-11-02', currency }, `ap@${customerId.toLowerCase()}.example`, { collectorId: 'anna', ...customer });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  await enroll('CASH-1', 'CUST-A', 10_000);
  await enroll('CASH-2', 'CUST-A', 25_000);
  await enroll('CASH-3', 'CUST-A', 4_000);
  await enroll('CASH-USD', 'CUST-A', 7_000, {}, 'USD');
  await enroll('CASH-BEN', 'CUST-B', 3_000, { collectorId: 'ben' });
  await enroll('INV-0101', 'CUST-GLOBEX', 100_000, { name: 'Globex GmbH' });
  await enroll('INV-0102', 'CUST-GLOBEX', 23_450, { name: 'Globex GmbH' });
});
afterAll(async () => {
  await stack?.stop();
});

async function erpInvoice(number: string) {
  const res = await fetch(`${stack.erp.url}/invoices/${number}`, { headers: { authorization: `Bearer ${stack.env.ERP_API_KEY}` } });
  return (await res.json()) as { status: string; openAmountMinor: number };
}
/** What the sync does with a page's unapplied payments: the ERP's feed, through the adapter, into the queue. */
async function syncUnapplied() {
  const erp = createHttpErp({ baseUrl: stack.erp.url, apiKey: stack.env.ERP_API_KEY ?? '' });
  let cursor: string | null = null;
  for (;;) {
    const page = await erp.listChanges({ cursor, limit: 100 });
    await recordUnappliedPayments(stack.sql, stack.tenantId, page.unappliedPayments);
    cursor = page.nextCursor;
    if (!page.hasMore) return;
  }
}
const itemOf = async (source: string, paymentId: string) => {
  const [row] = await stack.sql<{ id: number }[]>`select id from unapplied_cash where tenant_id = ${stack.tenantId} and source = ${source} and payment_id = ${paymentId}`;
  return row!.id;
};
const auditOf = (type: string) =>
  stack.sql<{ actor: string; invoice_number: string | null; details: Record<string, unknown> }[]>`
    select actor, invoice_number, details from audit_events where tenant_id = ${stack.tenantId} and event_type = ${type} order by id`;
const upload = async (content: Buffer, name: string, token = lena) => {
  const form = new FormData();
  form.append('file', new Blob([content]), name);
  const res = await fetch(`http://${stack.env.API_HOST}:${stack.env.API_PORT}/bank-statements`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
};

describe('an unapplied ERP payment applied to two enrolled invoices', () => {
  let id = 0;

  it('lands in the queue from the ERP\u2019s feed once, with suggestions, visible to the payer\u2019s collector', async () => {
    const held = await stack.erpCall('/payments', { paymentId: 'RCPT-1', customerId: 'CUST-A', amountMinor: 20_000, currency: 'EUR', receivedAt: '2026-11-20T09:00:00Z', remittance: 'CASH-1 and CASH-2 part' });
    expect(held.status).toBe(201);
    await syncUnapplied();
    await syncUnapplied(); // the same pages again add nothing
    id = await itemOf('erp_sync', 'RCPT-1');
    expect((await stack.sql`select count(*)::int as n from unapplied_cash where tenant_id = ${stack.tenantId} and payment_id = 'RCPT-1'`)[0]!.n).toBe(1);

    const item = await stack.api('GET', `/unapplied-cash/${id}`, undefined, anna);
    expect(item.status, JSON.stringify(item.body)).toBe(200);
    expect(item.body).toMatchObject({ source: 'erp_sync', paymentId: 'RCPT-1', customerId: 'CUST-A', amountMinor: 20_000, unappliedMinor: 20_000, status: 'open', currency: 'EUR' });
    // The remittance names CASH-1 and CASH-2 (35 000 open together): the oldest first up to the payment.
    expect(item.body.suggestions[0]).toMatchObject({ kind: 'remittance', allocations: [{ invoiceNumber: 'CASH-1', amountMinor: 10_000 }, { invoiceNumber: 'CASH-2', amountMinor: 10_000 }] });
    expect(item.body.suggestions.every((s: { allocations: { invoiceNumber: string }[] }) => s.allocations.every((a) => a.invoiceNumber !== 'CASH-USD'))).toBe(true);
    // Not in ben's portfolio.
    expect((await stack.api('GET', `/unapplied-cash/${id}`, undefined, ben)).status).toBe(403);
  });

  it('refuses bad allocations with a clear 4xx, applying nothing', async () => {
    const apply = (allocations: unknown) => stack.api('POST', `/unapplied-cash/${id}/apply`, { allocations }, anna);
    expect(await apply([{ invoiceNumber: 'CASH-1', amountMinor: 10.5 }])).toMatchObject({ status: 400, body: { error: 'validation_failed', issues: [expect.objectContaining({ path: 'body.allocations.0.amountMinor' })] } });
    expect(await apply([{ invoiceNumber: 'CASH-1', amountMinor: 5_000 }, { invoiceNumber: 'CASH-1', amountMinor: 5_000 }])).toMatchObject({ status: 422, body: { error: 'invalid_request', issues: [{ path: 'body.allocations.1.invoiceNumber', code: 'duplicate' }] } });
    expect(await apply([{ invoiceNumber: 'CASH-2', amountMinor: 20_001 }])).toMatchObject({ status: 422, body: { error: 'invalid_amount' } });
    expect(await apply([{ invoiceNumber: 'CASH-1', amountMinor: 10_001 }])).toMatchObject({ status: 422, body: { error: 'invalid_amount', invoiceNumber: 'CASH-1', openAmountMinor: 10_000 } });
    expect(await apply([{ invoiceNumber: 'CASH-USD', amountMinor: 1_000 }])).toMatchObject({ status: 422, body: { error: 'currency_mismatch' } });
    expect(await apply([{ invoiceNumber: 'NO-SUCH', amountMinor: 1_000 }])).toMatchObject({ status: 404 });
    // Another collector's customer: a team lead's call, not anna's.
    expect(await apply([{ invoiceNumber: 'CASH-BEN', amountMinor: 1_000 }])).toMatchObject({ status: 403, body: { error: 'not_in_portfolio', invoiceNumber: 'CASH-BEN' } });
    expect(await erpInvoice('CASH-1')).toMatchObject({ status: 'open', openAmountMinor: 10_000 });
    expect((await stack.api('GET', `/unapplied-cash/${id}`, undefined, anna)).body).toMatchObject({ appliedMinor: 0, status: 'open', applications: [] });
  });

  it('applies through the ERP: CASH-1 paid, CASH-2 reduced; their workflows follow; a retry applies nothing twice', async () => {
    const allocations = [{ invoiceNumber: 'CASH-1', amountMinor: 10_000 }, { invoiceNumber: 'CASH-2', amountMinor: 10_000 }];
    const res = await stack.api('POST', `/unapplied-cash/${id}/apply`, { allocations }, anna);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      cashId: id,
      erpPaymentId: 'RCPT-1',
      appliedMinor: 20_000,
      appliedBy: 'anna',
      replayed: false,
      unappliedMinor: 0,
      invoices: [
        { invoiceNumber: 'CASH-1', appliedMinor: 10_000, openAmountMinor: 0, status: 'paid', workflow: 'notified' },
        { invoiceNumber: 'CASH-2', appliedMinor: 10_000, openAmountMinor: 15_000, status: 'open', workflow: 'notified' },
      ],
    });
    expect(await erpInvoice('CASH-1')).toMatchObject({ status: 'paid', openAmountMinor: 0 });
    expect(await erpInvoice('CASH-2')).toMatchObject({ status: 'open', openAmountMinor: 15_000 });
    await expect.poll(async () => (await stack.api('GET', '/invoices/CASH-1')).body.stage, { timeout: 20_000 }).toBe('paid');
    await expect.poll(async () => (await stack.api('GET', '/invoices/CASH-2')).body.invoice.openAmountMinor, { timeout: 20_000 }).toBe(15_000);
    expect((await stack.api('GET', '/invoices/CASH-2')).body.stage).not.toBe('paid');

    // A retry (a lost answer) gets the first application; the ERP and the invoices are as they were.
    const again = await stack.api('POST', `/unapplied-cash/${id}/apply`, { allocations: [...allocations].reverse() }, anna);
    expect(again).toMatchObject({ status: 200, body: { replayed: true, appliedMinor: 20_000 } });
    expect(await erpInvoice('CASH-2')).toMatchObject({ openAmountMinor: 15_000 });
    const item = (await stack.api('GET', `/unapplied-cash/${id}`, undefined, anna)).body;
    expect(item).toMatchObject({ status: 'applied', appliedMinor: 20_000, unappliedMinor: 0, suggestions: [] });
    expect(item.applications).toHaveLength(1);
    expect(item.applications[0].invoices.map((i: { workflow: string }) => i.workflow)).toEqual(['notified', 'notified']);
    // Each invoice's payment once, by the ERP's record id (its webhook names the same: stored once).
    const payments = await stack.sql`select invoice_number, payment_id from payments where tenant_id = ${stack.tenantId} and invoice_number in ('CASH-1', 'CASH-2') order by invoice_number`;
    expect(payments).toEqual([{ invoice_number: 'CASH-1', payment_id: 'RCPT-1#1' }, { invoice_number: 'CASH-2', payment_id: 'RCPT-1#2' }]);
    // Audited with the actor: the application, and on each invoice's trail.
    const applied = await auditOf('unapplied_cash_applied');
    expect(applied.map((a) => [a.actor, a.invoice_number])).toEqual([['anna', null], ['anna', 'CASH-1'], ['anna', 'CASH-2']]);
    // Fully applied: nothing left to apply or resolve.
    expect(await stack.api('POST', `/unapplied-cash/${id}/apply`, { allocations: [{ invoiceNumber: 'CASH-3', amountMinor: 1 }] }, anna)).toMatchObject({ status: 409, body: { error: 'payment_conflict' } });
    expect(await stack.api('POST', `/unapplied-cash/${id}/resolve`, { as: 'refund', note: 'x' }, anna)).toMatchObject({ status: 409 });
  });
});

describe('bank statements', () => {
  it('camt.053: credits join the queue once, the payer found by name; a re-upload adds nothing; a collector may not upload', async () => {
    const first = await upload(fixture('camt053-sample.xml'), 'statement.xml');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ format: 'camt.053', added: 4, duplicates: 0, rejected: [] });
    expect(first.body.ignored.map((i: { position: string }) => i.position)).toEqual(['Ntry 3', 'Ntry 5']);
    expect(first.body.entries[0]).toMatchObject({ position: 'Ntry 1', outcome: 'added', amountMinor: 123_450, customerId: 'CUST-GLOBEX' });
    const again = await upload(fixture('camt053-sample.xml'), 'statement.xml');
    expect(again.body).toMatchObject({ added: 0, duplicates: 4 });
    expect((await upload(fixture('camt053-sample.xml'), 'statement.xml', anna)).status).toBe(403);
    expect((await auditOf('unapplied_cash_received')).filter((a) => a.details.source === 'bank_statement')).toHaveLength(4);
    expect(await auditOf('bank_statement_imported')).toEqual([expect.objectContaining({ actor: 'lena', details: expect.objectContaining({ added: 4, ignored: 2 }) })]);
  });

  it('a malformed file is 400 with the reason; nothing stored', async () => {
    const before = (await stack.sql`select count(*)::int as n from unapplied_cash where tenant_id = ${stack.tenantId}`)[0]!.n;
    const res = await upload(fixture('malformed.xml'), 'bad.xml');
    expect(res).toMatchObject({ status: 400, body: { error: 'validation_failed', issues: [expect.objectContaining({ path: 'file' })] } });
    expect(res.body.message).toMatch(/not well-formed XML/);
    // Larger than 20 MB: 413, nothing read into the queue.
    expect(await upload(Buffer.alloc(20 * 1024 * 1024 + 1, 'a'), 'huge.csv')).toMatchObject({ status: 413 });
    // A multipart body without its boundary is the client's mistake too.
    const broken = await fetch(`http://${stack.env.API_HOST}:${stack.env.API_PORT}/bank-statements`, { method: 'POST', headers: { authorization: `Bearer ${lena}`, 'content-type': 'multipart/form-data' }, body: 'x' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toBe('validation_failed');
    expect((await stack.sql`select count(*)::int as n from unapplied_cash where tenant_id = ${stack.tenantId}`)[0]!.n).toBe(before);
  });

  it('a bank line applied through the ERP as a new receipt, by its remittance suggestion', async () => {
    const id = (await upload(fixture('camt053-sample.xml'), 'statement.xml')).body.entries[0].id as number;
    const item = (await stack.api('GET', `/unapplied-cash/${id}`, undefined, anna)).body;
    expect(item.suggestions[0]).toMatchObject({ kind: 'remittance', confidence: 0.95 });
    const res = await stack.api('POST', `/unapplied-cash/${id}/apply`, { allocations: item.suggestions[0].allocations }, anna);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.invoices.map((i: { status: string }) => i.status)).toEqual(['paid', 'paid']);
    expect(await erpInvoice('INV-0102')).toMatchObject({ status: 'paid' });
    await expect.poll(async () => (await stack.api('GET', '/invoices/INV-0101')).body.stage, { timeout: 20_000 }).toBe('paid');
  });

  it('refund and on account: audited, answered again the same, not changed afterwards', async () => {
    const ids = (await upload(fixture('camt053-sample.xml'), 'statement.xml')).body.entries.map((e: { id: number }) => e.id) as number[];
    const refund = await stack.api('POST', `/unapplied-cash/${ids[1]}/resolve`, { as: 'refund', note: 'Initech paid twice; refunded by wire 2026-12-01' }, lena);
    expect(refund).toMatchObject({ status: 200, body: { status: 'refund', resolution: { by: 'lena', note: 'Initech paid twice; refunded by wire 2026-12-01' } } });
    expect((await stack.api('POST', `/unapplied-cash/${ids[1]}/resolve`, { as: 'refund', note: 'Initech paid twice; refunded by wire 2026-12-01' }, lena)).status).toBe(200);
    expect(await stack.api('POST', `/unapplied-cash/${ids[1]}/resolve`, { as: 'on_account', note: 'changed my mind' }, lena)).toMatchObject({ status: 409 });
    expect(await stack.api('POST', `/unapplied-cash/${ids[2]}/resolve`, { as: 'on_account', note: 'Umbrella keeps a credit' }, lena)).toMatchObject({ status: 200, body: { status: 'on_account' } });
    expect(await stack.api('POST', `/unapplied-cash/${ids[3]}/resolve`, { as: 'gift', note: 'x' }, lena)).toMatchObject({ status: 400 });
    // An unknown payer is not a collector's.
    expect((await stack.api('POST', `/unapplied-cash/${ids[3]}/resolve`, { as: 'refund', note: 'x' }, anna)).status).toBe(403);
    expect((await auditOf('unapplied_cash_resolved')).map((a) => [a.actor, a.details.as])).toEqual([['lena', 'refund'], ['lena', 'on_account']]);
  });
});

describe('the ERP webhook and the queue\u2019s figures', () => {
  it('a payment the ERP reports for an invoice we do not know lands in the queue instead of being lost', async () => {
    expect((await stack.erpCall('/invoices', { invoiceNumber: 'ERP-ONLY-1', customerId: 'CUST-A', currency: 'EUR', amountMinor: 9_000, issueDate: '2026-10-01', dueDate: '2026-10-31' })).status).toBe(201);
    expect((await stack.erpCall('/payments', { paymentId: 'PAY-UNKNOWN-1', invoiceNumber: 'ERP-ONLY-1', amountMinor: 9_000, currency: 'EUR' })).status).toBe(201);
    await expect.poll(async () => (await stack.sql`select source from unapplied_cash where tenant_id = ${stack.tenantId} and payment_id = 'PAY-UNKNOWN-1'`).map((r) => r.source), { timeout: 15_000 }).toEqual(['erp_webhook']);
    const id = await itemOf('erp_webhook', 'PAY-UNKNOWN-1');
    const item = (await stack.api('GET', `/unapplied-cash/${id}`, undefined, anna)).body;
    expect(item).toMatchObject({ customerId: 'CUST-A', amountMinor: 9_000, details: { erpInvoiceNumber: 'ERP-ONLY-1' } });
    // The ERP applied it already: applying it again is the ERP's refusal, surfaced as 422 with its words.
    const refused = await stack.api('POST', `/unapplied-cash/${id}/apply`, { allocations: [{ invoiceNumber: 'CASH-3', amountMinor: 4_000 }] }, anna);
    expect(refused).toMatchObject({ status: 422, body: { error: 'payment_rejected' } });
    expect(refused.body.message).toContain('was received for an invoice and applied to it');
    expect(await erpInvoice('CASH-3')).toMatchObject({ openAmountMinor: 4_000 });
  });

  it('a webhook payment for an invoice of the ledger (synced or imported, not enrolled) is the sync\'s to reconcile: ignored, not queued', async () => {
    await upsertLedgerInvoices(stack.sql, stack.tenantId, [
      { invoiceNumber: 'LEDGER-1', customerId: 'CUST-A', currency: 'EUR', amountMinor: 5_000, openAmountMinor: 5_000, status: 'open', issueDate: '2026-10-01', dueDate: '2026-12-31', settledDate: null, rebillOf: null, disputed: false },
    ], { source: 'import' });
    const event = {
      eventId: 'evt-ledger-1',
      type: 'payment.applied',
      occurredAt: new Date().toISOString(),
      payment: { paymentId: 'PAY-LEDGER-1', invoiceNumber: 'LEDGER-1', amountMinor: 5_000, currency: 'EUR', receivedAt: new Date().toISOString() },
      invoice: { invoiceNumber: 'LEDGER-1', customerId: 'CUST-A', currency: 'EUR', openAmountMinor: 0, status: 'paid' },
    };
    const raw = JSON.stringify(event);
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await fetch(`http://${stack.env.API_HOST}:${stack.env.API_PORT}/webhooks/erp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [ERP_SIGNATURE_HEADER]: signTimestampedWebhook(stack.env.ERP_WEBHOOK_SECRET ?? '', timestamp, raw), [ERP_TIMESTAMP_HEADER]: String(timestamp) },
      body: raw,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ result: 'ignored' });
    expect(await stack.sql`select 1 from unapplied_cash where tenant_id = ${stack.tenantId} and payment_id = 'PAY-LEDGER-1'`).toHaveLength(0);
  });

  it('the list shows totals per currency and the oldest age; collectors see their portfolio only', async () => {
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000).toISOString();
    await recordUnappliedPayments(stack.sql, stack.tenantId, [
      { paymentId: 'AGE-1', customerId: 'CUST-A', payerName: null, amountMinor: 1_111, currency: 'EUR', receivedAt: tenDaysAgo, remittance: '' },
      { paymentId: 'AGE-2', customerId: 'CUST-A', payerName: null, amountMinor: 2_222, currency: 'USD', receivedAt: new Date().toISOString(), remittance: '' },
    ]);
    const all = await stack.api('GET', '/unapplied-cash?status=open', undefined, lena);
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    const open = all.body.items as { currency: string; unappliedMinor: number; ageDays: number; customerId: string | null }[];
    for (const currency of ['EUR', 'USD']) {
      const mine = open.filter((i) => i.currency === currency);
      expect(all.body.totals.find((t: { currency: string }) => t.currency === currency)).toEqual({
        currency,
        count: mine.length,
        unappliedMinor: mine.reduce((s, i) => s + i.unappliedMinor, 0),
        oldestAgeDays: Math.max(...mine.map((i) => i.ageDays)),
      });
    }
    expect(all.body.oldestAgeDays).toBeGreaterThanOrEqual(10);
    expect(open.find((i) => i.currency === 'EUR' && i.unappliedMinor === 1_111)!.ageDays).toBe(10);
    // anna sees CUST-A's items (her portfolio), not the unknown payers' nor Globex's resolved ones; ben none.
    const annas = (await stack.api('GET', '/unapplied-cash?status=open', undefined, anna)).body;
    expect(annas.items.length).toBeGreaterThan(0);
    expect(annas.items.every((i: { customerId: string | null }) => i.customerId === 'CUST-A' || i.customerId === 'CUST-GLOBEX')).toBe(true);
    expect((await stack.api('GET', '/unapplied-cash', undefined, ben)).body).toMatchObject({ total: 0, items: [], totals: [], oldestAgeDays: null });
  });
});

describe('matching in SQL and in domain/cash-matching.ts', () => {
  it('normalize invoice numbers alike (the index of migration 016 and the suggestions must agree)', async () => {
    const samples = ['INV-000123', 'inv 123', '0123', 'INVOICE#0042', 'Inv.0', '2026/0017', 'IBM-2041', 'ÄÖ-12', 'INVINV-7', '000', 'A_b.c-9', '  x  '];
    const rows = await stack.sql<{ ref: string }[]>`select cash_invoice_ref(s) as ref from unnest(${samples}::text[]) with ordinality as t(s, n) order by n`;
    expect(rows.map((r) => r.ref)).toEqual(samples.map(normalizeInvoiceRef));
  });
});

describe('the ERP down', () => {
  let app: TestApp;
  beforeAll(async () => {
    // The same tenant and database through an in-process API whose ERP does not answer.
    app = await startTestApp(stack.tenantId, { erp: createHttpErp({ baseUrl: 'http://127.0.0.1:9', apiKey: 'x', timeoutMs: 1_000 }) });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is 503 and nothing is recorded as applied', async () => {
    const id = await itemOf('erp_sync', 'AGE-1');
    const res = await app.app.inject({ method: 'POST', url: `/unapplied-cash/${id}/apply`, headers: { authorization: `Bearer ${lena}` }, payload: { allocations: [{ invoiceNumber: 'CASH-3', amountMinor: 1_111 }] } });
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json()).toMatchObject({ error: 'dependency_unavailable', dependency: 'erp' });
    expect(res.headers['retry-after']).toBe('5');
    expect((await stack.api('GET', `/unapplied-cash/${id}`, undefined, lena)).body).toMatchObject({ status: 'open', appliedMinor: 0, applications: [] });
  });
});
