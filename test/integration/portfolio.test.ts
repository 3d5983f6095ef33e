import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';
import { addDays } from '../../domain/aging';
import { setCustomerCreditHold } from '../../db/portfolio';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCreditHoldActivities } from '../../activities/credit-hold';
import type { ErpAdapter } from '../../integrations/erp/adapter';

/**
 * The portfolio views (issue 13) through the real API and PostgreSQL: GET /customers (filters, sorts, paging,
 * totals), GET /customers/:id, GET /invoices' new filters and sorts, and the timelines, with the role scope.
 *
 * The portfolio (today = the day in Europe/Berlin, config/reports.json; rates of config/reporting.json:
 * USD 0.92, GBP 1.17 to EUR):
 *
 *   customer  collector  segment    country  flags                      open invoices (due relative to today)
 *   CA Alpha  c1         strategic  DE       open promise on A2         A1 EUR 100000 (-45) · A2 USD 50000 (-10) · A3 GBP 20000 (+5, ledger only)
 *   CB Bravo  c1         standard   FR       credit hold                B1 EUR 30000 (-100) · (B2 EUR 40000 paid: not open)
 *   CC Charlie c2        high_risk  DE       do-not-contact, dispute    C1 USD 10001 (-70, disputed) · C2 GBP 50 (-5)
 *   CD Delta  c2         standard   US                                  nothing open
 *
 * Open amounts in EUR minor units, each currency's sum converted once, half to even:
 *   CA: 100000 + 50000 x 0.92 (= 46000) + 20000 x 1.17 (= 23400)            = 169400
 *   CB: 30000                                                                 =  30000
 *   CC: 10001 x 0.92 = 9200.92 -> 9201; 50 x 1.17 = 58.5 -> 58 (half to even)  =   9259
 *   CD: 0
 * All four: EUR 130000; USD 60001 x 0.92 = 55200.92 -> 55201; GBP 20050 x 1.17 = 23458.5 -> 23458 (even);
 *   130000 + 55201 + 23458 = 208659 (= 169400 + 30000 + 9259).
 * Oldest past due: CB 100, CC 70, CA 45, CD none. Priority (max open task score): CB 70, CA 40, CC none (its task is done).
 */
const tenantId = `portfolio-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let lead: { authorization: string };
let c1: { authorization: string };
let c2: { authorization: string };
const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
const due = (n: number) => addDays(today, n);

async function get(url: string, headers = lead) {
  const res = await t.app.inject({ method: 'GET', url, headers });
  return { status: res.statusCode, body: res.json() as any };
}
const ids = (body: { items: { customerId: string }[] }) => body.items.map((i) => i.customerId);

beforeAll(async () => {
  t = await startTestApp(tenantId);
  lead = (await userWithToken(t.sql, tenantId, { userId: 'pf-lead', role: 'team_lead' })).headers;
  c1 = (await userWithToken(t.sql, tenantId, { userId: 'pf-c1', role: 'collector', name: 'Collector One' })).headers;
  c2 = (await userWithToken(t.sql, tenantId, { userId: 'pf-c2', role: 'collector' })).headers;
  const customer = async (id: string, name: string, collector: string, segment: string, country: string, extra: { creditHold?: boolean; dnc?: boolean } = {}) =>
    t.sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale, segment, country, collector_id, do_not_contact)
      values (${tenantId}, ${id}, ${name}, ${`ap@${id.toLowerCase()}.example`}, 'Europe/Berlin', 'en-US', ${segment}, ${country}, ${collector}, ${extra.dnc ?? false})`;
  await customer('CA', 'Alpha', 'pf-c1', 'strategic', 'DE');
  await customer('CB', 'Bravo', 'pf-c1', 'standard', 'FR');
  await customer('CC', 'Charlie', 'pf-c2', 'high_risk', 'DE', { dnc: true });
  await customer('CD', 'Delta', 'pf-c2', 'standard', 'US');
  const invoice = async (n: string, c: string, currency: string, amount: number, open: number, dueIn: number, stage: string, cadence = 'standard') =>
    t.sql`insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date, workflow_id, cadence_id, cadence_version, stage,
                                next_step_id, next_step_action, next_step_at)
      values (${tenantId}, ${n}, ${c}, ${currency}, ${amount}, ${open}, ${due(dueIn - 30)}, ${due(dueIn)}, ${`wf-${tenantId}-${n}`}, ${cadence}, 1, ${stage},
              ${stage === 'paid' ? null : 'reminder-2'}, ${stage === 'paid' ? null : 'email'}, ${stage === 'paid' ? null : new Date(Date.now() + (n === 'A2' ? 1 : 3) * 86_400_000)})`;
  await invoice('A1', 'CA', 'EUR', 100_000, 100_000, -45, 'active');
  await invoice('A2', 'CA', 'USD', 50_000, 50_000, -10, 'promised');
  await invoice('B1', 'CB', 'EUR', 30_000, 30_000, -100, 'active', 'strict');
  await invoice('B2', 'CB', 'EUR', 40_000, 0, -20, 'paid');
  await invoice('C1', 'CC', 'USD', 10_001, 10_001, -70, 'disputed');
  await invoice('C2', 'CC', 'GBP', 50, 50, -5, 'active');
  // A3: in the ledger only (ERP sync or import), never enrolled.
  await t.sql`insert into ledger_invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, status, issue_date, due_date, source)
    values (${tenantId}, 'A3', 'CA', 'GBP', 20000, 20000, 'open', ${due(-25)}, ${due(5)}, 'import')`;
  await t.sql`insert into promises (tenant_id, promise_id, invoice_number, customer_id, amount_minor, currency, promised_date, made_by, recorded_by, collector_id)
    values (${tenantId}, 'P-1', 'A2', 'CA', 50000, 'USD', ${due(7)}, 'Ms Alpha', 'pf-c1', 'pf-c1')`;
  await t.sql`insert into promises (tenant_id, promise_id, invoice_number, customer_id, amount_minor, currency, promised_date, made_by, recorded_by, collector_id, status)
    values (${tenantId}, 'P-0', 'B1', 'CB', 30000, 'EUR', ${due(-30)}, 'Mr Bravo', 'pf-c1', 'pf-c1', 'broken')`;
  await t.sql`insert into disputes (tenant_id, dispute_id, invoice_number, customer_id, workflow_id, disputed_amount_minor, currency, reason_code, source, opened_by, owner_team, deadline_date, deadline_at)
    values (${tenantId}, 'D-1', 'C1', 'CC', ${`wf-${tenantId}-C1`}, 10001, 'USD', 'pricing', 'api', 'pf-c2', 'pricing', ${due(10)}, now() + interval '10 days')`;
  const task = async (n: string, c: string, collector: string, score: number, status = 'open') =>
    t.sql`insert into call_tasks (tenant_id, invoice_number, customer_id, collector_id, due_at, note, kind, status, priority_score)
      values (${tenantId}, ${n}, ${c}, ${collector}, now(), 'call', 'cadence', ${status}, ${score})`;
  await task('A1', 'CA', 'pf-c1', 40);
  await task('A2', 'CA', 'pf-c1', 25);
  await task('B1', 'CB', 'pf-c1', 70);
  await task('C1', 'CC', 'pf-c2', 90, 'done');
  // CB goes on credit hold as the credit-hold activity records it (and only once per key).
  expect(await setCustomerCreditHold(t.sql, { tenantId, customerId: 'CB', placed: true, reason: 'overdue 100 days', idempotencyKey: 'wf-B1:hold' })).toBe(true);
  expect(await setCustomerCreditHold(t.sql, { tenantId, customerId: 'CB', placed: true, reason: 'overdue 100 days', idempotencyKey: 'wf-B1:hold' })).toBe(false);
});
afterAll(async () => {
  await t?.close();
});

describe('GET /customers', () => {
  it('lists every customer by open amount (reporting currency) with totals per currency and converted once', async () => {
    const res = await get('/customers');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.asOf).toBe(today);
    expect(ids(res.body)).toEqual(['CA', 'CB', 'CC', 'CD']);
    expect(res.body.items.map((i: any) => i.openAmountReportingMinor)).toEqual([169_400, 30_000, 9_259, 0]);
    expect(res.body.total).toBe(4);
    expect(res.body.totals).toEqual({
      customers: 4,
      openCount: 6, // A1 A2 A3 B1 C1 C2
      openAmountReportingMinor: 208_659,
      byCurrency: [
        { currency: 'EUR', count: 2, openAmountMinor: 130_000 },
        { currency: 'GBP', count: 2, openAmountMinor: 20_050 },
        { currency: 'USD', count: 2, openAmountMinor: 60_001 },
      ],
    });
    const ca = res.body.items[0];
    expect(ca).toMatchObject({
      name: 'Alpha', segment: 'strategic', country: 'DE', collectorId: 'pf-c1', collectorName: 'Collector One',
      openCount: 3, oldestDueDate: due(-45), oldestDaysPastDue: 45, hasActivePromise: true, hasOpenDispute: false, creditHold: false, priority: 40,
    });
    expect(ca.byCurrency).toEqual([
      { currency: 'EUR', count: 1, openAmountMinor: 100_000 },
      { currency: 'GBP', count: 1, openAmountMinor: 20_000 },
      { currency: 'USD', count: 1, openAmountMinor: 50_000 },
    ]);
    expect(res.body.items[3]).toMatchObject({ customerId: 'CD', openCount: 0, oldestDueDate: null, oldestDaysPastDue: null, priority: null, byCurrency: [] });
  });

  it('sorts by open amount, oldest past due, priority and name, both ways', async () => {
    expect(ids((await get('/customers?sort=openAmount&order=asc')).body)).toEqual(['CD', 'CC', 'CB', 'CA']);
    // Oldest past due first: CB 100 days, CC 70, CA 45; CD has nothing open (last either way).
    expect(ids((await get('/customers?sort=oldestPastDue')).body)).toEqual(['CB', 'CC', 'CA', 'CD']);
    expect(ids((await get('/customers?sort=oldestPastDue&order=asc')).body)).toEqual(['CA', 'CC', 'CB', 'CD']);
    // CB 70, CA 40 (max of 40 and 25); CC's only task is done: no score, like CD (then by id).
    expect(ids((await get('/customers?sort=priority')).body)).toEqual(['CB', 'CA', 'CC', 'CD']);
    expect(ids((await get('/customers?sort=name')).body)).toEqual(['CA', 'CB', 'CC', 'CD']);
    expect(ids((await get('/customers?sort=name&order=desc')).body)).toEqual(['CD', 'CC', 'CB', 'CA']);
  });

  it('filters by collector, segment, country, flags, dispute, promise, minimum open amount and oldest days past due', async () => {
    const f = async (q: string) => ids((await get(`/customers?sort=name&${q}`)).body);
    expect(await f('collectorId=pf-c2')).toEqual(['CC', 'CD']);
    expect(await f('segment=high_risk')).toEqual(['CC']);
    expect(await f('country=DE')).toEqual(['CA', 'CC']);
    expect(await f('creditHold=true')).toEqual(['CB']);
    expect(await f('creditHold=false')).toEqual(['CA', 'CC', 'CD']);
    expect(await f('doNotContact=true')).toEqual(['CC']);
    expect(await f('hasOpenDispute=true')).toEqual(['CC']);
    expect(await f('hasOpenDispute=false')).toEqual(['CA', 'CB', 'CD']);
    // CB's promise is broken: only CA's counts.
    expect(await f('hasActivePromise=true')).toEqual(['CA']);
    // 30000 itself counts (at least): CA 169400, CB 30000.
    expect(await f('minOpenMinor=30000')).toEqual(['CA', 'CB']);
    expect(await f('minOpenMinor=30001')).toEqual(['CA']);
    expect(await f('minDaysPastDue=60')).toEqual(['CB', 'CC']);
    expect(await f('minDaysPastDue=45')).toEqual(['CA', 'CB', 'CC']);
    expect(await f('minDaysPastDue=46')).toEqual(['CB', 'CC']);
    expect(await f('country=DE&minDaysPastDue=50')).toEqual(['CC']);
  });

  it('totals the filtered set: country=DE is CA and CC', async () => {
    const res = await get('/customers?country=DE');
    // EUR 100000; GBP 20050 x 1.17 = 23458.5 -> 23458; USD 60001 x 0.92 = 55200.92 -> 55201; 100000 + 23458 + 55201 = 178659.
    expect(res.body.totals).toEqual({
      customers: 2,
      openCount: 5,
      openAmountReportingMinor: 178_659,
      byCurrency: [
        { currency: 'EUR', count: 1, openAmountMinor: 100_000 },
        { currency: 'GBP', count: 2, openAmountMinor: 20_050 },
        { currency: 'USD', count: 2, openAmountMinor: 60_001 },
      ],
    });
    const none = await get('/customers?segment=high_risk&country=US');
    expect(none.body).toMatchObject({ total: 0, items: [], totals: { customers: 0, openCount: 0, openAmountReportingMinor: 0, byCurrency: [] } });
  });

  it('pages with limit and offset; the total stays the filter\'s', async () => {
    const p1 = await get('/customers?sort=name&limit=3');
    const p2 = await get('/customers?sort=name&limit=3&offset=3');
    expect([ids(p1.body), ids(p2.body)]).toEqual([['CA', 'CB', 'CC'], ['CD']]);
    expect([p1.body.total, p2.body.total]).toEqual([4, 4]);
  });

  it("scopes a collector to their portfolio: their customers only, 403 for another's", async () => {
    const mine = await get('/customers', c1);
    expect(ids(mine.body)).toEqual(['CA', 'CB']);
    // CA 169400 + CB 30000; EUR 130000, GBP 20000 x 1.17 = 23400, USD 50000 x 0.92 = 46000.
    expect(mine.body.totals.openAmountReportingMinor).toBe(199_400);
    expect(ids((await get('/customers?collectorId=pf-c1', c1)).body)).toEqual(['CA', 'CB']);
    expect((await get('/customers?collectorId=pf-c2', c1)).status).toBe(403);
  });

  it('refuses bad input with 400 and the issues', async () => {
    for (const q of ['minOpenMinor=-1', 'sort=x', 'order=up', 'creditHold=yes', 'limit=0', 'country=Germany', 'segment=vip', 'unknown=1']) {
      const res = await get(`/customers?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error, q).toBe('validation_failed');
    }
  });
});

describe('GET /customers/:customerId', () => {
  it('shows the account at a glance', async () => {
    const res = await get('/customers/CA');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const v = res.body;
    expect(v.customer).toMatchObject({ customerId: 'CA', name: 'Alpha', segment: 'strategic', country: 'DE', timeZone: 'Europe/Berlin', doNotContact: false, creditHold: false, paused: false });
    expect(v.collector).toEqual({ userId: 'pf-c1', name: 'Collector One' });
    expect(v.openInvoices.map((i: any) => [i.invoiceNumber, i.daysPastDue, i.bucket, i.enrolled, i.stage])).toEqual([
      ['A1', 45, '31-60', true, 'active'],
      ['A2', 10, '1-30', true, 'promised'],
      ['A3', -5, 'current', false, null],
    ]);
    expect(v.totals).toEqual({
      openCount: 3,
      openAmountReportingMinor: 169_400,
      byCurrency: [
        { currency: 'EUR', count: 1, openAmountMinor: 100_000 },
        { currency: 'GBP', count: 1, openAmountMinor: 20_000 },
        { currency: 'USD', count: 1, openAmountMinor: 50_000 },
      ],
    });
    expect(v.promises).toEqual([expect.objectContaining({ promiseId: 'P-1', invoiceNumber: 'A2', amountMinor: 50_000, currency: 'USD', promisedDate: due(7) })]);
    expect(v.disputes).toEqual([]);
    // A2's next step is due in 1 day, A1's in 3: the earliest.
    expect(v.nextStep).toMatchObject({ invoiceNumber: 'A2', stepId: 'reminder-2', action: 'email' });
    expect(v.openTasks.map((x: any) => [x.invoiceNumber, x.priorityScore])).toEqual(expect.arrayContaining([['A1', 40], ['A2', 25]]));
    const cb = (await get('/customers/CB')).body;
    expect(cb.customer.creditHold).toBe(true);
    expect(cb.openInvoices.map((i: any) => [i.invoiceNumber, i.bucket])).toEqual([['B1', '91+']]);
    const cc = (await get('/customers/CC')).body;
    expect(cc.disputes).toEqual([expect.objectContaining({ disputeId: 'D-1', invoiceNumber: 'C1', reasonCode: 'pricing', status: 'open' })]);
    // C1 70 days: 61-90; C2 5 days: 1-30; 10001 x 0.92 -> 9201, 50 x 1.17 = 58.5 -> 58.
    expect(cc.openInvoices.map((i: any) => [i.invoiceNumber, i.bucket])).toEqual([['C1', '61-90'], ['C2', '1-30']]);
    expect(cc.totals.openAmountReportingMinor).toBe(9_259);
  });

  it("shows the customer's contacts as the contacts routes do: primary first, with the flag's reason", async () => {
    const put = (id: string, body: object) => t.app.inject({ method: 'PUT', url: `/customers/CC/contacts/${id}`, headers: lead, payload: body });
    expect((await put('ap', { name: 'AP Desk', email: 'ap@alpha.example', isPrimary: true })).statusCode).toBe(201);
    expect((await put('cfo', { name: 'Chief Financial', phone: '+493012345678', preferredChannel: 'phone' })).statusCode).toBe(201);
    const flag = await t.app.inject({ method: 'POST', url: '/customers/CC/contacts/cfo/flag', headers: lead, payload: { reason: 'left the company' } });
    expect(flag.statusCode, flag.body).toBe(200);
    const page = (await get('/customers/CC')).body;
    const listed = (await get('/customers/CC/contacts')).body;
    expect(page.contacts).toEqual(listed.contacts.slice().sort((a: any, b: any) => Number(b.isPrimary) - Number(a.isPrimary) || a.contactId.localeCompare(b.contactId)));
    expect(page.contacts.map((c: any) => [c.contactId, c.isPrimary, c.needsUpdate, c.needsUpdateReason])).toEqual([
      ['ap', true, false, null],
      ['cfo', false, true, 'left the company'],
    ]);
    expect(page.contacts[0].updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('is 404 for an unknown customer and 403 outside the portfolio', async () => {
    expect((await get('/customers/NOPE')).status).toBe(404);
    expect((await get('/customers/CA', c2)).status).toBe(403);
    expect((await get('/customers/CA', c1)).status).toBe(200);
  });
});

describe('timelines', () => {
  const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);
  beforeAll(async () => {
    const event = (key: string, minutesAgo: number, invoice: string | null, type: string, details: Record<string, unknown>, actor = 'workflow') =>
      t.sql`insert into audit_events (event_key, tenant_id, occurred_at, actor, invoice_number, workflow_id, event_type, details)
        values (${`${tenantId}:${key}`}, ${tenantId}, ${at(minutesAgo)}, ${actor}, ${invoice}, ${invoice ? `wf-${tenantId}-${invoice}` : null}, ${type}, ${t.sql.json(details as never)})`;
    await event('e1', 60, 'A1', 'invoice_enrolled', { cadence: { id: 'standard', version: 1 } }, 'pf-lead');
    // The step's audit event names no message: the timeline finds its mail in the outbox by (invoice, step).
    await event('e2', 50, 'A1', 'step_done', { stepId: 'reminder-1', action: 'email', outcome: 'sent' });
    await t.sql`insert into outbound_messages (idempotency_key, tenant_id, invoice_number, channel, recipient, subject, status, message_id, invoice_numbers, step_ids)
      values (${`${tenantId}:mail-1`}, ${tenantId}, 'A1', 'email', 'ap@ca.example', 'Reminder', 'sent', '<m-1@dunning>', ${['A1', 'A2']}, ${['reminder-1', 'reminder-9']})`;
    await event('e3', 40, null, 'customer_paused', { customerId: 'CA', reason: 'holiday', until: null, invoices: ['A1', 'A2'] }, 'pf-c1');
    await event('e5', 20, 'A2', 'promise_made', { promiseId: 'P-1', amountMinor: 50000, currency: 'USD', promisedDate: due(7) });
    await event('e6', 10, 'A1', 'payment_reported', { paymentId: 'PAY-1', amountMinor: 1000, currency: 'EUR', eventId: 'erp-1' }, 'erp');
    await event('other', 35, 'B1', 'step_done', { stepId: 'reminder-1', action: 'email', outcome: 'sent' });
    await event('other-customer', 34, null, 'customer_paused', { customerId: 'CB', reason: 'x', until: null, invoices: [] });
    await t.sql`insert into customer_activities (tenant_id, customer_id, invoice_number, occurred_at, actor, kind, outcome, reached, note)
      values (${tenantId}, 'CA', 'A1', ${at(30)}, 'pf-c1', 'call_outcome', 'promise_to_pay', true, 'will pay A2 next week')`;
  });

  it("tells an invoice's story oldest first, with summaries and details, and pages", async () => {
    const res = await get('/invoices/A1/timeline');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // A1: e1 (60 min ago), e2 (50), the call (30), e6 (10); not the customer-level pause, not A2's promise.
    expect(res.body.total).toBe(4);
    expect(res.body.items.map((i: any) => [i.type, i.source, i.actor])).toEqual([
      ['invoice_enrolled', 'audit', 'pf-lead'],
      ['step_done', 'audit', 'workflow'],
      ['call_outcome', 'activity', 'pf-c1'],
      ['payment_reported', 'audit', 'erp'],
    ]);
    expect(res.body.items[1]).toMatchObject({
      invoiceNumber: 'A1',
      summary: 'Step reminder-1 (email) on A1: sent, message <m-1@dunning>',
      details: { stepId: 'reminder-1', messageId: '<m-1@dunning>', messageStatus: 'sent', recipient: 'ap@ca.example', subject: 'Reminder' },
    });
    expect(res.body.items[2].summary).toBe('Call on A1: promise_to_pay (reached) - will pay A2 next week');
    expect(res.body.items[0].at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const desc = await get('/invoices/A1/timeline?order=desc&limit=2');
    expect(desc.body.items.map((i: any) => i.type)).toEqual(['payment_reported', 'call_outcome']);
    const page2 = await get('/invoices/A1/timeline?limit=2&offset=2');
    expect(page2.body.items.map((i: any) => i.type)).toEqual(['call_outcome', 'payment_reported']);
    expect(page2.body.total).toBe(4);
  });

  it("tells a customer's story: its invoices' events, the customer's own, and its history", async () => {
    const res = await get('/customers/CA/timeline');
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: any) => [i.type, i.invoiceNumber])).toEqual([
      ['invoice_enrolled', 'A1'],
      ['step_done', 'A1'],
      ['customer_paused', null],
      ['call_outcome', 'A1'],
      ['promise_made', 'A2'],
      ['payment_reported', 'A1'],
    ]);
    expect(res.body.items[2].summary).toBe('Paused: holiday');
    // Another invoice's step of the same id does not pick up A1's mail.
    expect((await get('/customers/CB/timeline')).body.items.find((i: any) => i.type === 'step_done').details.messageId).toBeUndefined();
    // CB's credit hold (setCustomerCreditHold in the setup) is on CB's timeline, once.
    const cb = await get('/customers/CB/timeline');
    expect(cb.body.items.filter((i: any) => i.type === 'customer_credit_hold').map((i: any) => i.summary)).toEqual(['Credit hold placed: overdue 100 days']);
  });

  it('is scoped like the invoice and the customer: 403 outside the portfolio, 404 unknown, 400 bad paging', async () => {
    expect((await get('/invoices/A1/timeline', c2)).status).toBe(403);
    expect((await get('/customers/CA/timeline', c2)).status).toBe(403);
    expect((await get('/invoices/A1/timeline', c1)).status).toBe(200);
    expect((await get('/invoices/NOPE/timeline')).status).toBe(404);
    expect((await get('/customers/NOPE/timeline')).status).toBe(404);
    expect((await get('/invoices/A1/timeline?order=sideways')).status).toBe(400);
    expect((await get('/invoices/A1/timeline?limit=501')).status).toBe(400);
  });
});

describe('the credit-hold flag follows the ERP', () => {
  it('is set when the activity placed the hold and cleared when it released it, each once in the trail; not when the ERP fails', async () => {
    const calls: string[] = [];
    let fail = false;
    const erp = {
      async placeCreditHold(req: { customerId: string }) {
        calls.push(`place:${req.customerId}`);
        if (fail) throw new Error('ERP down');
        return { customerId: req.customerId, onHold: true as const, heldSince: new Date().toISOString() };
      },
      async releaseCreditHold(req: { customerId: string }) {
        calls.push(`release:${req.customerId}`);
        return { customerId: req.customerId, onHold: false as const };
      },
    } as unknown as ErpAdapter;
    const holds = createCreditHoldActivities({ erp, sql: t.sql });
    const env = new MockActivityEnvironment();
    const flag = async () => (await t.sql<{ credit_hold: boolean }[]>`select credit_hold from customers where tenant_id = ${tenantId} and customer_id = 'CD'`)[0]!.credit_hold;
    const holdEvents = async () =>
      (await t.sql<{ placed: boolean }[]>`select (details->>'placed')::boolean as placed from audit_events
        where tenant_id = ${tenantId} and event_type = 'customer_credit_hold' and details->>'customerId' = 'CD' order by id`).map((r) => r.placed);

    fail = true;
    await expect(env.run(holds.placeCreditHold, { idempotencyKey: 'wf-D:hold-0', tenantId, customerId: 'CD', reason: 'overdue' })).rejects.toBeDefined();
    expect(await flag()).toBe(false);
    fail = false;
    await env.run(holds.placeCreditHold, { idempotencyKey: 'wf-D:hold', tenantId, customerId: 'CD', reason: 'overdue' });
    await env.run(holds.placeCreditHold, { idempotencyKey: 'wf-D:hold', tenantId, customerId: 'CD', reason: 'overdue' }); // a retry
    expect(await flag()).toBe(true);
    expect(ids((await get('/customers?creditHold=true&sort=name')).body)).toEqual(['CB', 'CD']);
    await env.run(holds.releaseCreditHold, { idempotencyKey: 'wf-D:release', tenantId, customerId: 'CD', reason: 'paid' });
    expect(await flag()).toBe(false);
    expect(await holdEvents()).toEqual([true, false]);
    expect(calls).toEqual(['place:CD', 'place:CD', 'place:CD', 'release:CD']);
  });
});

describe('GET /invoices: filters, sorts, totals', () => {
  // The enrolled invoices (A3 is in the ledger only, never in this list), by due date:
  //   B1 -100 EUR 30000 active strict · C1 -70 USD 10001 disputed (open dispute) · A1 -45 EUR 100000 active
  //   B2 -20 EUR 0 paid · A2 -10 USD 50000 promised (open promise) · C2 -5 GBP 50 active
  const nums = (body: { items: { number: string }[] }) => body.items.map((i) => i.number);
  const list = async (q: string, headers = lead) => {
    const res = await get(`/invoices?${q}`, headers);
    expect(res.status, `${q}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body;
  };

  it('keeps the default list (due date, keyset paging, no amounts unless asked)', async () => {
    const all = await list('');
    expect(nums(all)).toEqual(['B1', 'C1', 'A1', 'B2', 'A2', 'C2']);
    expect(all.total).toBe(6);
    expect(all.amounts).toBeUndefined();
    const p1 = await list('limit=4');
    expect(nums(p1)).toEqual(['B1', 'C1', 'A1', 'B2']);
    const p2 = await list(`limit=4&cursor=${p1.nextCursor}`);
    expect([nums(p2), p2.nextCursor]).toEqual([['A2', 'C2'], null]);
  });

  it('filters by aging bucket (days past due today), collector, stage, currency, amount, due dates, cadence, dispute and promise', async () => {
    const f = async (q: string) => nums(await list(q));
    expect(await f('bucket=91%2B')).toEqual(['B1']);
    expect(await f('bucket=91+')).toEqual(['B1']); // + unencoded reads as a space
    expect(await f('bucket=61-90')).toEqual(['C1']);
    expect(await f('bucket=31-60')).toEqual(['A1']);
    expect(await f('bucket=1-30')).toEqual(['B2', 'A2', 'C2']);
    expect(await f('bucket=current')).toEqual([]);
    expect(await f('collectorId=pf-c2')).toEqual(['C1', 'C2']);
    expect(await f('stage=active')).toEqual(['B1', 'A1', 'C2']);
    expect(await f('currency=USD')).toEqual(['C1', 'A2']);
    expect(await f('minAmountMinor=30000')).toEqual(['B1', 'A1', 'A2']);
    expect(await f('maxAmountMinor=30000')).toEqual(['B1', 'C1', 'B2', 'C2']);
    expect(await f('minAmountMinor=50&maxAmountMinor=30000')).toEqual(['B1', 'C1', 'C2']);
    expect(await f(`dueFrom=${due(-70)}&dueTo=${due(-10)}`)).toEqual(['C1', 'A1', 'B2', 'A2']);
    expect(await f('cadenceId=strict')).toEqual(['B1']);
    expect(await f('disputed=true')).toEqual(['C1']);
    expect(await f('disputed=false')).toEqual(['B1', 'A1', 'B2', 'A2', 'C2']);
    expect(await f('promise=active')).toEqual(['A2']);
    expect(await f('promise=none')).toEqual(['B1', 'C1', 'A1', 'B2', 'C2']);
    expect(await f('currency=EUR&bucket=1-30')).toEqual(['B2']);
    expect((await list('currency=EUR&stage=active')).total).toBe(2);
  });

  it('sorts by open amount, days past due, invoice number and due date, paging by offset', async () => {
    const f = async (q: string) => nums(await list(q));
    expect(await f('sort=openAmount&order=desc')).toEqual(['A1', 'A2', 'B1', 'C1', 'C2', 'B2']);
    expect(await f('sort=openAmount')).toEqual(['B2', 'C2', 'C1', 'B1', 'A2', 'A1']);
    expect(await f('sort=daysPastDue')).toEqual(['C2', 'A2', 'B2', 'A1', 'C1', 'B1']);
    expect(await f('sort=daysPastDue&order=desc')).toEqual(['B1', 'C1', 'A1', 'B2', 'A2', 'C2']);
    expect(await f('sort=invoiceNumber&order=desc')).toEqual(['C2', 'C1', 'B2', 'B1', 'A2', 'A1']);
    expect(await f('sort=dueDate&order=desc')).toEqual(['C2', 'A2', 'B2', 'A1', 'C1', 'B1']);
    const page = await list('sort=openAmount&order=desc&limit=4&offset=4');
    expect([nums(page), page.total, page.nextCursor]).toEqual([['C2', 'B2'], 6, null]);
  });

  it('totals the open amounts of the filtered set per currency and converted once', async () => {
    // EUR 100000 + 30000 + 0 = 130000 (3); GBP 50 -> 58.5 -> 58 (half to even); USD 10001 + 50000 = 60001 -> 55200.92 -> 55201.
    expect((await list('amounts=true')).amounts).toEqual({
      reportingCurrency: 'EUR',
      openAmountReportingMinor: 130_000 + 58 + 55_201,
      byCurrency: [
        { currency: 'EUR', count: 3, openAmountMinor: 130_000 },
        { currency: 'GBP', count: 1, openAmountMinor: 50 },
        { currency: 'USD', count: 2, openAmountMinor: 60_001 },
      ],
    });
    // Without C1: USD 50000 -> 46000.
    expect((await list('amounts=true&disputed=false')).amounts.openAmountReportingMinor).toBe(130_000 + 58 + 46_000);
  });

  it('scopes a collector: their portfolio, 403 naming another', async () => {
    expect(nums(await list('', c1))).toEqual(['B1', 'A1', 'B2', 'A2']);
    expect(nums(await list('collectorId=pf-c1&bucket=1-30', c1))).toEqual(['B2', 'A2']);
    expect((await get('/invoices?collectorId=pf-c2', c1)).status).toBe(403);
  });

  it('refuses bad input with 400', async () => {
    for (const q of ['bucket=x', 'bucket=1-45', 'sort=x', 'order=up', 'minAmountMinor=-1', 'dueFrom=2026-13-01', 'disputed=maybe', 'promise=kept', 'currency=eur']) {
      const res = await get(`/invoices?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error, q).toBe('validation_failed');
    }
    const p1 = await list('limit=2');
    expect((await get(`/invoices?sort=openAmount&cursor=${p1.nextCursor}`)).status).toBe(400);
  });
});

describe('a currency without an exchange rate', () => {
  it('is 422 no_exchange_rate naming it and config/reporting.json, for the lists that convert it; a portfolio without it is unaffected', async () => {
    await t.sql`insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date, workflow_id, cadence_id, cadence_version)
      values (${tenantId}, 'D1', 'CD', 'MXN', 1000, 1000, ${due(-40)}, ${due(-10)}, ${`wf-${tenantId}-D1`}, 'standard', 1)`;
    try {
      // (The invoice list's totals are held up to 5 s per filter, api/totals-cache.ts: a filter not asked before.)
      for (const url of ['/customers', '/customers/CD', '/invoices?amounts=true&customerId=CD']) {
        const res = await get(url);
        expect(res.status, url).toBe(422);
        expect(res.body.error, url).toBe('no_exchange_rate');
        expect(res.body.message, url).toMatch(/MXN.*config\/reporting\.json/);
      }
      // Without amounts the invoice list converts nothing; c1's portfolio has no MXN.
      expect((await get('/invoices')).status).toBe(200);
      expect((await get('/customers', c1)).status).toBe(200);
    } finally {
      await t.sql`delete from invoices where tenant_id = ${tenantId} and invoice_number = 'D1'`;
      await t.sql`delete from ar_postings where tenant_id = ${tenantId} and invoice_number = 'D1'`;
      await t.sql`delete from ar_items where tenant_id = ${tenantId} and invoice_number = 'D1'`;
    }
  });
});

describe('through the API as people use it', () => {
  it("enrolment, a note and a reassignment show on the customer's timeline and move it between portfolios", async () => {
    const post = async (method: 'POST' | 'PUT', url: string, payload: unknown, headers = lead) => {
      const res = await t.app.inject({ method, url, headers, payload: payload as object });
      return { status: res.statusCode, body: res.json() as any };
    };
    const enrolled = await post('POST', '/invoices', {
      customer: { id: 'CE', name: 'Echo', email: 'ap@ce.example', timeZone: 'Europe/Berlin', collectorId: 'pf-c2', country: 'AT' },
      invoice: { number: 'E1', currency: 'EUR', amountMinor: 12_345, issueDate: due(-50), dueDate: due(-20) },
    });
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);
    t.started.add(enrolled.body.workflowId);
    expect((await post('POST', '/customers/CE/notes', { note: 'Called the CFO', invoiceNumber: 'E1' })).status).toBe(201);
    expect((await get('/customers/CE', c2)).body.openInvoices).toEqual([expect.objectContaining({ invoiceNumber: 'E1', daysPastDue: 20, bucket: '1-30', enrolled: true })]);
    expect((await post('PUT', '/customers/CE/collector', { collectorId: 'pf-c1' })).status).toBe(200);

    const timeline = (await get('/customers/CE/timeline', c1)).body;
    expect(timeline.items.map((i: any) => `${i.source}:${i.type}`)).toEqual(
      expect.arrayContaining(['audit:invoice_enrolled', 'audit:note_added', 'activity:note', 'audit:customer_reassigned', 'activity:reassignment']),
    );
    expect(timeline.items.find((i: any) => i.type === 'invoice_enrolled')).toMatchObject({ invoiceNumber: 'E1', actor: 'pf-lead' });
    expect(timeline.items.find((i: any) => i.type === 'note_added').summary).toBe('Note: Called the CFO');
    // Oldest first: the enrolment before the note before the reassignment.
    const order = timeline.items.map((i: any) => i.type).filter((x: string) => ['invoice_enrolled', 'note_added', 'customer_reassigned'].includes(x));
    expect(order).toEqual(['invoice_enrolled', 'note_added', 'customer_reassigned']);
    // Now c1's: in their list, out of c2's.
    expect(ids((await get('/customers?sort=name', c1)).body)).toEqual(['CA', 'CB', 'CE']);
    expect((await get('/customers/CE', c2)).status).toBe(403);
    expect((await get('/invoices/E1/timeline', c2)).status).toBe(403);
  });
});
