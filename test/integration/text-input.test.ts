import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoiceWorkflowId } from '../../domain/ids';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * What text the API takes (issue 10 #10, domain/text.ts): names, notes, reasons and the text of cadences and
 * matrices refuse control characters (line feeds and tabs only where text is multi-line), bidirectional
 * overrides and isolates; what is taken is trimmed and NFC-normalised. Before, a customer name with U+202E
 * was stored and went into emails.
 */
const tenantId = `text-${randomUUID().slice(0, 8)}`;
const CUSTOMER = 'CUST-TEXT';
const INVOICE = 'INV-TEXT-1';
const RLO = '\u202E';
let t: TestApp;
let auth: { authorization: string };

beforeAll(async () => {
  t = await startTestApp(tenantId);
  auth = (await userWithToken(t.sql, tenantId, { userId: 'text-admin', role: 'admin' })).headers;
  await t.sql`
    insert into customers (tenant_id, customer_id, name, email, time_zone, locale, segment)
    values (${tenantId}, ${CUSTOMER}, 'Text GmbH', 'ap@text.example', 'Europe/Berlin', 'de-DE', 'standard')`;
  await t.sql`
    insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date,
                          workflow_id, cadence_id, cadence_version)
    values (${tenantId}, ${INVOICE}, ${CUSTOMER}, 'EUR', 50000, 50000, '2026-01-01', '2026-01-31',
            ${invoiceWorkflowId(tenantId, INVOICE)}, 'standard', 1)`;
});
afterAll(async () => {
  await t?.close();
});

async function api(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) {
  const res = await t.app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as any };
}
const enrollment = (number: string, customer: Record<string, unknown>) => ({
  customer: { id: `CUST-${number}`, name: 'Kunde GmbH', email: 'ap@kunde.example', timeZone: 'Europe/Berlin', ...customer },
  invoice: { number, currency: 'EUR', amountMinor: 10_000, issueDate: '2026-01-01', dueDate: '2026-01-31' },
});
function expectRefused(res: { status: number; body: any }, path: string, what: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error).toBe('validation_failed');
  const issue = (res.body.issues as { path: string; message: string }[]).find((i) => i.path === path);
  expect(issue, JSON.stringify(res.body.issues)).toBeDefined();
  expect(issue!.message).toMatch(what);
}

describe('names', () => {
  it('refuses a customer name with a right-to-left override at enrollment, naming the character, and stores nothing', async () => {
    const number = 'INV-TEXT-RLO';
    const res = await api('POST', '/invoices', enrollment(number, { name: `Acme ${RLO}fdp.exe` }));
    expectRefused(res, 'body.customer.name', /U\+202E.*bidirectional.*character 6/);
    expect(await t.sql`select 1 from customers where tenant_id = ${tenantId} and customer_id = ${`CUST-${number}`}`).toHaveLength(0);
  });

  it.each([
    ['a line feed', 'Acme\nGmbH', /U\+000A/],
    ['a tab', 'Acme\tGmbH', /U\+0009/],
    ['a C1 control', 'Acme\u0085GmbH', /U\+0085.*control/],
    ['DEL', 'Acme\u007FGmbH', /U\+007F/],
    ['a first-strong isolate', 'Acme\u2068GmbH', /U\+2068/],
  ])('refuses %s in a contact name', async (_what, name, message) => {
    expectRefused(await api('PUT', `/customers/${CUSTOMER}/contacts/ap-desk`, { name, email: 'ap@text.example' }), 'body.name', message);
  });

  it('stores a name NFC-normalised and trimmed: e + U+0301 is é', async () => {
    const number = 'INV-TEXT-NFC';
    const res = await api('POST', '/invoices', enrollment(number, { name: '  Cafe\u0301 Müller  ', contactName: 'Zoe\u0308' }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    t.started.add(invoiceWorkflowId(tenantId, number));
    const [row] = await t.sql<{ name: string; contact_name: string }[]>`select name, contact_name from customers where tenant_id = ${tenantId} and customer_id = ${`CUST-${number}`}`;
    expect(row).toEqual({ name: 'Caf\u00e9 Müller', contact_name: 'Zo\u00eb' });
  });

  it.each([
    ['POST', '/users', { userId: 'text-user', name: `Ann${RLO}a`, role: 'collector' }, 'body.name'],
    ['POST', '/promises', { customerId: CUSTOMER, madeBy: `AP${RLO}`, promisedDate: '2026-12-01', invoices: [{ number: INVOICE, amountMinor: 100 }] }, 'body.madeBy'],
    ['POST', '/users/text-admin/tokens', { label: 'laptop\u0007' }, 'body.label'],
  ] as const)('%s %s refuses a forbidden character in %s', async (method, url, payload, path) => {
    expectRefused(await api(method, url, payload), path, /must not contain/);
  });
});

describe('notes and reasons', () => {
  it('keeps line breaks and tabs in a note (CR LF as LF) and refuses other controls', async () => {
    const ok = await api('POST', `/customers/${CUSTOMER}/notes`, { note: ' Called AP.\r\n\tThey pay Friday. ' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.note).toBe('Called AP.\n\tThey pay Friday.');
    expectRefused(await api('POST', `/customers/${CUSTOMER}/notes`, { note: 'ring\u0007ring' }), 'body.note', /U\+0007/);
    expectRefused(await api('POST', `/customers/${CUSTOMER}/notes`, { note: `see ${RLO}txt.exe` }), 'body.note', /U\+202E/);
  });

  it.each([
    ['POST', '/tasks', { invoiceNumber: INVOICE, dueAt: '2026-06-01T09:00:00Z', note: `call ${RLO}` }, 'body.note'],
    ['POST', '/tasks/1/outcome', { outcome: { code: 'no_answer' }, note: `x\u001B[31m` }, 'body.note'],
    ['POST', `/invoices/${INVOICE}/pause`, { reason: `asked ${RLO}` }, 'body.reason'],
    ['POST', `/invoices/${INVOICE}/resume`, { note: 'x\u0000y'.replace('\u0000', '\u0001') }, 'body.note'],
    ['POST', `/customers/${CUSTOMER}/pause`, { reason: `x\u2066` }, 'body.reason'],
    ['POST', '/disputes', { invoiceNumber: INVOICE, reasonCode: 'pricing', note: `wrong ${RLO}price` }, 'body.note'],
    ['POST', '/disputes/D-1/resolution', { resolution: 'invalid', rootCause: 'pricing_error', note: `no\u0085` }, 'body.note'],
    ['POST', `/invoices/${INVOICE}/approval-requests`, { action: 'write_off', reason: `insolvent ${RLO}` }, 'body.reason'],
    ['POST', '/approval-requests/AR-1/decision', { decision: 'approve', note: `ok ${RLO}` }, 'body.note'],
    ['POST', `/customers/${CUSTOMER}/contacts/ap-desk/flag`, { reason: `left ${RLO}` }, 'body.reason'],
  ] as const)('%s %s refuses a forbidden character in %s', async (method, url, payload, path) => {
    expectRefused(await api(method, url, payload), path, /must not contain/);
  });
});

describe('cadences and matrices', () => {
  const cadence = (note: string) => ({
    id: 'text-cadence',
    name: 'Text cadence',
    sendAt: '09:30',
    steps: [{ id: 'call-1', anchor: 'due_date', offset: { amount: 1, unit: 'days' }, action: { type: 'call_task', note } }],
  });

  it('refuses a call note with a right-to-left override in validate and save, by path', async () => {
    expectRefused(await api('POST', '/cadences/validate', cadence(`Call ${RLO}now`)), 'body.steps.0.action.note', /U\+202E/);
    const saved = await api('POST', '/cadences', { version: 1, ...cadence(`Call ${RLO}now`) });
    expectRefused(saved, 'body.steps.0.action.note', /U\+202E/);
    expect(await t.sql`select 1 from cadence_versions where tenant_id = ${tenantId} and cadence_id = 'text-cadence'`).toHaveLength(0);
  });

  it('refuses a matrix holding a bidirectional override in a name', async () => {
    const current = await api('GET', '/config/resolution-matrix');
    const document = structuredClone(current.body.document);
    const [team] = Object.keys(document.teams ?? {});
    expect(team).toBeDefined();
    document.teams[team!].name = `Pricing ${RLO}`;
    const res = await api('PUT', '/config/resolution-matrix', document);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toContain(`body.teams.${team}.name`);
  });
});
