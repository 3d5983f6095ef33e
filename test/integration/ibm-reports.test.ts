import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImport, runImport, type ImportRequest } from '../../integrations/import/importer';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The ledger reports checked against an independent reference on real data: IBM's AR sample (2,466 invoices of 100
 * customers, USD, every one settled) goes through the product's real import (preset 'ibm-ar', into the ledger, the
 * triggers of migration 017 making ar_items and ar_postings), then GET /reports/aging, /reports/dso and /reports/cei
 * answer over HTTP (app.inject). test/reference/ibm_reports.py computed the same figures from the CSV with Python's
 * standard library alone (Decimal cents, Fraction ratios; its method is stated at its top) into
 * test/fixtures/ibm-report-reference.json. Every amount must match to the cent (USD lines raw, EUR lines converted
 * once at 0.92, half-even), every day and percent within 0.005, and the committed JSON must be what the script
 * computes now.
 */

const ROOT = path.resolve(__dirname, '../..');
const CSV = path.join(ROOT, 'test/fixtures/ibm-accounts-receivable.csv');
const SCRIPT = path.join(ROOT, 'test/reference/ibm_reports.py');
const hasPython = spawnSync('python3', ['--version']).status === 0;

/** The figures rounded to 2 decimals (days, percents): compared within 0.005; all others exactly. */
const ROUNDED = new Set(['days', 'daysCounted', 'pastDuePercent', 'cei']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Reference {
  invoices: number;
  customers: number;
  aging: Record<string, { total: Json; byCurrency: Json; buckets: string[]; groupsByKey: Record<string, Json> } & Record<string, Json>>;
  dso: Record<string, Record<string, Json>>;
  cei: Record<string, Record<string, Json>>;
}
const reference = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/ibm-report-reference.json'), 'utf8')) as Reference;

/**
 * Every leaf of `expected` found in `actual` at the same path: the rounded days and percents (ROUNDED) within 0.005,
 * every other number (amounts in minor units, counts, days of a month) exactly, null as null, strings and booleans
 * equal; arrays of the same length. Returns the differences, path by path (empty when all agree).
 */
function differences(actual: unknown, expected: Json, at = '$'): string[] {
  if (expected === null || typeof expected !== 'object') {
    const key = at.slice(at.lastIndexOf('.') + 1);
    if (typeof expected === 'number' && typeof actual === 'number' && ROUNDED.has(key)) {
      return Math.abs(actual - expected) <= 0.005 + 1e-9 ? [] : [`${at}: ${actual} vs reference ${expected}`];
    }
    return Object.is(actual, expected) ? [] : [`${at}: ${JSON.stringify(actual)} vs reference ${JSON.stringify(expected)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${at}: not an array`];
    if (actual.length !== expected.length) return [`${at}: ${actual.length} elements vs reference ${expected.length}`];
    return expected.flatMap((e, i) => differences(actual[i], e, `${at}[${i}]`));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${at}: not an object`];
  return Object.entries(expected).flatMap(([k, e]) => differences((actual as Record<string, unknown>)[k], e, `${at}.${k}`));
}

const tenantId = `ibmrep-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let headers: Record<string, string>;

beforeAll(async () => {
  t = await startTestApp(tenantId);
  headers = (await userWithToken(t.sql, tenantId, { userId: 'mara', role: 'ar_manager' })).headers;
  const req: ImportRequest = { tenantId, filePath: CSV, fileName: 'ibm-accounts-receivable.csv', preset: 'ibm-ar', mode: 'all_or_nothing', requestedBy: 'mara', erpKind: 'ledger' };
  const result = await runImport(t.sql, await createImport(t.sql, req), req);
  expect(result).toMatchObject({ status: 'succeeded', created: reference.invoices, rejected: 0 });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const get = async (url: string) => {
  const res = await t.app.inject({ method: 'GET', url, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Record<string, unknown>;
};

describe("IBM's sample through the import and the reports, against the Python reference", () => {
  it.skipIf(!hasPython)('the reference JSON is what test/reference/ibm_reports.py computes now', () => {
    // Throws (exit 1) when the committed JSON and the script disagree.
    expect(execFileSync('python3', [SCRIPT, '--check'], { encoding: 'utf8' })).toContain('up to date');
  });

  it('the whole sample is in the reporting ledger', async () => {
    const [row] = await t.sql<{ n: number; customers: number }[]>`
      select count(*)::int as n, count(distinct customer_id)::int as customers from ar_items where tenant_id = ${tenantId}`;
    expect(row).toEqual({ n: reference.invoices, customers: reference.customers });
  });

  it.each(Object.keys(reference.aging))('aging as of %s: total, USD line, every bucket and past-due percent', async (asOf) => {
    const ref = reference.aging[asOf]!;
    const { groupsByKey: _groups, ...expected } = ref;
    const res = await get(`/reports/aging?asOf=${asOf}&groupBy=none`);
    expect(differences(res, expected as Json)).toEqual([]);
    expect(res.groups).toEqual([]);
  });

  it.each(Object.keys(reference.aging))('aging as of %s by customer: every customer open at that day, every figure', async (asOf) => {
    const ref = reference.aging[asOf]!;
    const res = (await get(`/reports/aging?asOf=${asOf}&groupBy=customer`)) as { groups: ({ key: string; openMinor: number } & Record<string, unknown>)[] };
    const byKey = Object.fromEntries(res.groups.map((g) => [g.key, g]));
    expect(Object.keys(byKey).sort()).toEqual(Object.keys(ref.groupsByKey).sort());
    expect(differences(byKey, ref.groupsByKey as Json)).toEqual([]);
    // Largest open amount first.
    const opens = res.groups.map((g) => g.openMinor);
    expect(opens).toEqual([...opens].sort((a, b) => b - a));
  });

  it.each(Object.keys(reference.dso))('DSO of %s: open/current/past-due AR, count-back month by month, standard, best possible, ADD', async (month) => {
    const res = await get(`/reports/dso?month=${month}&periodMonths=3`);
    expect(differences(res, reference.dso[month]! as Json)).toEqual([]);
  });

  it.each(Object.keys(reference.cei))('CEI of %s: opening, sales, closing, closing current, collected, index', async (span) => {
    const [from, to] = span.split('..') as [string, string];
    const res = await get(`/reports/cei?from=${from}&to=${to}`);
    expect(differences(res, reference.cei[span]! as Json)).toEqual([]);
  });

  it("a collector sees none of it: IBM's customers are ledger-only, outside every collector's portfolio", async () => {
    const collector = (await userWithToken(t.sql, tenantId, { userId: 'cole', role: 'collector' })).headers;
    const res = await t.app.inject({ method: 'GET', url: '/reports/aging?asOf=2012-06-30&groupBy=customer', headers: collector });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ total: { count: 0, openMinor: 0 }, byCurrency: [], groups: [] });
  });

  it('the comparison can fail: one cent or 0.01 day off is caught', () => {
    const dso = reference.dso['2012-06']! as Record<string, Json>;
    expect(differences({ ...dso, openArMinor: (dso.openArMinor as number) + 1 }, dso as Json)).toHaveLength(1);
    const countBack = dso.countBack as { days: number };
    expect(differences({ ...dso, countBack: { ...countBack, days: countBack.days + 0.01 } }, dso as Json)).toHaveLength(1);
  });
});
