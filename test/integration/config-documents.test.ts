import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthorityMatrix, loadResolutionMatrix } from '../../config/load';
import { createConfigDocuments } from '../../api/config-documents-service';
import { resolveDisputeRoute } from '../../domain/resolution-matrix';
import { requiredRole } from '../../domain/authority-matrix';
import type { Sql } from '../../db/sql';
import { startTestApp, type TestApp } from '../support/test-app';
import { userWithToken } from '../support/auth';

/**
 * The resolution and authority matrices through the API (app.inject) against the real PostgreSQL:
 * the file defaults as version 0, saved versions, validation by path, who may read and change them.
 */

const tenantId = `cfg-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let sql: Sql;
let app: TestApp['app'];
type Caller = Awaited<ReturnType<typeof userWithToken>>;
let admin: Caller, manager: Caller, lead: Caller, collector: Caller, member: Caller;

const fileResolution = loadResolutionMatrix();
const fileAuthority = loadAuthorityMatrix();

beforeAll(async () => {
  t = await startTestApp(tenantId);
  ({ sql, app } = t);
  admin = await userWithToken(sql, tenantId, { userId: 'admin', role: 'admin' });
  manager = await userWithToken(sql, tenantId, { userId: 'mark', role: 'ar_manager' });
  lead = await userWithToken(sql, tenantId, { userId: 'lena', role: 'team_lead' });
  collector = await userWithToken(sql, tenantId, { userId: 'anna', role: 'collector' });
  member = await userWithToken(sql, tenantId, { userId: 'pia', role: 'team_member' });
});

afterAll(async () => {
  await t?.close();
});

async function call(method: 'GET' | 'PUT', url: string, as: Caller, payload?: unknown) {
  const res = await app.inject({ method, url, headers: as.headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
}

describe('resolution matrix through the API', () => {
  it('GET answers the file default as version 0 until a version is saved; readable by collectors and above', async () => {
    for (const who of [collector, lead, manager, admin]) {
      expect(await call('GET', '/config/resolution-matrix', who)).toEqual({
        status: 200,
        body: { name: 'resolution_matrix', version: 0, document: fileResolution, createdBy: 'config', createdAt: null },
      });
    }
    expect(await call('GET', '/config/resolution-matrix/versions', collector)).toEqual({ status: 200, body: { items: [] } });
    expect(await call('GET', '/config/resolution-matrix', member)).toMatchObject({ status: 403, body: { error: 'role_too_low', requiredRole: 'collector' } });
  });

  it('PUT by an AR manager saves version 1, in force at once for GET and for the service; then version 2', async () => {
    const changed = structuredClone(fileResolution);
    changed.rules = changed.rules.map((r) => (r.reasonCode === 'tax' && r.segments === undefined ? { ...r, deadlineBusinessDays: 15 } : r));
    const { reminderBusinessDaysBefore: _omitted, ...withoutReminder } = changed; // the default (1) applies
    const saved = await call('PUT', '/config/resolution-matrix', manager, withoutReminder);
    expect(saved).toMatchObject({ status: 200, body: { name: 'resolution_matrix', version: 1, createdBy: 'mark', createdAt: expect.any(String) } });
    expect(saved.body.document).toEqual(changed);

    const current = await call('GET', '/config/resolution-matrix', collector);
    expect(current.body).toEqual(saved.body);
    const fromService = await app.configDocs.current('resolution_matrix');
    expect(fromService).toMatchObject({ version: 1, createdBy: 'mark' });
    expect(resolveDisputeRoute(fromService.document, { reasonCode: 'tax', segment: 'standard', amountReportingMinor: 1 }).deadlineBusinessDays).toBe(15);

    const again = await call('PUT', '/config/resolution-matrix', admin, fileResolution);
    expect(again).toMatchObject({ status: 200, body: { version: 2, createdBy: 'admin', document: fileResolution } });
    const versions = await call('GET', '/config/resolution-matrix/versions', lead);
    expect(versions.body.items.map((v: { version: number; createdBy: string }) => [v.version, v.createdBy])).toEqual([
      [2, 'admin'],
      [1, 'mark'],
    ]);

    const audit = await sql<{ actor: string; details: { name: string; version: number } }[]>`
      select actor, details from audit_events where tenant_id = ${tenantId} and event_type = 'config_document_saved' order by id`;
    expect(audit.map((a) => [a.actor, a.details.name, a.details.version])).toEqual([
      ['mark', 'resolution_matrix', 1],
      ['admin', 'resolution_matrix', 2],
    ]);
  });

  it('PUT of an invalid matrix answers 400 validation_failed with every issue by path, and saves nothing', async () => {
    const before = await call('GET', '/config/resolution-matrix', manager);
    const bad = structuredClone(fileResolution) as any;
    bad.rules[0].ownerTeam = 'legal';
    bad.rules[1].deadlineBusinessDays = 0;
    bad.rules = bad.rules.filter((r: { reasonCode: string }) => r.reasonCode !== 'other');
    const res = await call('PUT', '/config/resolution-matrix', manager, bad);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_failed', message: 'invalid resolution matrix' });
    expect(res.body.issues).toEqual([
      { path: 'body.rules.1.deadlineBusinessDays', code: 'too_small', message: expect.any(String) },
      { path: 'body.rules.0.ownerTeam', code: 'custom', message: expect.stringContaining('no team "legal" in teams') },
      { path: 'body.rules', code: 'custom', message: expect.stringContaining('"other" needs a catch-all rule') },
    ]);
    expect((await call('PUT', '/config/resolution-matrix', manager, { teams: {}, rules: 'all to AR' })).body.issues.map((i: { path: string }) => i.path)).toEqual(['body.rules']);
    expect((await call('PUT', '/config/resolution-matrix', manager, [])).status).toBe(400);
    expect(await call('GET', '/config/resolution-matrix', manager)).toEqual(before);
  });

  it('PUT needs an AR manager or above: 403 for a collector and a team lead', async () => {
    for (const who of [collector, lead, member]) {
      expect(await call('PUT', '/config/resolution-matrix', who, fileResolution)).toMatchObject({ status: 403, body: { error: 'role_too_low', requiredRole: 'ar_manager' } });
    }
  });
});

describe('a retried save', () => {
  it('PUT of the document in force again (a retry without Idempotency-Key) adds no version and no audit event; audit keys name the version', async () => {
    const savedRows = () =>
      sql<{ event_key: string; version: number }[]>`
        select event_key, (details->>'version')::int as version from audit_events
        where tenant_id = ${tenantId} and event_type = 'config_document_saved' and details->>'name' = 'resolution_matrix' order by id`;
    const before = await call('GET', '/config/resolution-matrix', lead);
    const auditBefore = await savedRows();
    const changed = structuredClone(fileResolution);
    changed.rules = changed.rules.map((r) => (r.reasonCode === 'pricing' && r.segments === undefined ? { ...r, deadlineBusinessDays: r.deadlineBusinessDays + 1 } : r));
    const first = await call('PUT', '/config/resolution-matrix', manager, changed);
    expect(first).toMatchObject({ status: 200, body: { version: before.body.version + 1, createdBy: 'mark' } });
    const retried = await call('PUT', '/config/resolution-matrix', manager, changed);
    expect(retried).toEqual(first);
    // Even by someone else: the document in force is not saved again.
    expect(await call('PUT', '/config/resolution-matrix', admin, changed)).toEqual(first);
    expect((await call('GET', '/config/resolution-matrix/versions', lead)).body.items).toHaveLength(first.body.version);
    expect(await savedRows()).toEqual([
      ...auditBefore,
      { event_key: `config-document-saved:${tenantId}:resolution_matrix:${first.body.version}`, version: first.body.version },
    ]);
  });
});

describe('authority matrix through the API', () => {
  it('GET answers the file default; only an admin may PUT (403 for an AR manager)', async () => {
    expect(await call('GET', '/config/authority-matrix', collector)).toEqual({
      status: 200,
      body: { name: 'authority_matrix', version: 0, document: fileAuthority, createdBy: 'config', createdAt: null },
    });
    for (const who of [manager, lead, collector]) {
      expect(await call('PUT', '/config/authority-matrix', who, fileAuthority)).toMatchObject({ status: 403, body: { error: 'role_too_low', requiredRole: 'admin' } });
    }
    expect((await app.configDocs.current('authority_matrix')).version).toBe(0);
  });

  it('an admin saves a new version; invalid thresholds answer 400 by path', async () => {
    const changed = structuredClone(fileAuthority);
    changed.escalateAfterHours = 24;
    changed.rules = changed.rules.map((r) => (r.action === 'write_off' && r.upToReportingMinor === 50_000 ? { ...r, upToReportingMinor: 100_000 } : r));
    const saved = await call('PUT', '/config/authority-matrix', admin, changed);
    expect(saved).toMatchObject({ status: 200, body: { version: 1, createdBy: 'admin', document: changed } });
    const current = await app.configDocs.current('authority_matrix');
    expect(requiredRole(current.document, 'write_off', 100_000)).toBe('team_lead');
    expect(current.document.escalateAfterHours).toBe(24);

    const bad = structuredClone(fileAuthority) as any;
    bad.rules[1].upToReportingMinor = 10; // below the previous threshold
    bad.rules.push({ action: 'forgive', upToReportingMinor: null, minRole: 'admin' });
    const res = await call('PUT', '/config/authority-matrix', admin, bad);
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual([`body.rules.${bad.rules.length - 1}.action`]);
    bad.rules.pop();
    const res2 = await call('PUT', '/config/authority-matrix', admin, bad);
    expect(res2.body.issues).toEqual([
      { path: 'body.rules.1.upToReportingMinor', code: 'custom', message: 'thresholds of "write_off" must ascend: 10 is not above the previous 50000' },
    ]);
    expect((await call('GET', '/config/authority-matrix/versions', collector)).body.items).toHaveLength(1);
  });
});

describe('the service on its own', () => {
  it('keeps tenants apart, and unknown names are 404', async () => {
    const other = createConfigDocuments({ sql, tenantId: `${tenantId}-other`, defaults: { resolution_matrix: fileResolution, authority_matrix: fileAuthority } });
    expect((await other.current('resolution_matrix')).version).toBe(0);
    expect(await other.history('authority_matrix')).toEqual([]);
    await expect(other.current('nope' as 'resolution_matrix')).rejects.toMatchObject({ statusCode: 404, code: 'not_found' });
    await expect(other.save('authority_matrix', { rules: [] }, 'someone')).rejects.toMatchObject({ statusCode: 400, code: 'validation_failed' });
  });
});
