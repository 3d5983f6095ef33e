import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';
import { freePort } from '../../dev/process';
import { minorToDecimal, type TrytonSeed } from '../../dev/tryton';
import { ErpCapabilityError, ErpInvoiceNotFoundError, ErpRequestRejectedError, ErpUnavailableError, type ErpAdapter } from '../../integrations/erp/adapter';
import { erpChangePageSchema, type ErpChangePage, type ErpReceivable } from '../../integrations/erp/changes';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { createTrytonErp } from '../../integrations/erp/tryton-erp';
import { startTestTryton } from '../support/tryton';

/**
 * One contract, two ERPs: the simulator (over its REST API, integrations/erp/http-erp.ts) and a real Tryton 8.2
 * (over JSON-RPC, integrations/erp/tryton-erp.ts), each seeded with the same customers, invoices, a paid invoice
 * and an unapplied receipt, then asked the same things. What an ERP cannot do, its capabilities say, and the call
 * is refused with ErpCapabilityError (Tryton has no credit hold).
 */

const today = DateTime.utc().toISODate()!;
const day = (offset: number) => DateTime.fromISO(today, { zone: 'utc' }).plus({ days: offset }).toISODate()!;

interface FixtureInvoice {
  invoiceNumber: string;
  customerId: string;
  amountMinor: number;
  issueDate: string;
  dueDate: string;
}

const CUSTOMERS = [
  { customerId: 'CT-ACME', name: 'Acme Tooling Inc.', email: 'ap@acme-tooling.example', country: 'US', region: 'NY', category: 'key-accounts' },
  { customerId: 'CT-BIRCH', name: 'Birch Maschinen GmbH', email: 'buchhaltung@birch.example', country: 'DE', region: 'BE', category: 'smb' },
] as const;

const INVOICES: FixtureInvoice[] = [
  { invoiceNumber: 'CT-1001', customerId: 'CT-ACME', amountMinor: 100_000, issueDate: day(-45), dueDate: day(-15) },
  { invoiceNumber: 'CT-1002', customerId: 'CT-ACME', amountMinor: 25_000, issueDate: day(-40), dueDate: day(-10) },
  { invoiceNumber: 'CT-1003', customerId: 'CT-BIRCH', amountMinor: 50_000, issueDate: day(-35), dueDate: day(-5) },
  { invoiceNumber: 'CT-1004', customerId: 'CT-BIRCH', amountMinor: 30_000, issueDate: day(-90), dueDate: day(-60) },
  { invoiceNumber: 'CT-1005', customerId: 'CT-ACME', amountMinor: 42_000, issueDate: day(-20), dueDate: day(10) },
  { invoiceNumber: 'CT-1006', customerId: 'CT-BIRCH', amountMinor: 8_000, issueDate: day(-10), dueDate: day(20) },
  { invoiceNumber: 'CT-1007', customerId: 'CT-ACME', amountMinor: 12_000, issueDate: day(-30), dueDate: day(0) },
];
/** Paid in full before the tests start. */
const PAID = 'CT-1007';
/** Received without an invoice: 300.00 from Birch naming CT-1003 and CT-1006. */
const UNAPPLIED = { customerId: 'CT-BIRCH', amountMinor: 30_000, remittance: 'SEPA CT BIRCH MASCHINEN RE CT-1003 CT-1006' };

async function seedSimulator(sim: ErpSimulator, apiKey: string) {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (response.status >= 300) throw new Error(`simulator ${path}: ${response.status} ${await response.text()}`);
  };
  for (const c of CUSTOMERS) await post('/customers', { ...c });
  for (const i of INVOICES) await post('/invoices', { ...i, currency: 'USD' });
  const paid = INVOICES.find((i) => i.invoiceNumber === PAID)!;
  await post('/payments', { paymentId: 'CT-PAY-1', invoiceNumber: PAID, amountMinor: paid.amountMinor, currency: 'USD', receivedAt: `${day(-1)}T10:00:00Z` });
  await post('/payments', { paymentId: 'CT-UNAPPLIED-1', customerId: UNAPPLIED.customerId, payerName: 'Birch Maschinen GmbH', amountMinor: UNAPPLIED.amountMinor, currency: 'USD', receivedAt: `${day(-1)}T11:00:00Z`, remittance: UNAPPLIED.remittance });
}

function trytonSeed(): TrytonSeed {
  const paid = INVOICES.find((i) => i.invoiceNumber === PAID)!;
  return {
    customers: CUSTOMERS.map((c) => ({ ...c, contactName: 'Accounts Payable', lang: c.country === 'DE' ? 'de' : 'en' })),
    invoices: INVOICES.map((i) => ({ invoiceNumber: i.invoiceNumber, customerId: i.customerId, amount: minorToDecimal(i.amountMinor), issueDate: i.issueDate, dueDate: i.dueDate })),
    payments: [{ paymentId: 'CT-PAY-1', invoiceNumber: PAID, amount: minorToDecimal(paid.amountMinor), date: day(-1) }],
    unapplied: [{ customerId: UNAPPLIED.customerId, amount: minorToDecimal(UNAPPLIED.amountMinor), date: day(-1), remittance: UNAPPLIED.remittance }],
  };
}

interface Subject {
  erp: ErpAdapter;
  close(): Promise<void>;
}

const subjects: { name: string; start(): Promise<Subject> }[] = [
  {
    name: 'simulator',
    async start() {
      const apiKey = 'contract-erp-key';
      const sim = await startErpSimulator({ apiKey, webhookSecret: 'contract-webhook-secret-0123' });
      await seedSimulator(sim, apiKey);
      return { erp: createHttpErp({ baseUrl: sim.url, apiKey }), close: () => sim.close() };
    },
  },
  {
    name: 'tryton',
    async start() {
      const server = await startTestTryton({ seed: trytonSeed(), today });
      return { erp: createTrytonErp({ url: server.url, database: server.database, user: server.user, password: server.password }), close: () => server.close() };
    },
  },
];

/** Every page from `cursor` on, each checked against the contract's schema. */
async function allPages(erp: ErpAdapter, cursor: string | null, limit: number): Promise<{ pages: ErpChangePage[]; end: string }> {
  const pages: ErpChangePage[] = [];
  for (let n = 0; n < 1000; n++) {
    const page = erpChangePageSchema.parse(await erp.listChanges({ cursor, limit }));
    expect(page.receivables.length).toBeLessThanOrEqual(limit);
    pages.push(page);
    cursor = page.nextCursor;
    if (!page.hasMore) return { pages, end: cursor };
  }
  throw new Error('the feed never ended');
}

const byNumber = (pages: ErpChangePage[]) => {
  const map = new Map<string, ErpReceivable>();
  for (const r of pages.flatMap((p) => p.receivables)) map.set(r.invoiceNumber, r);
  return map;
};

describe.each(subjects)('ERP adapter contract: $name', ({ name, start }) => {
  let subject: Subject;
  let erp: ErpAdapter;

  beforeAll(async () => {
    subject = await start();
    erp = subject.erp;
  }, 300_000);

  afterAll(async () => {
    await subject?.close();
  });

  it('says what it is and what it can do', () => {
    expect(erp.kind).toBe(name);
    expect(erp.capabilities).toMatchObject({ creditMemo: true, writeOff: true, rebill: true, applyPayment: true, changeFeed: true });
    expect(erp.capabilities.creditHold).toBe(name === 'simulator');
  });

  it('lists the seeded receivables with their customers and the unapplied receipt from a null cursor', async () => {
    const { pages } = await allPages(erp, null, 100);
    const seen = byNumber(pages);
    for (const i of INVOICES) {
      const r = seen.get(i.invoiceNumber);
      expect(r, i.invoiceNumber).toBeDefined();
      expect(r).toMatchObject({ customerId: i.customerId, currency: 'USD', amountMinor: i.amountMinor, issueDate: i.issueDate, dueDate: i.dueDate, rebillOf: null });
      if (i.invoiceNumber === PAID) {
        expect(r).toMatchObject({ status: 'paid', openAmountMinor: 0 });
        // Received yesterday, posted by the seed today: either is the day it was settled.
        expect([day(-1), today]).toContain(r!.settledDate);
      }
      else expect(r).toMatchObject({ status: 'open', openAmountMinor: i.amountMinor, settledDate: null });
    }
    const customers = new Map(pages.flatMap((p) => p.customers).map((c) => [c.customerId, c]));
    for (const r of seen.values()) expect(customers.has(r.customerId), `customer ${r.customerId} of ${r.invoiceNumber}`).toBe(true);
    for (const c of CUSTOMERS) expect(customers.get(c.customerId)).toMatchObject({ name: c.name, email: c.email, country: c.country, region: c.region, category: c.category });
    const unapplied = pages.flatMap((p) => p.unappliedPayments);
    expect(unapplied).toHaveLength(1);
    expect(unapplied[0]).toMatchObject({ customerId: UNAPPLIED.customerId, amountMinor: UNAPPLIED.amountMinor, currency: 'USD', remittance: UNAPPLIED.remittance });
  });

  it('pages stably and completely: small pages give what one big page gives, once each, and a cursor read again gives the same page', async () => {
    const big = await allPages(erp, null, 1000);
    const small = await allPages(erp, null, 2);
    expect(small.pages.length).toBeGreaterThanOrEqual(Math.ceil(INVOICES.length / 2));
    const smallNumbers = small.pages.flatMap((p) => p.receivables.map((r) => r.invoiceNumber));
    expect(new Set(smallNumbers).size).toBe(smallNumbers.length);
    expect([...smallNumbers].sort()).toEqual(big.pages.flatMap((p) => p.receivables.map((r) => r.invoiceNumber)).sort());
    // The same cursor, the same page.
    const second = small.pages[0]!.nextCursor;
    expect(await erp.listChanges({ cursor: second, limit: 2 })).toEqual(await erp.listChanges({ cursor: second, limit: 2 }));
    // Nothing changed since the end: nothing, no more, and the cursor stays.
    const after = await erp.listChanges({ cursor: big.end, limit: 100 });
    expect(after).toMatchObject({ receivables: [], unappliedPayments: [], hasMore: false, nextCursor: big.end });
  });

  it('shows a payment applied after the cursor, and only the changed invoice; the balance follows; a retry with the key changes nothing', async () => {
    const { end } = await allPages(erp, null, 100);
    const receipt = { paymentId: `CT-RCPT-${name}`, currency: 'USD', allocations: [{ invoiceNumber: 'CT-1001', amountMinor: 30_000 }], receivedAt: `${today}T09:00:00Z`, idempotencyKey: `ct-rcpt-${name}` };
    const applied = await erp.applyPayment(receipt);
    expect(applied).toMatchObject({ paymentId: receipt.paymentId, unappliedMinor: 0, invoices: [{ invoiceNumber: 'CT-1001', appliedMinor: 30_000, openAmountMinor: 70_000, status: 'open' }] });
    expect(applied.invoices[0]!.paymentId).toEqual(expect.any(String));
    expect(await erp.getInvoiceBalance('CT-1001')).toMatchObject({ invoiceNumber: 'CT-1001', customerId: 'CT-ACME', currency: 'USD', amountMinor: 100_000, openAmountMinor: 70_000, status: 'open' });
    const { pages } = await allPages(erp, end, 100);
    const changed = pages.flatMap((p) => p.receivables);
    expect(changed.map((r) => r.invoiceNumber)).toEqual(['CT-1001']);
    expect(changed[0]).toMatchObject({ openAmountMinor: 70_000, status: 'open' });
    await erp.applyPayment(receipt);
    expect((await erp.getInvoiceBalance('CT-1001')).openAmountMinor).toBe(70_000);
  });

  it('refuses a payment above the open amount or in another currency, and changes nothing', async () => {
    const over = erp.applyPayment({ paymentId: `CT-OVER-${name}`, currency: 'USD', allocations: [{ invoiceNumber: 'CT-1002', amountMinor: 25_001 }], receivedAt: `${today}T09:00:00Z`, idempotencyKey: `ct-over-${name}` });
    await expect(over).rejects.toBeInstanceOf(ErpRequestRejectedError);
    await expect(over).rejects.toMatchObject({ status: 422 });
    const eur = erp.applyPayment({ paymentId: `CT-EUR-${name}`, currency: 'EUR', allocations: [{ invoiceNumber: 'CT-1002', amountMinor: 100 }], receivedAt: `${today}T09:00:00Z`, idempotencyKey: `ct-eur-${name}` });
    await expect(eur).rejects.toMatchObject({ status: 422 });
    expect(await erp.getInvoiceBalance('CT-1002')).toMatchObject({ openAmountMinor: 25_000, status: 'open' });
  });

  it('applies the unapplied receipt to two invoices', async () => {
    const { pages } = await allPages(erp, null, 100);
    const [receipt] = pages.flatMap((p) => p.unappliedPayments);
    const request = {
      paymentId: receipt!.paymentId,
      currency: 'USD',
      allocations: [
        { invoiceNumber: 'CT-1006', amountMinor: 8_000 },
        { invoiceNumber: 'CT-1003', amountMinor: 20_000 },
      ],
      idempotencyKey: `ct-unapplied-${name}`,
    };
    const answer = await erp.applyPayment(request);
    expect(answer.unappliedMinor).toBe(2_000);
    expect(answer.invoices).toMatchObject([
      { invoiceNumber: 'CT-1006', appliedMinor: 8_000, openAmountMinor: 0, status: 'paid' },
      { invoiceNumber: 'CT-1003', appliedMinor: 20_000, openAmountMinor: 30_000, status: 'open' },
    ]);
    // Each allocation is a payment record of its own in the ERP, named so its webhook and the workflow agree.
    const ids = answer.invoices.map((i) => i.paymentId);
    expect(ids).toEqual([expect.any(String), expect.any(String)]);
    expect(new Set(ids).size).toBe(2);
    expect(await erp.getInvoiceBalance('CT-1006')).toMatchObject({ openAmountMinor: 0, status: 'paid' });
    // A retry with the key (a lost answer) applies nothing again.
    expect(await erp.applyPayment(request)).toMatchObject({ unappliedMinor: 2_000, invoices: [{ invoiceNumber: 'CT-1006', openAmountMinor: 0 }, { invoiceNumber: 'CT-1003', openAmountMinor: 30_000 }] });
    expect((await erp.getInvoiceBalance('CT-1003')).openAmountMinor).toBe(30_000);
  });

  it('posts a credit memo that lowers the open amount, once per key; one above the open amount is refused', async () => {
    const request = { invoiceNumber: 'CT-1003', amountMinor: 5_000, currency: 'USD', reason: 'two units returned damaged', idempotencyKey: `ct-memo-${name}` };
    const before = (await erp.getInvoiceBalance('CT-1003')).openAmountMinor;
    const memo = await erp.requestCreditMemo(request);
    expect(memo.creditMemoId).not.toBe('');
    expect(memo.invoice).toMatchObject({ invoiceNumber: 'CT-1003', openAmountMinor: before - 5_000, status: 'open' });
    expect((await erp.requestCreditMemo(request)).invoice.openAmountMinor).toBe(before - 5_000);
    expect((await erp.getInvoiceBalance('CT-1003')).openAmountMinor).toBe(before - 5_000);
    await expect(erp.requestCreditMemo({ ...request, amountMinor: before, idempotencyKey: `ct-memo-over-${name}` })).rejects.toMatchObject({ status: 422 });
    await expect(erp.requestCreditMemo({ ...request, invoiceNumber: 'CT-NOPE', idempotencyKey: `ct-memo-nope-${name}` })).rejects.toBeInstanceOf(ErpInvoiceNotFoundError);
  });

  it('credits an invoice in full: open 0, credited, in the feed too', async () => {
    const { end } = await allPages(erp, null, 100);
    const memo = await erp.requestCreditMemo({ invoiceNumber: 'CT-1002', amountMinor: 25_000, currency: 'USD', reason: 'service not delivered', idempotencyKey: `ct-memo-full-${name}` });
    expect(memo.invoice).toMatchObject({ invoiceNumber: 'CT-1002', openAmountMinor: 0, status: 'credited' });
    expect(await erp.getInvoiceBalance('CT-1002')).toMatchObject({ openAmountMinor: 0, status: 'credited' });
    expect(byNumber((await allPages(erp, end, 100)).pages).get('CT-1002')).toMatchObject({ status: 'credited', openAmountMinor: 0, settledDate: today });
  });

  it('writes an invoice off: open 0, written_off, and the feed says so', async () => {
    const { end } = await allPages(erp, null, 100);
    const request = { invoiceNumber: 'CT-1004', amountMinor: 30_000, currency: 'USD', reason: 'customer insolvent', idempotencyKey: `ct-wo-${name}` };
    const off = await erp.postWriteOff(request);
    expect(off.journalId).not.toBe('');
    expect(off.invoice).toMatchObject({ openAmountMinor: 0, status: 'written_off' });
    expect((await erp.postWriteOff(request)).invoice).toMatchObject({ openAmountMinor: 0, status: 'written_off' });
    const changed = byNumber((await allPages(erp, end, 100)).pages).get('CT-1004');
    expect(changed).toMatchObject({ status: 'written_off', openAmountMinor: 0, settledDate: today });
  });

  it('rebills: a new open invoice for the customer that names the original', async () => {
    const { end } = await allPages(erp, null, 100);
    const request = { originalInvoiceNumber: 'CT-1005', amountMinor: 40_000, currency: 'USD', issueDate: today, dueDate: day(30), idempotencyKey: `ct-rebill-${name}` };
    const { invoiceNumber } = await erp.createRebill(request);
    expect(invoiceNumber).not.toBe('CT-1005');
    expect((await erp.createRebill(request)).invoiceNumber).toBe(invoiceNumber);
    expect(await erp.getInvoiceBalance(invoiceNumber)).toMatchObject({ customerId: 'CT-ACME', amountMinor: 40_000, openAmountMinor: 40_000, status: 'open' });
    const rebill = byNumber((await allPages(erp, end, 100)).pages).get(invoiceNumber);
    expect(rebill).toMatchObject({ rebillOf: 'CT-1005', customerId: 'CT-ACME', issueDate: today, dueDate: day(30), status: 'open' });
    await expect(erp.createRebill({ ...request, currency: 'EUR', idempotencyKey: `ct-rebill-eur-${name}` })).rejects.toMatchObject({ status: 422 });
  });

  it('answers an unknown invoice with ErpInvoiceNotFoundError', async () => {
    await expect(erp.getInvoiceBalance('CT-DOES-NOT-EXIST')).rejects.toBeInstanceOf(ErpInvoiceNotFoundError);
  });

  it('places a credit hold where the ERP has them, and refuses clearly where it has none', async () => {
    const request = { customerId: 'CT-BIRCH', reason: '90 days past due', idempotencyKey: `ct-hold-${name}` };
    if (erp.capabilities.creditHold) {
      expect(await erp.placeCreditHold(request)).toMatchObject({ customerId: 'CT-BIRCH', onHold: true });
      expect(await erp.getCreditStatus('CT-BIRCH')).toMatchObject({ onHold: true });
      expect(await erp.releaseCreditHold({ ...request, idempotencyKey: `ct-release-${name}` })).toMatchObject({ onHold: false });
    } else {
      await expect(erp.placeCreditHold(request)).rejects.toBeInstanceOf(ErpCapabilityError);
      await expect(erp.releaseCreditHold(request)).rejects.toMatchObject({ name: 'ErpCapabilityError', capability: 'creditHold', erp: name });
      await expect(erp.getCreditStatus('CT-BIRCH')).rejects.toBeInstanceOf(ErpCapabilityError);
    }
  });
});

describe('Tryton adapter failures', () => {
  it('answers ErpUnavailableError (retried by Temporal) when Tryton does not answer', async () => {
    const erp = createTrytonErp({ url: `http://127.0.0.1:${await freePort()}`, database: 'dunning', user: 'admin', password: 'admin', timeoutMs: 2_000 });
    await expect(erp.getInvoiceBalance('CT-1001')).rejects.toBeInstanceOf(ErpUnavailableError);
    await expect(erp.listChanges({ cursor: null, limit: 10 })).rejects.toThrow(/Tryton unreachable at http:\/\/127\.0\.0\.1:\d+\/dunning\/rpc\//);
  });

  it("passes Tryton's own refusals on as ErpRequestRejectedError with Tryton's message", async () => {
    const server = await startTestTryton({ seed: { ...trytonSeed(), invoices: trytonSeed().invoices.slice(0, 1), payments: [], unapplied: [] }, today });
    try {
      const erp = createTrytonErp({ url: server.url, database: server.database, user: server.user, password: server.password });
      // No fiscal year (no period) covers 2001: Tryton itself refuses to post the rebill, and says why.
      const refused = erp.createRebill({ originalInvoiceNumber: 'CT-1001', amountMinor: 100, currency: 'USD', issueDate: '2001-01-02', dueDate: '2001-02-01', idempotencyKey: 'ct-rebill-2001' });
      await expect(refused).rejects.toBeInstanceOf(ErpRequestRejectedError);
      await expect(refused).rejects.toMatchObject({ status: 422 });
      await expect(refused).rejects.toThrow(/^Tryton refused model\.account\.invoice\.post: .*create a period for the date/);
      // Nothing half-stored: the refused draft is gone, and the same key with dates Tryton takes makes a posted rebill.
      const rebill = await erp.createRebill({ originalInvoiceNumber: 'CT-1001', amountMinor: 100, currency: 'USD', issueDate: today, dueDate: day(30), idempotencyKey: 'ct-rebill-2001' });
      expect(await erp.getInvoiceBalance(rebill.invoiceNumber)).toMatchObject({ status: 'open', openAmountMinor: 100 });
      // A wrong password is a configuration error, not a rejected request.
      const wrong = createTrytonErp({ url: server.url, database: server.database, user: server.user, password: 'not-the-password' });
      await expect(wrong.getInvoiceBalance('CT-1001')).rejects.toThrow(/Tryton refused the login of admin .*TRYTON_USER and TRYTON_PASSWORD/);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('refuses a cursor it did not give, before asking Tryton', async () => {
    const erp = createTrytonErp({ url: 'http://127.0.0.1:9', database: 'dunning', user: 'admin', password: 'admin' });
    await expect(erp.listChanges({ cursor: 'not-a-cursor', limit: 10 })).rejects.toMatchObject({ name: 'ErpRequestRejectedError', status: 400, code: 'invalid_cursor' });
  });
});
