import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../api/app';
import { createCadenceService } from '../../api/cadence-service';
import { loadCadence, loadEmailTemplates, PROJECT_ROOT } from '../../config/load';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { cadenceSchema, type Cadence } from '../../domain/cadence';
import { userWithToken } from '../support/auth';

/**
 * Cadences configured through the API (app.inject) against the real PostgreSQL, one fresh tenant per
 * run. Invoices and customers for previews are written straight to the tables: these tests are about
 * cadences, not enrollment. No worker polls the task queue and nothing here should start a workflow.
 */

const tenantId = `cad-${randomUUID().slice(0, 8)}`;
const taskQueue = `cadences-test-${tenantId}`;
const DEFAULT_ID = 'house';
const templates = loadEmailTemplates();

let sql: Sql;
let connection: Connection;
let client: Client;
let app: Awaited<ReturnType<typeof buildApp>>;
/** Every call goes as this AR manager (cadence writes need ar_manager); the audit trail names them. */
const MANAGER = 'cad-manager';
let auth: { authorization: string };

/** A small valid cadence; `id` makes it unique per test. */
function definition(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    version: 1,
    name: `Cadence ${id}`,
    sendAt: '09:30',
    steps: [
      { id: 'reminder-1', anchor: 'due_date', offset: { amount: 1, unit: 'business_days' }, action: { type: 'email', template: 'reminder-friendly' } },
      { id: 'reminder-2', anchor: 'due_date', offset: { amount: 7, unit: 'days' }, action: { type: 'email', template: 'reminder-firm' } },
      { id: 'call-1', anchor: 'due_date', offset: { amount: 14, unit: 'days' }, action: { type: 'call_task', note: 'Call the AP contact.' } },
    ],
    ...overrides,
  };
}

let seq = 0;
const uniqueId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++seq}`;

async function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) {
  const res = await app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
}

/** Saves a definition and activates the version the server gave it. */
async function activeCadence(id: string, overrides: Record<string, unknown> = {}): Promise<number> {
  const created = await api('POST', '/cadences', definition(id, overrides));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const activated = await api('POST', `/cadences/${id}/versions/${created.body.version}/activate`);
  expect(activated.status, JSON.stringify(activated.body)).toBe(200);
  return created.body.version;
}

async function insertCustomer(customerId: string, profile: { segment?: string; country?: string; region?: string; doNotContact?: boolean } = {}) {
  await sql`
    insert into customers (tenant_id, customer_id, name, email, time_zone, locale, segment, country, region, do_not_contact)
    values (${tenantId}, ${customerId}, 'Preview Kunde GmbH', 'ap@kunde.example', 'Europe/Berlin', 'de-DE', ${profile.segment ?? 'standard'},
            ${profile.country ?? null}, ${profile.region ?? null}, ${profile.doNotContact ?? false})`;
}

async function insertInvoice(number: string, customerId: string, pinned: { id: string; version: number }, dueDate: string) {
  await sql`
    insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date,
                          workflow_id, cadence_id, cadence_version)
    values (${tenantId}, ${number}, ${customerId}, 'EUR', 250000, 180000, '2026-01-01', ${dueDate},
            ${`invoice-dunning:${tenantId}:${number}`}, ${pinned.id}, ${pinned.version})`;
}

const cadenceRows = (cadenceId: string) =>
  sql<{ version: number; status: string }[]>`
    select version, status from cadence_versions where tenant_id = ${tenantId} and cadence_id = ${cadenceId} order by version`;
const auditOf = (type: string) =>
  sql`select actor, details from audit_events where tenant_id = ${tenantId} and event_type = ${type} order by id`;
const issuePaths = (body: any) => (body.issues as { path: string }[]).map((i) => i.path).sort();

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 4 });
  await migrate(sql);
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
  const cadence = cadenceSchema.parse(definition(DEFAULT_ID));
  app = await buildApp({ sql, temporal: client, tenantId, taskQueue, templates, defaultCadenceId: DEFAULT_ID, webhookSecret: 'test-secret-0123456789' });
  await app.ready();
  expect(await app.cadences.seedDefaults([cadence])).toEqual([{ id: DEFAULT_ID, version: 1 }]);
  auth = (await userWithToken(sql, tenantId, { userId: MANAGER, role: 'ar_manager' })).headers;
});

afterAll(async () => {
  await app?.close();
  await connection?.close();
  await sql?.end();
});

describe('POST /cadences: versions', () => {
  it('saves a definition as draft version 1, then version 2; the version in the body is ignored', async () => {
    const id = uniqueId('dunning');
    const first = await api('POST', '/cadences', definition(id, { version: 7 }));
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      cadenceId: id,
      version: 1,
      status: 'draft',
      createdAt: expect.any(String),
      createdBy: MANAGER,
      activatedAt: null,
      definition: { ...cadenceSchema.parse(definition(id)), version: 1 },
    });
    const second = await api('POST', '/cadences', definition(id, { name: 'Second thoughts' }));
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ cadenceId: id, version: 2, status: 'draft', definition: { id, version: 2, name: 'Second thoughts' } });
    expect(await cadenceRows(id)).toEqual([
      { version: 1, status: 'draft' },
      { version: 2, status: 'draft' },
    ]);
  });

  it('numbers concurrent saves of one cadence without a gap or a collision', async () => {
    const id = uniqueId('race');
    const results = await Promise.all(Array.from({ length: 5 }, () => api('POST', '/cadences', definition(id))));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(results.map((r) => r.body.version).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('rejects an invalid definition with 400, naming every issue by path in one response, and stores nothing', async () => {
    const id = uniqueId('invalid');
    const bad = definition(id, { sendAt: '9:30' });
    bad.steps[1]!.id = 'reminder-1'; // duplicate
    (bad.steps[2] as { action: unknown }).action = { type: 'fax', note: 'no fax machines here' };
    const res = await api('POST', '/cadences', bad);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_failed', message: expect.any(String) });
    expect(issuePaths(res.body)).toEqual(['body.sendAt', 'body.steps.1.id', 'body.steps.2.action.type']);
    expect(res.body.issues.find((i: { path: string }) => i.path === 'body.steps.1.id').message).toMatch(/duplicate step id "reminder-1"/);
    expect(await cadenceRows(id)).toEqual([]);
  });

  it('rejects a definition naming unknown templates with 400 validation_failed, naming each step path, and stores nothing', async () => {
    const id = uniqueId('tmpl');
    const bad = definition(id);
    bad.steps[0]!.action = { type: 'email', template: 'no-such-template' };
    (bad.steps[2] as { action: unknown }).action = { type: 'statement', template: 'no-such-statement' };
    const res = await api('POST', '/cadences', bad);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.message).toMatch(/body\.steps\.0\.action\.template.*body\.steps\.2\.action\.template/);
    expect(res.body.issues).toEqual([
      { path: 'body.steps.0.action.template', code: 'unknown_template', message: 'unknown template "no-such-template"' },
      { path: 'body.steps.2.action.template', code: 'unknown_template', message: 'unknown template "no-such-statement"' },
    ]);
    expect(await cadenceRows(id)).toEqual([]);
  });
});

describe('POST /cadences/validate', () => {
  it('answers 200 { valid: true } for a good definition and stores nothing', async () => {
    const id = uniqueId('check');
    expect(await api('POST', '/cadences/validate', definition(id))).toEqual({ status: 200, body: { valid: true } });
    expect(await cadenceRows(id)).toEqual([]);
  });

  it('answers 400 validation_failed with schema and template problems together, in the error handler shape', async () => {
    const bad = definition(uniqueId('check'), { sendAt: '25:00' });
    bad.steps[1]!.id = 'reminder-1';
    bad.steps[0]!.action = { type: 'email', template: 'missing' };
    (bad.steps[2] as { action: unknown }).action = { type: 'fax' };
    const res = await api('POST', '/cadences/validate', bad);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'validation_failed', message: 'invalid body', issues: expect.any(Array) });
    expect(issuePaths(res.body)).toEqual(['body.sendAt', 'body.steps.0.action.template', 'body.steps.1.id', 'body.steps.2.action.type']);
    for (const issue of res.body.issues) expect(issue).toEqual({ path: expect.any(String), code: expect.any(String), message: expect.any(String) });
    expect(issuePaths((await api('POST', '/cadences/validate', ['not', 'a', 'cadence'])).body)).toEqual(['body']);
  });
});

describe('activation, listing, reading', () => {
  it('activates a version: the previous active one is retired, exactly one is active, each change audited', async () => {
    const id = uniqueId('act');
    for (let i = 0; i < 3; i++) expect((await api('POST', '/cadences', definition(id))).status).toBe(201);

    const v1 = await api('POST', `/cadences/${id}/versions/1/activate`);
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ cadenceId: id, version: 1, status: 'active', activatedAt: expect.any(String) });
    const v2 = await api('POST', `/cadences/${id}/versions/2/activate`);
    expect(v2.body).toMatchObject({ version: 2, status: 'active' });
    expect(await cadenceRows(id)).toEqual([
      { version: 1, status: 'retired' },
      { version: 2, status: 'active' },
      { version: 3, status: 'draft' },
    ]);

    // Activating the active version again changes nothing; a retired version can come back (a rollback).
    expect((await api('POST', `/cadences/${id}/versions/2/activate`)).body).toMatchObject({ version: 2, status: 'active', activatedAt: v2.body.activatedAt });
    expect((await api('POST', `/cadences/${id}/versions/1/activate`)).body).toMatchObject({ version: 1, status: 'active' });
    expect(await cadenceRows(id)).toEqual([
      { version: 1, status: 'active' },
      { version: 2, status: 'retired' },
      { version: 3, status: 'draft' },
    ]);
    const audit = (await auditOf('cadence_activated')).filter((r) => r.details.cadenceId === id);
    expect(audit).toEqual([
      { actor: MANAGER, details: { cadenceId: id, version: 1, previousVersion: null } },
      { actor: MANAGER, details: { cadenceId: id, version: 2, previousVersion: 1 } },
      { actor: MANAGER, details: { cadenceId: id, version: 1, previousVersion: 2 } },
    ]);
  });

  it('keeps one active version when activations of different versions race', async () => {
    const id = uniqueId('actrace');
    for (let i = 0; i < 4; i++) await api('POST', '/cadences', definition(id));
    const results = await Promise.all([1, 2, 3, 4].map((v) => api('POST', `/cadences/${id}/versions/${v}/activate`)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await cadenceRows(id)).filter((r) => r.status === 'active')).toHaveLength(1);
  });

  it('answers 404 for an unknown cadence or version, and 400 for ids that cannot exist', async () => {
    const id = uniqueId('none');
    expect((await api('POST', `/cadences/${id}/versions/1/activate`)).status).toBe(404);
    expect((await api('GET', `/cadences/${id}`)).body).toMatchObject({ error: 'not_found' });
    expect((await api('GET', `/cadences/${DEFAULT_ID}/versions/99`)).status).toBe(404);
    const bad = await api('GET', `/cadences/Not%20An%20Id/versions/0`);
    expect(bad.status).toBe(400);
    expect(issuePaths(bad.body)).toEqual(['params.cadenceId', 'params.version']);
  });

  it('refuses to activate a saved version whose template has gone since (templates are configuration)', async () => {
    const otherTenant = `${tenantId}-gone`;
    const before = createCadenceService({ sql, tenantId: otherTenant, templates, defaultCadenceId: DEFAULT_ID });
    await before.create(cadenceSchema.parse(definition('soon-stale')), 'api');
    const { 'reminder-firm': _, ...fewer } = templates;
    const after = createCadenceService({ sql, tenantId: otherTenant, templates: fewer, defaultCadenceId: DEFAULT_ID });
    await expect(after.activate('soon-stale', 1, 'api')).rejects.toMatchObject({
      statusCode: 409,
      code: 'activation_blocked',
      details: { issues: [{ path: 'definition.steps.1.action.template', code: 'unknown_template', message: 'unknown template "reminder-firm"' }] },
    });
    expect(await sql`select status from cadence_versions where tenant_id = ${otherTenant}`).toEqual([{ status: 'draft' }]);
  });

  it('lists every cadence with its latest and active version, and shows all versions of one', async () => {
    const id = uniqueId('list');
    await activeCadence(id);
    await api('POST', '/cadences', definition(id, { name: 'Draft of the next one' }));

    const list = await api('GET', '/cadences');
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual({ cadenceId: id, name: 'Draft of the next one', latestVersion: 2, latestStatus: 'draft', activeVersion: 1 });
    expect(list.body.items).toContainEqual({ cadenceId: DEFAULT_ID, name: `Cadence ${DEFAULT_ID}`, latestVersion: 1, latestStatus: 'active', activeVersion: 1 });

    const one = await api('GET', `/cadences/${id}`);
    expect(one.status).toBe(200);
    expect(one.body.cadenceId).toBe(id);
    expect(one.body.activeVersion).toBe(1);
    expect(one.body.versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [1, 'active'],
      [2, 'draft'],
    ]);
    const v2 = await api('GET', `/cadences/${id}/versions/2`);
    expect(v2.status).toBe(200);
    expect(v2.body).toEqual(one.body.versions[1]);
    expect(v2.body.definition.name).toBe('Draft of the next one');
  });
});

describe('segment assignments and customer overrides', () => {
  it('assigns a segment to a cadence with an active version; refuses drafts-only (409) and unknown cadences (404)', async () => {
    const id = uniqueId('seg');
    const draftOnly = uniqueId('seg-draft');
    await api('POST', '/cadences', definition(draftOnly));
    expect(await api('PUT', '/cadence-assignments/high_risk', { cadenceId: draftOnly })).toMatchObject({ status: 409, body: { error: 'cadence_not_active' } });
    expect(await api('PUT', '/cadence-assignments/high_risk', { cadenceId: uniqueId('ghost') })).toMatchObject({ status: 404 });
    expect(issuePaths((await api('PUT', '/cadence-assignments/vip', { cadenceId: id })).body)).toEqual(['params.segment']);

    await activeCadence(id);
    expect(await api('PUT', '/cadence-assignments/high_risk', { cadenceId: id })).toEqual({ status: 200, body: { segment: 'high_risk', cadenceId: id } });
    expect((await api('GET', '/cadence-assignments')).body.items).toContainEqual({ segment: 'high_risk', cadenceId: id });
    const [row] = await sql`select cadence_id from cadence_assignments where tenant_id = ${tenantId} and segment = 'high_risk'`;
    expect(row).toEqual({ cadence_id: id });
    expect((await auditOf('cadence_assigned')).at(-1)).toEqual({ actor: MANAGER, details: { segment: 'high_risk', cadenceId: id } });

    expect((await api('DELETE', '/cadence-assignments/high_risk')).status).toBe(204);
    expect((await api('GET', '/cadence-assignments')).body.items).not.toContainEqual(expect.objectContaining({ segment: 'high_risk' }));
    expect((await api('DELETE', '/cadence-assignments/high_risk')).status).toBe(204); // already gone: still fine
  });

  it('sets and removes a customer override; 404 for an unknown customer', async () => {
    const id = uniqueId('ovr');
    await activeCadence(id);
    const customerId = uniqueId('CUST-OVR');
    expect(await api('PUT', `/customers/${customerId}/cadence`, { cadenceId: id })).toMatchObject({ status: 404, body: { error: 'not_found' } });

    await insertCustomer(customerId);
    expect(await api('PUT', `/customers/${customerId}/cadence`, { cadenceId: id })).toEqual({ status: 200, body: { customerId, cadenceId: id } });
    const override = () => sql`select cadence_override from customers where tenant_id = ${tenantId} and customer_id = ${customerId}`;
    expect(await override()).toEqual([{ cadence_override: id }]);
    expect(await api('PUT', `/customers/${customerId}/cadence`, { cadenceId: uniqueId('ghost') })).toMatchObject({ status: 404 });
    expect(await api('PUT', `/customers/${customerId}/cadence`, { cadenceId: null })).toEqual({ status: 200, body: { customerId, cadenceId: null } });
    expect(await override()).toEqual([{ cadence_override: null }]);
    expect(issuePaths((await api('PUT', `/customers/${customerId}/cadence`, {})).body)).toEqual(['body.cadenceId']);
  });
});

describe('retried configuration changes (no Idempotency-Key)', () => {
  const keysOf = (type: string, field: string, value: string) =>
    sql<{ event_key: string }[]>`
      select event_key from audit_events where tenant_id = ${tenantId} and event_type = ${type} and details->>${field} = ${value} order by id`.then((rows) => rows.map((r) => r.event_key));

  it('an activation, assignment or override again changes and records nothing; each change is keyed by its subject and number', async () => {
    const a = uniqueId('rtr-a');
    const b = uniqueId('rtr-b');
    await activeCadence(a);
    await activeCadence(b);
    expect((await api('POST', '/cadences', definition(a))).status).toBe(201);
    expect((await api('POST', `/cadences/${a}/versions/2/activate`)).status).toBe(200);
    expect((await api('POST', `/cadences/${a}/versions/2/activate`)).status).toBe(200);
    expect((await api('POST', `/cadences/${a}/versions/1/activate`)).status).toBe(200);
    expect(await keysOf('cadence_activated', 'cadenceId', a)).toEqual([1, 2, 3].map((n) => `cadence-activated:${tenantId}:${a}:n${n}`));

    const assigned = await keysOf('cadence_assigned', 'segment', 'standard');
    const n = assigned.length;
    for (const cadenceId of [a, a, b, b, a]) expect((await api('PUT', '/cadence-assignments/standard', { cadenceId })).status).toBe(200);
    expect(await keysOf('cadence_assigned', 'segment', 'standard')).toEqual([...assigned, ...[1, 2, 3].map((i) => `cadence-assigned:${tenantId}:standard:n${n + i}`)]);
    const unassigned = await keysOf('cadence_unassigned', 'segment', 'standard');
    expect((await api('DELETE', '/cadence-assignments/standard')).status).toBe(204);
    expect((await api('DELETE', '/cadence-assignments/standard')).status).toBe(204);
    expect(await keysOf('cadence_unassigned', 'segment', 'standard')).toEqual([...unassigned, `cadence-unassigned:${tenantId}:standard:n${unassigned.length + 1}`]);

    const customerId = uniqueId('CUST-RTR');
    await insertCustomer(customerId);
    for (const cadenceId of [a, a, null, null, a]) expect((await api('PUT', `/customers/${customerId}/cadence`, { cadenceId })).status).toBe(200);
    expect(await keysOf('customer_cadence_set', 'customerId', customerId)).toEqual([1, 2, 3].map((i) => `cadence-override:${tenantId}:${customerId}:n${i}`));
  });
});

describe('resolveFor: the cadence an enrollment pins', () => {
  it('applies customer override > segment assignment > selection rules > default', async () => {
    const vip = uniqueId('vip');
    const strategic = uniqueId('strategic-care');
    const bigEur = uniqueId('big-eur');
    await activeCadence(vip);
    await activeCadence(strategic);
    await activeCadence(bigEur, { selection: { currencies: ['EUR'], minAmountMinor: 1_000_000 } });
    await api('PUT', '/cadence-assignments/strategic', { cadenceId: strategic });
    const customerId = uniqueId('CUST-RES');
    await insertCustomer(customerId, { segment: 'strategic' });
    await api('PUT', `/customers/${customerId}/cadence`, { cadenceId: vip });

    const pinned = async (ctx: Parameters<typeof app.cadences.resolveFor>[0]) => {
      const cadence = await app.cadences.resolveFor(ctx);
      return `${cadence.id}@${cadence.version}`;
    };
    const large = { currency: 'EUR', amountMinor: 2_000_000 };
    expect(await pinned({ customerId, segment: 'strategic', ...large })).toBe(`${vip}@1`);
    expect(await pinned({ segment: 'strategic', ...large })).toBe(`${strategic}@1`);
    expect(await pinned({ customerId: 'CUST-NOBODY', segment: 'strategic', ...large })).toBe(`${strategic}@1`);
    expect(await pinned({ segment: 'standard', ...large })).toBe(`${bigEur}@1`);
    expect(await pinned({ segment: 'standard', currency: 'USD', amountMinor: 2_000_000 })).toBe(`${DEFAULT_ID}@1`);
    expect(await pinned({ segment: 'standard', currency: 'EUR', amountMinor: 999_999 })).toBe(`${DEFAULT_ID}@1`);

    // The active version is what gets pinned: a new one activated is what the next enrollment takes.
    await api('POST', '/cadences', definition(vip, { name: 'VIP, gentler' }));
    await api('POST', `/cadences/${vip}/versions/2/activate`);
    expect(await pinned({ customerId, segment: 'strategic', ...large })).toBe(`${vip}@2`);

    // Without the override the segment decides; without the assignment, the rules.
    await api('PUT', `/customers/${customerId}/cadence`, { cadenceId: null });
    expect(await pinned({ customerId, segment: 'strategic', ...large })).toBe(`${strategic}@1`);
    await api('DELETE', '/cadence-assignments/strategic');
    expect(await pinned({ customerId, segment: 'strategic', ...large })).toBe(`${bigEur}@1`);
  });
});

describe('POST /cadences/preview', () => {
  const berlin = { timeZone: 'Europe/Berlin', segment: 'standard' };
  const inlineInvoice = { currency: 'EUR', amountMinor: 120_000, dueDate: '2026-03-02' };

  it('dates an inline cadence for an inline invoice: business days and send time in the customer time zone', async () => {
    const id = uniqueId('inline');
    const res = await api('POST', '/cadences/preview', { cadence: definition(id), invoice: inlineInvoice, customer: berlin, asOf: '2026-03-01T00:00:00Z' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      cadence: { id, version: 1 },
      steps: [
        { stepId: 'reminder-1', action: 'email', at: '2026-03-03T08:30:00.000Z', status: 'scheduled' }, // Mon due + 1 business day, 09:30 CET
        { stepId: 'reminder-2', action: 'email', at: '2026-03-09T08:30:00.000Z', status: 'scheduled' },
        { stepId: 'call-1', action: 'call_task', at: '2026-03-16T08:30:00.000Z', status: 'scheduled' },
      ],
    });
    expect(await cadenceRows(id)).toEqual([]);
  });

  it("counts the customer's public holidays when a country is known", async () => {
    const body = { cadence: definition(uniqueId('easter')), invoice: { ...inlineInvoice, dueDate: '2026-04-02' }, asOf: '2026-03-01T00:00:00Z' };
    const firstStep = async (customer: object) => (await api('POST', '/cadences/preview', { ...body, customer })).body.steps[0];
    // Thursday before Easter + 1 business day: Good Friday without a calendar; in Germany Good Friday
    // and Easter Monday are public holidays, so Tuesday. 09:30 CEST is 07:30Z.
    expect(await firstStep(berlin)).toMatchObject({ stepId: 'reminder-1', at: '2026-04-03T07:30:00.000Z' });
    expect(await firstStep({ ...berlin, country: 'DE' })).toMatchObject({ stepId: 'reminder-1', at: '2026-04-07T07:30:00.000Z' });
    const unknownRegion = await api('POST', '/cadences/preview', { ...body, customer: { ...berlin, country: 'DE', region: 'XX' } });
    expect(unknownRegion).toMatchObject({ status: 400, body: { error: 'unknown_holiday_calendar' } });
  });

  it('supersedes the steps already passed as of asOf: the latest due one runs at asOf, earlier ones are passed over', async () => {
    const res = await api('POST', '/cadences/preview', { cadence: definition(uniqueId('late')), invoice: inlineInvoice, customer: berlin, asOf: '2026-03-10T12:00:00Z' });
    expect(res.status).toBe(200);
    expect(res.body.steps).toEqual([
      { stepId: 'reminder-1', action: 'email', at: '2026-03-03T08:30:00.000Z', status: 'superseded', reason: 'superseded by reminder-2' },
      { stepId: 'reminder-2', action: 'email', at: '2026-03-10T12:00:00.000Z', status: 'scheduled' },
      { stepId: 'call-1', action: 'call_task', at: '2026-03-16T08:30:00.000Z', status: 'scheduled' },
    ]);
  });

  it('shows skipped steps with their reason: do not contact, a minimum open amount', async () => {
    const cadence = definition(uniqueId('skips'));
    (cadence.steps[1] as Record<string, unknown>).conditions = { minOpenAmount: { EUR: 500_000 } };
    const preview = async (customer: object) => {
      const res = await api('POST', '/cadences/preview', { cadence, invoice: inlineInvoice, customer, asOf: '2026-03-01T00:00:00Z' });
      expect(res.status).toBe(200);
      return res.body.steps.map((s: { stepId: string; status: string; reason?: string }) => [s.stepId, s.status, s.reason]);
    };
    expect(await preview(berlin)).toEqual([
      ['reminder-1', 'scheduled', undefined],
      ['reminder-2', 'skipped', expect.stringMatching(/below EUR minimum 500000/)],
      ['call-1', 'scheduled', undefined],
    ]);
    // Do-not-contact stops customer-facing steps; the collector's call task stays (the step does not list it in skipIf).
    expect(await preview({ ...berlin, doNotContact: true })).toEqual([
      ['reminder-1', 'skipped', 'do_not_contact'],
      ['reminder-2', 'skipped', 'do_not_contact'],
      ['call-1', 'scheduled', undefined],
    ]);
  });

  it('previews a saved cadence (active version by default, or a given one) for an enrolled invoice and its customer', async () => {
    const id = uniqueId('saved');
    await activeCadence(id);
    await api('POST', '/cadences', definition(id, { steps: definition(id).steps.slice(0, 1) })); // v2, a draft with one step
    const customerId = uniqueId('CUST-PRE');
    const number = uniqueId('INV-PRE');
    await insertCustomer(customerId, { country: 'DE' });
    await insertInvoice(number, customerId, { id, version: 1 }, '2026-04-02');

    const active = await api('POST', '/cadences/preview', { cadence: { id }, invoice: { number }, asOf: '2026-03-01T00:00:00Z' });
    expect(active.status, JSON.stringify(active.body)).toBe(200);
    expect(active.body.cadence).toEqual({ id, version: 1 });
    expect(active.body.steps.map((s: { stepId: string; at: string }) => [s.stepId, s.at])).toEqual([
      ['reminder-1', '2026-04-07T07:30:00.000Z'], // the stored customer is in Germany: Easter holidays count
      ['reminder-2', '2026-04-09T07:30:00.000Z'],
      ['call-1', '2026-04-16T07:30:00.000Z'],
    ]);
    const draft = await api('POST', '/cadences/preview', { cadence: { id, version: 2 }, invoice: { number }, asOf: '2026-03-01T00:00:00Z' });
    expect(draft.body.cadence).toEqual({ id, version: 2 });
    expect(draft.body.steps.map((s: { stepId: string }) => s.stepId)).toEqual(['reminder-1']);

    // Without a cadence: the version the invoice pinned. With a customer: that profile instead of the stored one.
    const pinned = await api('POST', '/cadences/preview', { invoice: { number }, customer: berlin, asOf: '2026-03-01T00:00:00Z' });
    expect(pinned.body.cadence).toEqual({ id, version: 1 });
    expect(pinned.body.steps[0]).toMatchObject({ stepId: 'reminder-1', at: '2026-04-03T07:30:00.000Z' });
  });

  it('without a cadence for an inline invoice, previews the one enrollment would pin', async () => {
    const res = await api('POST', '/cadences/preview', { invoice: { ...inlineInvoice, currency: 'JPY', amountMinor: 1 }, customer: berlin, asOf: '2026-03-01T00:00:00Z' });
    expect(res.status).toBe(200);
    expect(res.body.cadence).toEqual({ id: DEFAULT_ID, version: 1 });
  });

  it('answers 400, 404 and 409 for what it cannot preview', async () => {
    const asOf = '2026-03-01T00:00:00Z';
    const noCustomer = await api('POST', '/cadences/preview', { cadence: definition(uniqueId('x')), invoice: inlineInvoice, asOf });
    expect(noCustomer.status).toBe(400);
    expect(issuePaths(noCustomer.body)).toEqual(['body.customer']);

    const broken = definition(uniqueId('x'), { sendAt: 'soon' });
    (broken.steps[0] as { offset: unknown }).offset = { amount: 1, unit: 'fortnights' };
    const bad = await api('POST', '/cadences/preview', { cadence: broken, invoice: { ...inlineInvoice, amountMinor: '12' }, customer: berlin, asOf: 'tomorrow' });
    expect(bad.status).toBe(400);
    expect(issuePaths(bad.body)).toEqual(['body.asOf', 'body.cadence.sendAt', 'body.cadence.steps.0.offset.unit', 'body.invoice.amountMinor']);

    const tmpl = definition(uniqueId('x'));
    tmpl.steps[1]!.action = { type: 'email', template: 'gone' };
    const unknownTemplate = await api('POST', '/cadences/preview', { cadence: tmpl, invoice: inlineInvoice, customer: berlin, asOf });
    expect(unknownTemplate).toMatchObject({ status: 400, body: { error: 'unknown_template', issues: [{ path: 'body.cadence.steps.1.action.template' }] } });

    expect((await api('POST', '/cadences/preview', { cadence: { id: uniqueId('ghost') }, invoice: inlineInvoice, customer: berlin })).status).toBe(404);
    expect((await api('POST', '/cadences/preview', { cadence: { id: DEFAULT_ID }, invoice: { number: uniqueId('NOPE') } })).status).toBe(404);
    const draftOnly = uniqueId('draft-only');
    await api('POST', '/cadences', definition(draftOnly));
    expect(await api('POST', '/cadences/preview', { cadence: { id: draftOnly }, invoice: inlineInvoice, customer: berlin })).toMatchObject({
      status: 409,
      body: { error: 'cadence_not_active' },
    });
  });

  it('writes nothing and starts nothing', async () => {
    const id = uniqueId('quiet');
    await activeCadence(id);
    const customerId = uniqueId('CUST-Q');
    const number = uniqueId('INV-Q');
    await insertCustomer(customerId, { country: 'DE' });
    await insertInvoice(number, customerId, { id, version: 1 }, '2026-03-02');
    const counts = async () =>
      (
        await sql`
          select (select count(*) from cadence_versions)::int as cadence_versions, (select count(*) from cadence_assignments)::int as assignments,
                 (select count(*) from audit_events)::int as audit_events, (select count(*) from customers)::int as customers,
                 (select count(*) from invoices)::int as invoices, (select count(*) from outbound_messages)::int as outbound_messages,
                 (select count(*) from call_tasks)::int as call_tasks,
                 (select max(updated_at) from customers where tenant_id = ${tenantId}) as customers_updated,
                 (select max(updated_at) from invoices where tenant_id = ${tenantId}) as invoices_updated`
      )[0];
    const before = await counts();
    const previews = [
      { cadence: { id }, invoice: { number } },
      { invoice: { number }, asOf: '2026-03-20T00:00:00Z' },
      { cadence: definition(uniqueId('inline')), invoice: inlineInvoice, customer: berlin },
      { invoice: inlineInvoice, customer: { ...berlin, country: 'DE' } },
    ];
    for (const body of previews) expect((await api('POST', '/cadences/preview', body)).status).toBe(200);
    expect(await counts()).toEqual(before);
    expect((await client.workflow.count(`TaskQueue = '${taskQueue}'`)).count).toBe(0);
  });
});

describe('seedDefaults: the configuration-file cadences at start-up', () => {
  it('stores each file cadence as its file version, active, once; later starts change nothing', async () => {
    const otherTenant = `${tenantId}-seed`;
    const service = createCadenceService({ sql, tenantId: otherTenant, templates, defaultCadenceId: DEFAULT_ID });
    const files = readdirSync(path.join(PROJECT_ROOT, 'config/cadences')).filter((f) => f.endsWith('.json'));
    const shipped: Cadence[] = files.map((f) => loadCadence(path.join('config/cadences', f)));
    expect(shipped.length).toBeGreaterThan(0);

    const seeded = await service.seedDefaults(shipped);
    expect(seeded).toEqual(shipped.map((c) => ({ id: c.id, version: c.version })));
    expect(await service.seedDefaults(shipped)).toEqual([]);
    const rows = await sql`select cadence_id, version, status, created_by from cadence_versions where tenant_id = ${otherTenant} order by cadence_id`;
    expect(rows).toEqual(
      shipped.map((c) => ({ cadence_id: c.id, version: c.version, status: 'active', created_by: 'config' })).sort((a, b) => a.cadence_id.localeCompare(b.cadence_id)),
    );
    expect((await service.activeCadences()).map((c) => c.id).sort()).toEqual(shipped.map((c) => c.id).sort());

    // A cadence changed through the API is not overwritten by the file at the next start.
    const first = shipped[0]!;
    await service.create({ ...first, name: 'Changed by the AR team' }, 'api');
    await service.activate(first.id, first.version + 1, 'api');
    expect(await service.seedDefaults(shipped)).toEqual([]);
    expect((await service.activeCadences()).find((c) => c.id === first.id)).toMatchObject({ version: first.version + 1, name: 'Changed by the AR team' });
  });

  it('refuses file cadences that name unknown templates', async () => {
    const service = createCadenceService({ sql, tenantId: `${tenantId}-bad`, templates: {}, defaultCadenceId: DEFAULT_ID });
    await expect(service.seedDefaults([cadenceSchema.parse(definition('needs-templates'))])).rejects.toMatchObject({ code: 'unknown_template' });
    expect(await sql`select 1 from cadence_versions where tenant_id = ${`${tenantId}-bad`}`).toEqual([]);
  });
});

describe('OpenAPI', () => {
  it('publishes the cadence routes', async () => {
    const res = await api('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/cadences',
        '/cadences/validate',
        '/cadences/preview',
        '/cadences/{cadenceId}',
        '/cadences/{cadenceId}/versions/{version}',
        '/cadences/{cadenceId}/versions/{version}/activate',
        '/cadence-assignments',
        '/cadence-assignments/{segment}',
        '/customers/{customerId}/cadence',
      ]),
    );
  });
});
