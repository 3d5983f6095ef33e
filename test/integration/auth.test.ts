import { createHash, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { authenticate, issueToken, parseToken, revokeToken } from '../../api/auth';
import type { Sql } from '../../db/sql';
import { startTestApp, type TestApp } from '../support/test-app';
import { userWithToken } from '../support/auth';

/**
 * Users, tokens, roles and portfolios through the HTTP API (app.inject) against the real PostgreSQL
 * and Temporal dev server (no worker: enrolled workflows just wait), and the users CLI as a process.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const tenantId = `auth-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let sql: Sql;
let client: Client;
let app: TestApp['app'];
let started: Set<string>;
type Caller = Awaited<ReturnType<typeof userWithToken>>;
let admin: Caller, manager: Caller, lead: Caller, anna: Caller, ben: Caller;

beforeAll(async () => {
  t = await startTestApp(tenantId);
  ({ sql, client, app, started } = t);
  admin = await userWithToken(sql, tenantId, { userId: 'admin', role: 'admin' });
  manager = await userWithToken(sql, tenantId, { userId: 'mark', role: 'ar_manager', name: 'Mark Jensen' });
  lead = await userWithToken(sql, tenantId, { userId: 'lena', role: 'team_lead' });
  anna = await userWithToken(sql, tenantId, { userId: 'anna', role: 'collector', name: 'Anna Berg' });
  ben = await userWithToken(sql, tenantId, { userId: 'ben', role: 'collector' });
});

afterAll(async () => {
  await t?.close();
});

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, as: Caller | { authorization?: string } | undefined, payload?: unknown) {
  const headers = as === undefined ? {} : 'headers' in as ? as.headers : as;
  const res = await app.inject({ method, url, headers: headers as Record<string, string>, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let seq = 0;
const uniqueNumber = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++seq}`;

/** Enrolls a fresh invoice (as the admin) for a customer of the given collector's portfolio. */
async function enrolled(customerId: string, collectorId: string): Promise<string> {
  const number = uniqueNumber('AUTH');
  const res = await call('POST', '/invoices', admin, {
    customer: { id: customerId, name: `${customerId} GmbH`, email: 'ap@customer.example', timeZone: 'Europe/Berlin', locale: 'de-DE', collectorId },
    invoice: { number, currency: 'EUR', amountMinor: 50_000, issueDate: '2026-01-01', dueDate: '2026-01-31' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  started.add(res.body.workflowId);
  return number;
}

describe('authentication', () => {
  it('answers 401 unauthorized with a clear message without a token, or with a malformed, unknown or wrong one', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /^missing Authorization header/],
      [{ authorization: 'Basic YWRtaW46YWRtaW4=' }, /^malformed Authorization header: expected "Bearer <token>"/],
      [bearer('not-a-token'), /^malformed API token: expected dun_<tokenId>_<secret>/],
      [bearer('dun_nosuchtoken_0123456789abcdef0123'), /^unknown API token$/],
      [bearer(`dun_${parseToken(anna.token)!.tokenId}_${'x'.repeat(43)}`), /^unknown API token$/], // right id, wrong secret
    ];
    for (const [headers, message] of cases) {
      const res = await call('GET', '/invoices', headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.body.error).toBe('unauthorized');
      expect(res.body.message).toMatch(message);
    }
  });

  it('checks the token before validating the request: no token, no 400', async () => {
    const res = await call('POST', '/invoices', undefined, { nonsense: true });
    expect(res).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect((await call('GET', '/no-such-route', undefined)).status).toBe(401);
    expect((await call('GET', '/no-such-route', admin)).status).toBe(404);
  });

  it('refuses a revoked token, an expired one, an inactive user and a token of another tenant', async () => {
    const revoked = await issueToken(sql, tenantId, 'ben', { label: 'to revoke' });
    expect((await call('GET', '/me', bearer(revoked.token))).status).toBe(200);
    expect(await revokeToken(sql, tenantId, revoked.tokenId)).toBe(true);
    expect(await revokeToken(sql, tenantId, revoked.tokenId)).toBe(true); // again: still revoked, fine
    expect(await revokeToken(sql, 'other-tenant', revoked.tokenId)).toBe(false);
    expect(await call('GET', '/me', bearer(revoked.token))).toMatchObject({ status: 401, body: { error: 'unauthorized', message: expect.stringMatching(/was revoked at/) } });

    const expired = await issueToken(sql, tenantId, 'ben', { expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(await call('GET', '/me', bearer(expired.token))).toMatchObject({ status: 401, body: { message: expect.stringMatching(/expired at/) } });
    const later = await issueToken(sql, tenantId, 'ben', { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await call('GET', '/me', bearer(later.token))).status).toBe(200);

    await userWithToken(sql, tenantId, { userId: 'leaver', role: 'collector' });
    const leaver = await issueToken(sql, tenantId, 'leaver');
    await sql`update users set active = false where tenant_id = ${tenantId} and user_id = 'leaver'`;
    expect(await call('GET', '/me', bearer(leaver.token))).toMatchObject({ status: 401, body: { message: 'user leaver is inactive' } });

    const elsewhere = await userWithToken(sql, `${tenantId}-b`, { userId: 'admin', role: 'admin' });
    expect(await call('GET', '/me', elsewhere)).toMatchObject({ status: 401, body: { message: 'API token belongs to another tenant' } });
  });

  it('stores only the SHA-256 of the secret, never the token; records when a token was last used', async () => {
    const { tokenId, secret } = parseToken(anna.token)!;
    const [row] = await sql`select *, row_to_json(api_tokens)::text as everything from api_tokens where token_id = ${tokenId}`;
    expect(row!.secret_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.secret_sha256).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(row!.everything).not.toContain(secret);
    expect(row!.everything).not.toContain(anna.token);
    const stored = (await sql`select row_to_json(t)::text as r from api_tokens t where tenant_id = ${tenantId}`).map((r) => r.r as string).join('\n');
    for (const c of [admin, manager, lead, anna, ben]) expect(stored).not.toContain(parseToken(c.token)!.secret);

    await call('GET', '/me', anna);
    const [used] = await sql`select last_used_at from api_tokens where token_id = ${tokenId}`;
    expect(used!.last_used_at).toBeInstanceOf(Date);
    expect(Date.now() - (used!.last_used_at as Date).getTime()).toBeLessThan(60_000);
    await call('GET', '/me', anna); // within the minute: not written again
    const [again] = await sql`select last_used_at from api_tokens where token_id = ${tokenId}`;
    expect(again!.last_used_at).toEqual(used!.last_used_at);
  });

  it('authenticate() answers the user behind the header', async () => {
    expect(await authenticate(sql, tenantId, `Bearer ${anna.token}`)).toEqual({ tenantId, userId: 'anna', name: 'Anna Berg', role: 'collector', approvalLimitMinor: null, team: null });
  });
});

describe('public endpoints', () => {
  it('health, the OpenAPI document and the docs need no token', async () => {
    expect(await call('GET', '/health', undefined)).toEqual({ status: 200, body: { ok: true } });
    const spec = await call('GET', '/openapi.json', undefined);
    expect(spec.status).toBe(200);
    expect(spec.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(spec.body.security).toEqual([{ bearerAuth: [] }]);
    expect(spec.body.paths['/health'].get.security).toEqual([]);
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/me', '/users', '/users/{userId}/tokens', '/tokens/{tokenId}']));
    for (const url of ['/docs', '/docs/', '/docs/json', '/docs/static/index.html']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBeLessThan(400);
    }
  });

  it('the ERP webhook is checked by its signature, not a token', async () => {
    const res = await app.inject({ method: 'POST', url: '/webhooks/erp', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'bad_signature' });
  });
});

describe('roles and portfolios', () => {
  it('GET /me answers the user and role', async () => {
    expect(await call('GET', '/me', manager)).toEqual({ status: 200, body: { tenantId, userId: 'mark', name: 'Mark Jensen', role: 'ar_manager', approvalLimitMinor: null, team: null } });
  });

  it('a collector lists only their portfolio; the others list every invoice', async () => {
    const annas = [await enrolled('CUST-ANNA-1', 'anna'), await enrolled('CUST-ANNA-2', 'anna')];
    const bens = [await enrolled('CUST-BEN-1', 'ben')];
    const numbers = (body: { items: { number: string }[] }) => body.items.map((i) => i.number).sort();

    const annaList = await call('GET', '/invoices?limit=500', anna);
    expect(annaList.status).toBe(200);
    expect(numbers(annaList.body)).toEqual([...annas].sort());
    expect(annaList.body.total).toBe(2);
    expect(numbers((await call('GET', '/invoices?limit=500', ben)).body)).toEqual(bens);
    // Another portfolio's customer is 403, as on every route naming a customer (issue 10 #16; was 200 with an empty list).
    expect(await call('GET', '/invoices?customerId=CUST-BEN-1', anna)).toMatchObject({ status: 403, body: { error: 'not_in_portfolio' } });
    for (const c of [lead, manager, admin]) expect(numbers((await call('GET', '/invoices?limit=500', c)).body)).toEqual([...annas, ...bens].sort());
  });

  it("a collector gets 403 on another portfolio's invoice and payment, and stores nothing; 404 stays 404", async () => {
    const annas = await enrolled('CUST-ANNA-3', 'anna');
    const bens = await enrolled('CUST-BEN-2', 'ben');
    expect((await call('GET', `/invoices/${annas}`, anna)).status).toBe(200);
    expect(await call('GET', `/invoices/${bens}`, anna)).toMatchObject({ status: 403, body: { error: 'not_in_portfolio', message: expect.stringMatching(/not in the portfolio of anna/) } });
    expect((await call('GET', `/invoices/${bens}`, lead)).status).toBe(200);
    expect(await call('GET', `/invoices/${uniqueNumber('NOPE')}`, anna)).toMatchObject({ status: 404, body: { error: 'not_found' } });

    const payment = { paymentId: `PAY-${randomUUID().slice(0, 8)}`, amountMinor: 1_000, currency: 'EUR' };
    expect(await call('POST', `/invoices/${bens}/payments`, anna, payment)).toMatchObject({ status: 403, body: { error: 'not_in_portfolio' } });
    expect(await sql`select 1 from payments where tenant_id = ${tenantId} and payment_id = ${payment.paymentId}`).toHaveLength(0);
    expect((await call('POST', `/invoices/${uniqueNumber('NOPE')}/payments`, anna, payment)).status).toBe(404);
    // Her own invoice passes the access check (and then meets the usual rules: here a currency mismatch).
    expect(await call('POST', `/invoices/${annas}/payments`, anna, { ...payment, currency: 'USD' })).toMatchObject({ status: 422, body: { error: 'currency_mismatch' } });
  });

  it('enrollment needs a team lead or above, and the audit trail names who enrolled', async () => {
    const body = (number: string) => ({
      customer: { id: 'CUST-LEAD', name: 'Lead Kunde GmbH', email: 'ap@lead.example', timeZone: 'Europe/Berlin', collectorId: 'anna' },
      invoice: { number, currency: 'EUR', amountMinor: 10_000, issueDate: '2026-01-01', dueDate: '2026-01-31' },
    });
    const refused = uniqueNumber('COL');
    expect(await call('POST', '/invoices', anna, body(refused))).toMatchObject({ status: 403, body: { error: 'role_too_low', requiredRole: 'team_lead' } });
    expect(await sql`select 1 from invoices where tenant_id = ${tenantId} and invoice_number = ${refused}`).toHaveLength(0);
    const number = uniqueNumber('LEAD');
    const res = await call('POST', '/invoices', lead, body(number));
    expect(res.status).toBe(201);
    started.add(res.body.workflowId);
    expect(await sql`select actor from audit_events where tenant_id = ${tenantId} and invoice_number = ${number}`).toEqual([{ actor: 'lena' }]);
  });

  it('cadences: every role reads and previews; writes need an AR manager', async () => {
    const id = `auth-${Date.now().toString(36)}`;
    const definition = {
      id,
      version: 1,
      name: 'Auth test cadence',
      sendAt: '09:30',
      steps: [{ id: 'reminder-1', anchor: 'due_date', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } }],
    };
    expect((await call('GET', '/cadences', anna)).status).toBe(200);
    expect((await call('GET', '/cadence-assignments', anna)).status).toBe(200);
    expect(await call('POST', '/cadences/validate', anna, definition)).toEqual({ status: 200, body: { valid: true } });
    const preview = await call('POST', '/cadences/preview', anna, {
      cadence: definition,
      invoice: { currency: 'EUR', amountMinor: 120_000, dueDate: '2026-03-02' },
      customer: { timeZone: 'Europe/Berlin', segment: 'standard' },
      asOf: '2026-03-01T00:00:00Z',
    });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    for (const c of [anna, lead]) expect(await call('POST', '/cadences', c, definition)).toMatchObject({ status: 403, body: { error: 'role_too_low' } });
    const created = await call('POST', '/cadences', manager, definition);
    expect(created).toMatchObject({ status: 201, body: { createdBy: 'mark' } });
    expect((await call('GET', `/cadences/${id}/versions/1`, anna)).status).toBe(200);
    expect((await call('POST', `/cadences/${id}/versions/1/activate`, lead)).status).toBe(403);
    expect((await call('POST', `/cadences/${id}/versions/1/activate`, manager)).status).toBe(200);
    expect((await call('PUT', '/cadence-assignments/high_risk', anna, { cadenceId: id })).status).toBe(403);
    expect((await call('DELETE', '/cadence-assignments/high_risk', lead)).status).toBe(403);
    expect((await call('PUT', '/customers/CUST-ANNA-1/cadence', anna, { cadenceId: id })).status).toBe(403);
    expect((await call('POST', `/cadences/${id}/versions/1/migrate`, lead, {})).status).toBe(403);
    expect((await call('POST', `/cadences/${id}/versions/1/migrate`, manager, { invoiceNumbers: ['NONE-1'] })).status).toBe(202);
    expect((await call('PUT', '/cadence-assignments/high_risk', admin, { cadenceId: id })).status).toBe(200);
    expect((await call('DELETE', '/cadence-assignments/high_risk', manager)).status).toBe(204);
  });
});

describe('user administration through the API', () => {
  it('an admin creates a user and a token; the token works, once shown; revoking it stops it', async () => {
    const created = await call('POST', '/users', admin, { userId: 'carla', name: 'Carla Diaz', role: 'collector', approvalLimitMinor: 250_000 });
    expect(created).toEqual({ status: 201, body: { userId: 'carla', name: 'Carla Diaz', role: 'collector', approvalLimitMinor: 250_000, team: null } });
    expect(await call('POST', '/users', admin, { userId: 'carla', name: 'Carla Again', role: 'admin' })).toMatchObject({ status: 409, body: { error: 'user_exists' } });

    const issued = await call('POST', '/users/carla/tokens', admin, { label: 'laptop' });
    expect(issued).toMatchObject({ status: 201, body: { userId: 'carla', label: 'laptop', expiresAt: null, token: expect.stringMatching(/^dun_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/) } });
    const carla = bearer(issued.body.token);
    expect(await call('GET', '/me', carla)).toMatchObject({ status: 200, body: { userId: 'carla', role: 'collector', approvalLimitMinor: 250_000 } });

    const listed = await call('GET', '/users', admin);
    expect(listed.status).toBe(200);
    const entry = listed.body.items.find((u: { userId: string }) => u.userId === 'carla');
    expect(entry).toMatchObject({ role: 'collector', active: true, tokens: [{ tokenId: issued.body.tokenId, label: 'laptop', revokedAt: null, lastUsedAt: expect.any(String) }] });
    expect(JSON.stringify(listed.body)).not.toContain(issued.body.token.split('_').at(-1));

    expect((await call('DELETE', `/tokens/${issued.body.tokenId}`, admin)).status).toBe(204);
    expect((await call('DELETE', `/tokens/${issued.body.tokenId}`, admin)).status).toBe(204);
    expect((await call('DELETE', '/tokens/nosuchtoken', admin)).status).toBe(404);
    expect(await call('GET', '/me', carla)).toMatchObject({ status: 401, body: { message: expect.stringMatching(/revoked/) } });
  });

  it('a user may belong to an owner team (disputes): POST /users, GET /me and GET /users show it', async () => {
    const created = await call('POST', '/users', admin, { userId: 'paula', name: 'Paula Pricing', role: 'team_member', team: 'pricing' });
    expect(created).toEqual({ status: 201, body: { userId: 'paula', name: 'Paula Pricing', role: 'team_member', approvalLimitMinor: null, team: 'pricing' } });
    const issued = await call('POST', '/users/paula/tokens', admin, {});
    expect(await call('GET', '/me', bearer(issued.body.token))).toMatchObject({ status: 200, body: { userId: 'paula', role: 'team_member', team: 'pricing' } });
    const listed = await call('GET', '/users', admin);
    expect(listed.body.items.find((u: { userId: string }) => u.userId === 'paula')).toMatchObject({ team: 'pricing' });
    expect(listed.body.items.find((u: { userId: string }) => u.userId === 'anna')).toMatchObject({ team: null });
    const bad = await call('POST', '/users', admin, { userId: 'x', name: 'X', role: 'team_member', team: 'Not A Team' });
    expect(bad).toMatchObject({ status: 400, body: { error: 'validation_failed', issues: [{ path: 'body.team' }] } });
  });

  it('only admins administer users; bad input answers 400 with the issues', async () => {
    for (const c of [anna, lead, manager]) {
      expect((await call('GET', '/users', c)).status).toBe(403);
      expect((await call('POST', '/users', c, { userId: 'x', name: 'X', role: 'admin' })).status).toBe(403);
      expect((await call('POST', '/users/anna/tokens', c, {})).status).toBe(403);
      expect((await call('DELETE', `/tokens/${parseToken(anna.token)!.tokenId}`, c)).status).toBe(403);
    }
    const bad = await call('POST', '/users', admin, { userId: 'Not Valid', name: '', role: 'boss', approvalLimitMinor: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_failed');
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body.approvalLimitMinor', 'body.name', 'body.role', 'body.userId']);
    expect(await call('POST', '/users/nobody/tokens', admin, {})).toMatchObject({ status: 404, body: { error: 'not_found' } });
    const past = await call('POST', '/users/anna/tokens', admin, { expiresAt: '2020-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
    expect(past.body.issues.map((i: { path: string }) => i.path)).toEqual(['body.expiresAt']);
  });
});

describe('users CLI', () => {
  function cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'api', 'users-cli.ts'), ...args],
        { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: inject('databaseUrl'), TENANT_ID: tenantId }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(stdin ?? '');
    });
  }

  it('sets a web console password: generated and printed once, or read from standard input; verified by the hash, audited', async () => {
    const { verifyPassword } = await import('../../api/console/passwords');
    const hashOf = async () => (await sql<{ password_hash: string | null }[]>`select password_hash from users where tenant_id = ${tenantId} and user_id = 'anna'`)[0]!.password_hash;
    const generated = await cli(['password', 'anna']);
    expect(generated.code, generated.stderr).toBe(0);
    const password = generated.stdout.trim();
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(generated.stderr).toMatch(/console password set for anna .*shown only this once/);
    expect(await verifyPassword(password, await hashOf())).toBe(true);
    const typed = await cli(['password', 'anna', '--stdin'], 'correct horse battery staple\n');
    expect(typed).toMatchObject({ code: 0, stdout: '' });
    expect(await verifyPassword('correct horse battery staple', await hashOf())).toBe(true);
    expect(await verifyPassword(password, await hashOf())).toBe(false);
    const short = await cli(['password', 'anna', '--stdin'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/^users: invalid password: .*at least 12 characters/);
    expect((await cli(['password', 'anna', '--clear'])).code).toBe(0);
    expect(await hashOf()).toBeNull();
    expect((await cli(['password', 'nobody'])).stderr).toMatch(/^users: user nobody not found/);
    expect((await cli(['password', 'anna', '--stdin', '--clear'])).code).toBe(2);
    const audit = await sql`select details from audit_events where tenant_id = ${tenantId} and event_type = 'password_set' and details->>'userId' = 'anna' order by id`;
    expect(audit.map((a) => a.details.cleared)).toEqual([false, false, true]);
  });

  it('creates a user and prints a token that authenticates; issues, lists and revokes tokens', async () => {
    const created = await cli(['create', 'dora', '--name', 'Dora Lindqvist', '--role', 'team_lead', '--approval-limit', '500000', '--label', 'laptop']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/created user dora \(Dora Lindqvist\), role team_lead, approval limit 500000/);
    const token = created.stdout.trim();
    expect(token).toMatch(/^dun_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(await call('GET', '/me', bearer(token))).toEqual({ status: 200, body: { tenantId, userId: 'dora', name: 'Dora Lindqvist', role: 'team_lead', approvalLimitMinor: 500_000, team: null } });

    const second = await cli(['token', 'dora', '--label', 'phone', '--expires', '2099-01-01T00:00:00Z']);
    expect(second.code, second.stderr).toBe(0);
    const secondToken = second.stdout.trim();
    expect(secondToken).not.toBe(token);
    expect((await call('GET', '/me', bearer(secondToken))).status).toBe(200);

    const list = await cli(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^dora\tteam_lead\tDora Lindqvist\tapproval limit 500000$/m);
    expect(list.stdout).toContain(`token ${parseToken(token)!.tokenId}\tactive\tlabel "laptop"`);
    expect(list.stdout).toContain('expires 2099-01-01T00:00:00.000Z');
    expect(list.stdout).not.toContain(parseToken(token)!.secret);

    const revoked = await cli(['revoke', parseToken(secondToken)!.tokenId]);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked token ${parseToken(secondToken)!.tokenId}\n` });
    expect((await call('GET', '/me', bearer(secondToken))).status).toBe(401);
    expect((await call('GET', '/me', bearer(token))).status).toBe(200);
  });

  it('creates a member of an owner team with --team', async () => {
    const created = await cli(['create', 'tess', '--name', 'Tess Tax', '--role', 'team_member', '--team', 'tax', '--no-token']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/created user tess \(Tess Tax\), role team_member, team tax/);
    expect((await cli(['list'])).stdout).toMatch(/^tess\tteam_member\tTess Tax\tteam tax$/m);
    const bad = await cli(['create', 'ted', '--name', 'Ted', '--role', 'team_member', '--team', 'Tax Team']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toMatch(/^users: team: lower-case team id/);
  });

  it('exits non-zero with one line on bad input, an existing user, an unknown user or token', async () => {
    const cases: [string[], number, RegExp][] = [
      [['create', 'eve', '--name', 'Eve', '--role', 'boss'], 2, /^users: --role must be one of team_member, collector, team_lead, ar_manager, admin, not "boss"\n$/],
      [['create', 'Eve Smith', '--name', 'Eve', '--role', 'collector'], 2, /^users: userId "Eve Smith": /],
      [['token', 'dora', '--expires', 'next week'], 2, /^users: --expires must be an ISO date-time/],
      [['frobnicate'], 2, /^users: unknown command "frobnicate"/],
      [['create', 'admin', '--name', 'Second Admin', '--role', 'admin'], 1, /^users: user admin already exists\n$/],
      [['token', 'nobody'], 1, /^users: user nobody not found\n$/],
      [['revoke', 'nosuchtoken'], 1, /^users: no token nosuchtoken in tenant /],
    ];
    for (const [args, code, stderr] of cases) {
      const res = await cli(args);
      expect(res.code, args.join(' ')).toBe(code);
      expect(res.stderr, args.join(' ')).toMatch(stderr);
      expect(res.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(res.stdout).toBe('');
    }
    expect(await sql`select 1 from users where tenant_id = ${tenantId} and user_id = 'eve'`).toHaveLength(0);
  });
});
