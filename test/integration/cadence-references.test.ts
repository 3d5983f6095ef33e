import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCadenceService } from '../../api/cadence-service';
import { loadEmailTemplates } from '../../config/load';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * A cadence may only name what is configured (issue 10 #2, validation half): webhook endpoints (WEBHOOK_ENDPOINTS,
 * the same variable the worker reads), templates (email and statement steps, and the promise courtesy reminder)
 * and escalation roles. Validate, save and activate each answer every bad reference with its path. Before, a
 * webhook step naming an unconfigured endpoint validated as {"valid":true}, saved and activated, and every
 * invoice migrated to it failed.
 */
const tenantId = `refs-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let auth: { authorization: string };

beforeAll(async () => {
  t = await startTestApp(tenantId, { webhookEndpoints: ['crm'] });
  auth = (await userWithToken(t.sql, tenantId, { userId: 'refs-manager', role: 'ar_manager' })).headers;
});
afterAll(async () => {
  await t?.close();
});

async function api(method: 'GET' | 'POST', url: string, payload?: unknown) {
  const res = await t.app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as any };
}
const cadence = (id: string, steps: unknown[], extra: Record<string, unknown> = {}) => ({ id, version: 1, name: `Cadence ${id}`, sendAt: '09:30', steps, ...extra });
const webhookStep = (id: string, endpoint: string, days: number) => ({ id, anchor: 'due_date', offset: { amount: days, unit: 'days' }, action: { type: 'webhook', endpoint, event: 'dunning.step' } });
const emailStep = (id: string, template: string, days: number) => ({ id, anchor: 'due_date', offset: { amount: days, unit: 'days' }, action: { type: 'email', template } });

describe('POST /cadences/validate and POST /cadences', () => {
  const bad = cadence(
    'refs-bad',
    [webhookStep('hook-1', 'crm', 1), webhookStep('hook-2', 'erp-sync', 2), emailStep('mail-1', 'no-such-template', 3)],
    { collection: { promise: { courtesyReminder: { businessDaysBefore: 1, template: 'no-such-courtesy' } } } },
  );

  it('answer each reference that is not configured with an issue at its path, the configured ones none', async () => {
    const expected = [
      { path: 'body.steps.1.action.endpoint', code: 'unknown_webhook_endpoint', message: expect.stringMatching(/"erp-sync" is not configured.*crm/) },
      { path: 'body.steps.2.action.template', code: 'unknown_template', message: 'unknown template "no-such-template"' },
      { path: 'body.collection.promise.courtesyReminder.template', code: 'unknown_template', message: 'unknown template "no-such-courtesy"' },
    ];
    const validated = await api('POST', '/cadences/validate', bad);
    expect(validated.status, JSON.stringify(validated.body)).toBe(400);
    expect(validated.body).toMatchObject({ error: 'validation_failed' });
    expect(validated.body.issues).toEqual(expect.arrayContaining(expected));
    expect(validated.body.issues).toHaveLength(3);

    const saved = await api('POST', '/cadences', bad);
    expect(saved.status, JSON.stringify(saved.body)).toBe(400);
    expect(saved.body).toMatchObject({ error: 'validation_failed' });
    expect(saved.body.issues).toEqual(expect.arrayContaining(expected));
    expect(await t.sql`select 1 from cadence_versions where tenant_id = ${tenantId} and cadence_id = 'refs-bad'`).toHaveLength(0);
  });

  it('refuse an escalation role nobody has, at its path', async () => {
    const res = await api('POST', '/cadences/validate', cadence('refs-role', [{ id: 'esc', anchor: 'due_date', offset: { amount: 1, unit: 'days' }, action: { type: 'escalate', role: 'ceo', note: 'x' } }]));
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['body.steps.0.action.role']);
  });

  it('take a webhook step naming a configured endpoint', async () => {
    const good = cadence('refs-good', [webhookStep('hook-1', 'crm', 1)]);
    expect(await api('POST', '/cadences/validate', good)).toEqual({ status: 200, body: { valid: true } });
    expect((await api('POST', '/cadences', good)).status).toBe(201);
  });
});

describe('activation', () => {
  it('is blocked (409) for a saved version naming an endpoint no longer configured, with the issue by path', async () => {
    const before = createCadenceService({ sql: t.sql, tenantId, templates: loadEmailTemplates(), defaultCadenceId: 'standard', webhookEndpoints: ['crm', 'erp-sync'] });
    const saved = await before.create(cadence('refs-stale', [webhookStep('hook-1', 'erp-sync', 1)]) as never, 'refs-manager');
    const res = await api('POST', `/cadences/refs-stale/versions/${saved.version}/activate`);
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body).toMatchObject({
      error: 'activation_blocked',
      issues: [{ path: 'definition.steps.0.action.endpoint', code: 'unknown_webhook_endpoint' }],
    });
    expect((await api('GET', '/cadences/refs-stale')).body.activeVersion).toBeNull();
  });
});
