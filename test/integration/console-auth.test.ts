import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../support/test-app';
import { consoleUser } from '../support/browser';
import { userWithToken } from '../support/auth';

/**
 * The console's sign-in, session cookie and CSRF protection through app.inject against the real PostgreSQL:
 * what a browser test shows once, here in every branch.
 */
const tenantId = `cons-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let anna: { userId: string; password: string };
beforeAll(async () => {
  t = await startTestApp(tenantId);
  anna = await consoleUser(t.sql, tenantId, { userId: 'anna', role: 'collector' });
});
afterAll(async () => t?.close());

/** Cookies of a Set-Cookie list as one Cookie header (name=value; ...), merged over `jar`. */
function jarWith(jar: Record<string, string>, setCookie: string | string[] | undefined): Record<string, string> {
  const out = { ...jar };
  for (const c of [setCookie ?? []].flat()) {
    const [pair] = c.split(';');
    const i = pair!.indexOf('=');
    const name = pair!.slice(0, i);
    const value = pair!.slice(i + 1);
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) delete out[name];
    else out[name] = value;
  }
  return out;
}
const cookieHeader = (jar: Record<string, string>) => Object.entries(jar).map(([k, v]) => `${k}=${v}`).join('; ');
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

async function signInForm(jar: Record<string, string> = {}) {
  const page = await t.app.inject({ method: 'GET', url: '/app/sign-in', headers: { cookie: cookieHeader(jar) } });
  return { jar: jarWith(jar, page.headers['set-cookie']), csrf: csrfOf(page.body)! };
}
async function signIn(userId: string, password: string, opts: { ip?: string } = {}) {
  const form = await signInForm();
  const res = await t.app.inject({
    method: 'POST',
    url: '/app/sign-in',
    remoteAddress: opts.ip ?? '10.0.0.1',
    headers: { cookie: cookieHeader(form.jar), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: form.csrf, userId, password }).toString(),
  });
  return { res, jar: jarWith(form.jar, res.headers['set-cookie']) };
}

describe('console sign-in', () => {
  it('sends a visitor without a session to the sign-in page, keeping where they were going', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/app/worklist' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/app/sign-in?next=%2Fapp%2Fworklist');
  });

  it('signs in with the right password: an httpOnly SameSite session cookie, the worklist, audited', async () => {
    const { res, jar } = await signIn('anna', anna.password);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/app/worklist');
    const session = [res.headers['set-cookie']].flat().find((c) => c!.startsWith('dun_session='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    expect(session).toMatch(/Path=\/app/);
    const page = await t.app.inject({ method: 'GET', url: '/app/worklist', headers: { cookie: cookieHeader(jar) } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('Worklist');
    const audit = await t.sql`select actor, details from audit_events where tenant_id = ${tenantId} and event_type = 'console_signed_in'`;
    expect(audit.map((a) => a.actor)).toContain('anna');
    // The database holds the cookie's hash, never the cookie.
    const cookie = jar.dun_session!;
    expect((await t.sql`select count(*)::int as n from console_sessions where session_sha256 = ${cookie}`)[0]!.n).toBe(0);
  });

  it('refuses a wrong password and an unknown user alike (401, same words), audited', async () => {
    const wrong = await signIn('anna', 'not-the-password');
    const unknown = await signIn('nobody', 'not-the-password');
    expect(wrong.res.statusCode).toBe(401);
    expect(unknown.res.statusCode).toBe(401);
    expect(wrong.res.body).toContain('Unknown user id or wrong password.');
    expect(unknown.res.body).toContain('Unknown user id or wrong password.');
    expect(wrong.jar.dun_session).toBeUndefined();
    const failed = await t.sql`select actor, details from audit_events where tenant_id = ${tenantId} and event_type = 'console_sign_in_failed' order by id`;
    expect(failed.map((f) => [f.actor, f.details.reason])).toEqual(expect.arrayContaining([['anna', 'bad_credentials'], ['nobody', 'bad_credentials']]));
  });

  it('rate-limits failed sign-ins per user id: the sixth try is 429 with Retry-After even with the right password', async () => {
    const ben = await consoleUser(t.sql, tenantId, { userId: 'ben', role: 'collector' });
    for (let i = 0; i < 5; i++) expect((await signIn('ben', `wrong-${i}`, { ip: `10.1.0.${i}` })).res.statusCode).toBe(401);
    const limited = await signIn('ben', ben.password, { ip: '10.1.0.99' });
    expect(limited.res.statusCode).toBe(429);
    expect(Number(limited.res.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.jar.dun_session).toBeUndefined();
    const audit = await t.sql`select count(*)::int as n from audit_events where tenant_id = ${tenantId} and event_type = 'console_sign_in_failed' and actor = 'ben' and details->>'reason' = 'rate_limited'`;
    expect(audit[0]!.n).toBe(1);
  });

  it('refuses a form without the CSRF token, or with another session’s, and changes nothing', async () => {
    const { jar } = await signIn('anna', anna.password);
    const noToken = await t.app.inject({ method: 'POST', url: '/app/sign-out', headers: { cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.body).toContain('CSRF');
    // A token from the sign-in page (no session) is not this session's.
    const other = await signInForm();
    const foreign = await t.app.inject({
      method: 'POST',
      url: '/app/sign-out',
      headers: { cookie: cookieHeader({ ...jar, dun_csrf: other.jar.dun_csrf! }), 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${encodeURIComponent(other.csrf)}`,
    });
    expect(foreign.statusCode).toBe(403);
    // Still signed in.
    expect((await t.app.inject({ method: 'GET', url: '/app/worklist', headers: { cookie: cookieHeader(jar) } })).statusCode).toBe(200);
  });

  it('signs out: the session ends in the database, the cookie no longer opens a page', async () => {
    const { jar } = await signIn('anna', anna.password);
    const page = await t.app.inject({ method: 'GET', url: '/app/worklist', headers: { cookie: cookieHeader(jar) } });
    const out = await t.app.inject({
      method: 'POST',
      url: '/app/sign-out',
      headers: { cookie: cookieHeader(jarWith(jar, page.headers['set-cookie'])), 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${encodeURIComponent(csrfOf(page.body)!)}`,
    });
    expect(out.statusCode).toBe(303);
    expect((await t.app.inject({ method: 'GET', url: '/app/worklist', headers: { cookie: cookieHeader(jar) } })).statusCode).toBe(303);
  });

  it('ends a session once it expires, and all of a user’s sessions when an admin sets their password', async () => {
    const a = await signIn('anna', anna.password);
    await t.sql`update console_sessions set expires_at = now() - interval '1 second' where tenant_id = ${tenantId} and ended_at is null and user_id = 'anna' and created_at = (select max(created_at) from console_sessions where tenant_id = ${tenantId} and user_id = 'anna')`;
    expect((await t.app.inject({ method: 'GET', url: '/app/worklist', headers: { cookie: cookieHeader(a.jar) } })).statusCode).toBe(303);
    const b = await signIn('anna', anna.password);
    expect((await t.app.inject({ method: 'GET', url: '/app/worklist', headers: { cookie: cookieHeader(b.jar) } })).statusCode).toBe(200);
    const admin = await userWithToken(t.sql, tenantId, { userId: 'root', role: 'admin' });
    const set = await t.app.inject({ method: 'PUT', url: '/users/anna/password', headers: admin.headers, payload: { generate: true } });
    expect(set.statusCode).toBe(200);
    expect(set.json().password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(set.json().sessionsEnded).toBeGreaterThanOrEqual(1);
    expect((await t.app.inject({ method: 'GET', url: '/app/worklist', headers: { cookie: cookieHeader(b.jar) } })).statusCode).toBe(303);
    expect((await signIn('anna', set.json().password)).res.statusCode).toBe(303);
    anna = { userId: 'anna', password: set.json().password };
    // Too short a password: 400 with the zod issue, nothing changed.
    const short = await t.app.inject({ method: 'PUT', url: '/users/anna/password', headers: admin.headers, payload: { password: 'short' } });
    expect(short.statusCode).toBe(400);
    expect(JSON.stringify(short.json())).toContain('at least 12 characters');
    // A collector may not set passwords.
    const collector = await userWithToken(t.sql, tenantId, { userId: 'anna', role: 'collector' });
    expect((await t.app.inject({ method: 'PUT', url: '/users/anna/password', headers: collector.headers, payload: { generate: true } })).statusCode).toBe(403);
  });

  it('answers a page that does not exist with its own 404 page, and leaves the API\'s 404s and 401s alone', async () => {
    const { jar } = await signIn('anna', anna.password);
    const missing = await t.app.inject({ method: 'GET', url: '/app/no-such-page', headers: { cookie: cookieHeader(jar) } });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/text\/html/);
    expect(missing.body).toContain('No page at /app/no-such-page');
    const api = await t.app.inject({ method: 'GET', url: '/no-such-route' });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toMatchObject({ error: 'unauthorized' });
  });

  it('keeps its pages out of the OpenAPI document (HTML for people, not the API contract)', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p === '/app' || p.startsWith('/app/'))).toEqual([]);
    expect(Object.keys(doc.paths)).toContain('/worklist');
  });

  it('keeps bearer tokens working for the API, and refuses a made-up console call key', async () => {
    const admin = await userWithToken(t.sql, tenantId, { userId: 'root', role: 'admin' });
    expect((await t.app.inject({ method: 'GET', url: '/me', headers: admin.headers })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/me', headers: { 'x-console-call': 'guessed-key' } })).statusCode).toBe(401);
  });
});
