import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { DateTime } from 'luxon';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { consoleUser, fitsWidth, launchBrowser, NARROW, screenshot, seriousA11yViolations, signIn, WIDE } from '../support/browser';

/**
 * The AR manager's and the admin's console pages in a real browser over the real stack (API and worker processes,
 * Temporal, PostgreSQL, the ERP simulator with the sync's schedule): the dashboard's numbers against the reports API
 * and its Excel download, an import's dry run and confirm, the ERP sync's run now, users and passwords, and a user's
 * own locale and time zone.
 */
let stack: Stack;
let browser: Browser;
let base: string;
const day = (n: number) => DateTime.utc().plus({ days: n }).toISODate()!;

beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-fast.json', erpSync: true });
  base = `http://127.0.0.1:${stack.env.API_PORT}`;
  browser = await launchBrowser();
  // Open invoices in different buckets: one current, one 1-30 days past due (1,234.56), one long past due.
  for (const [number, amountMinor, dueDate] of [
    ['MGR-1', 50_000, day(20)],
    ['MGR-2', 123_456, day(-10)],
    ['MGR-3', 777_700, day(-120)],
  ] as const) {
    const res = await createAndEnroll(stack, { number, customerId: `C-${number}`, amountMinor, dueDate }, `${number.toLowerCase()}@customer.example`);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  const dispute = await stack.api('POST', '/disputes', { invoiceNumber: 'MGR-3', reasonCode: 'quantity_short_shipment', disputedAmountMinor: 100_000, note: 'Two pallets short' });
  expect(dispute.status, JSON.stringify(dispute.body)).toBe(201);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function signedIn(userId: string, role: 'ar_manager' | 'admin'): Promise<Page> {
  const user = await consoleUser(stack.sql, stack.tenantId, { userId, role });
  const page = await browser.newPage({ viewport: WIDE });
  await signIn(page, base, user);
  return page;
}
/** Texts of the matching elements, trimmed, with Intl's no-break spaces as plain ones. */
const cells = async (page: Page, selector: string) => (await page.locator(selector).allTextContents()).map((t) => t.replace(/[\u00a0\u202f]/g, ' ').trim());

describe('the manager console in chromium', { timeout: 180_000 }, () => {
  it('lands a manager on the dashboard whose aging numbers are the API’s, with its Excel file; narrow too', async () => {
    const page = await signedIn('mgr-mark', 'ar_manager');
    expect(new URL(page.url()).pathname).toBe('/app/dashboard');
    await expect.poll(() => page.getByRole('heading', { level: 1, name: 'Dashboard' }).count()).toBe(1);
    const aging = (await stack.api('GET', '/reports/aging?groupBy=none')).body as { buckets: string[]; total: { openMinor: number; buckets: Record<string, number> } };
    expect(aging.total.openMinor).toBeGreaterThan(0);
    // The table under the chart: each bucket's amount as the API has it (data-minor) and as the user reads it (en-GB).
    const rows = await page.locator('#aging-table tr[data-bucket]').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-bucket'), Number(tr.getAttribute('data-minor')), tr.querySelector('td')!.textContent]));
    const eur = { format: (n: number) => new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR' }).format(n).replace(/[\u00a0\u202f]/g, ' ') };
    expect(rows).toEqual([...aging.buckets.map((b) => [b, aging.total.buckets[b] ?? 0, eur.format((aging.total.buckets[b] ?? 0) / 100)]), ['total', aging.total.openMinor, eur.format(aging.total.openMinor / 100)]]);
    expect(Object.values(aging.total.buckets)).toContain(123_456);
    expect(await cells(page, '#aging-table td')).toContain('€1,234.56');
    // Disputes by reason: the table under the chart is the API's report.
    const cycle = (await stack.api('GET', '/reports/dispute-cycle-time')).body as { byReason: { key: string; opened: number; openAtEnd: number }[] };
    expect(cycle.byReason.map((r) => [r.key, r.opened, r.openAtEnd])).toEqual([['quantity_short_shipment', 1, 1]]);
    const disputeRows = await page.locator('#disputes-table tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')!.textContent, ...Array.from(tr.querySelectorAll('td')).slice(0, 3).map((td) => String((td as { textContent: string | null }).textContent))]));
    expect(disputeRows).toEqual([['quantity short shipment', '1', '0', '1']]);
    // The chart drew (console.js + Chart.js under the CSP), with a text alternative.
    await expect.poll(() => page.locator('canvas[data-drawn="1"]').count()).toBeGreaterThan(1);
    expect(await page.locator('canvas[role="img"][aria-label]').count()).toBe(await page.locator('canvas').count());
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard');

    const xlsx = await page.request.get(`${base}/app/reports/aging.xlsx`);
    expect(xlsx.status()).toBe(200);
    expect(xlsx.headers()['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(xlsx.headers()['content-disposition']).toMatch(/^attachment; filename="aging-.*\.xlsx"$/);
    expect((await xlsx.body()).subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    // The link on the page is that route.
    expect(await page.getByRole('link', { name: 'Aging (.xlsx)' }).getAttribute('href')).toBe('/app/reports/aging.xlsx');

    await page.setViewportSize(NARROW);
    await page.reload();
    expect(await fitsWidth(page)).toBe(true);
    await page.close();
  });

  it('imports a file: the dry run lists each bad row’s column and reason, confirm stores the good rows', async () => {
    const page = await signedIn('mgr-ilse', 'ar_manager');
    await page.goto(`${base}/app/imports`);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel(/^File/).setInputFiles(path.resolve(__dirname, '..', 'fixtures', 'imports', 'bad-rows.csv'));
    await Promise.all([page.waitForURL(/\/app\/imports\/\d+$/), page.getByRole('button', { name: 'Check the file (dry run)' }).click()]);
    const dryId = Number(new URL(page.url()).pathname.split('/').pop());
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toMatch(/^Dry run #\d+: bad-rows\.csv$/);
    // Row by row: row, column, reason (the API's report).
    const report = (await stack.api('GET', `/imports/${dryId}/report?outcome=rejected&limit=100`)).body as { items: { rowNumber: number; issues: { column: string; reason: string }[] }[] };
    expect(report.items.length).toBeGreaterThan(3);
    const shown = await page.locator('#import-rows tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => String((td as { textContent: string | null }).textContent).trim())));
    for (const item of report.items) for (const i of item.issues) expect(shown.some((r) => r[3] === i.column && r[4] === i.reason)).toBe(true);
    expect(shown.find((r) => r[0] === String(report.items[0]!.rowNumber))?.[1]).toBe('rejected');
    expect(await page.locator('#import-rows').textContent()).toContain('2026-02-30');
    // Nothing stored by the dry run.
    const ledger = () => stack.sql`select invoice_number from ledger_invoices where tenant_id = ${stack.tenantId} and invoice_number like 'B-%' order by 1`;
    expect(await ledger()).toEqual([]);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'imports');

    await page.getByRole('radio', { name: /Only the good rows/ }).check();
    await Promise.all([page.waitForURL((u) => /\/app\/imports\/\d+$/.test(u.pathname) && !u.pathname.endsWith(`/${dryId}`)), page.getByRole('button', { name: 'Confirm import' }).click()]);
    const realId = Number(new URL(page.url()).pathname.split('/').pop());
    expect(realId).toBeGreaterThan(dryId);
    await expect.poll(() => page.locator('#import-status').textContent()).toContain('The ledger now holds');
    expect((await ledger()).map((r) => r.invoice_number)).toEqual(['B-1', 'B-7']);
    const job = (await stack.api('GET', `/imports/${realId}`)).body;
    expect(job).toMatchObject({ mode: 'keep_good', stored: true, fileName: 'bad-rows.csv', requestedBy: 'mgr-ilse' });
    // The list shows both jobs; the dry run can no longer be confirmed (one import per dry run).
    await page.goto(`${base}/app/imports`);
    expect(await page.locator(`#imports tr[data-import="${realId}"]`).textContent()).toContain('keep good');
    expect(await page.locator(`#imports tr[data-import="${dryId}"]`).textContent()).toContain('dry run');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.goto(`${base}/app/imports/${dryId}`);
    expect(await page.getByRole('button', { name: 'Confirm import' }).count()).toBe(0);
    expect(await fitsWidth(page)).toBe(true);
    // The upload's CSRF token travels in its URL: without it, the signed-in user's multipart post is refused unread.
    const jobsBefore = (await stack.api('GET', '/imports')).body.items.length;
    const forged = await page.request.post(`${base}/app/imports`, { multipart: { file: { name: 'own.csv', mimeType: 'text/csv', buffer: Buffer.from('invoice_number\n') } } });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('CSRF check failed');
    expect((await stack.api('GET', '/imports')).body.items.length).toBe(jobsBefore);
    await page.close();
  });

  it('runs the ERP sync now and shows the run with its counts', async () => {
    await expect.poll(async () => (await stack.api('GET', '/erp-sync')).status, { timeout: 30_000 }).toBe(200);
    const page = await signedIn('mgr-mark', 'ar_manager');
    await page.goto(`${base}/app/erp-sync`);
    expect(await page.locator('#sync-state').textContent()).toContain('Active');
    expect(await page.locator('#runs tr[data-run]').count()).toBe(0);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL(`${base}/app/erp-sync`);
    expect(await page.getByRole('status').textContent()).toMatch(/Sync run started|Queued/);
    await expect
      .poll(async () => {
        await page.reload();
        return page.locator('#runs tr[data-run] .badge').first().textContent();
      }, { timeout: 90_000, interval: 1000 })
      .toBe('completed');
    const runs = (await stack.api('GET', '/erp-sync/runs')).body as { items: { runId: number; counts: Record<string, number> }[] };
    expect(runs.items).toHaveLength(1);
    const run = runs.items[0]!;
    expect(await page.locator(`#runs tr[data-run="${run.runId}"]`).count()).toBe(1);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'erp-sync');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize(WIDE);
    await page.getByRole('link', { name: `#${run.runId}` }).first().click();
    await page.waitForURL(`${base}/app/erp-sync/runs/${run.runId}`);
    const counts = await page.locator('#run-counts tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent]));
    expect(counts).toEqual(Object.entries(run.counts).map(([k, v]) => [k, new Intl.NumberFormat('en-GB').format(v)]));
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.close();
  });

  it('lets an admin create a user and generate a password the user then signs in with', async () => {
    // Not for a manager: the API refuses GET /users, the page says so.
    const mark = await signedIn('mgr-mark', 'ar_manager');
    const refused = await mark.goto(`${base}/app/users`);
    expect(refused!.status()).toBe(403);
    expect(await mark.locator('main').textContent()).toMatch(/admin/);
    await mark.close();
    const page = await signedIn('adm-ada', 'admin');
    await page.goto(`${base}/app/users`);
    expect(await seriousA11yViolations(page)).toEqual([]);
    // A refused form keeps its input and says why beside the field.
    await page.getByLabel('User id', { exact: true }).fill('new.col');
    await page.getByLabel('Name', { exact: true }).fill('Nora Newcomer');
    await page.locator('select#role').selectOption('collector');
    await page.getByLabel(/^Approval limit/).fill('abc');
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect.poll(() => page.locator('#approvalLimitMinor-error').count()).toBe(1);
    expect(await page.getByLabel('User id', { exact: true }).inputValue()).toBe('new.col');
    expect((await stack.api('GET', '/users')).body.items.some((u: { userId: string }) => u.userId === 'new.col')).toBe(false);
    await page.getByLabel(/^Approval limit/).fill('2,500.00');
    await Promise.all([page.waitForURL(`${base}/app/users/new.col`), page.getByRole('button', { name: 'Create user' }).click()]);
    const created = (await stack.api('GET', '/users')).body.items.find((u: { userId: string }) => u.userId === 'new.col');
    expect(created).toMatchObject({ name: 'Nora Newcomer', role: 'collector', approvalLimitMinor: 250_000, active: true });
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Generate a password' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('New console password for new.col');
    const password = await page.getByLabel('Password').inputValue();
    expect(password.length).toBeGreaterThanOrEqual(12);
    // A token, shown once, then revoked.
    await page.goto(`${base}/app/users/new.col`);
    await page.getByLabel(/^Label/).fill('reporting script');
    await page.getByRole('button', { name: 'Issue token' }).click();
    const token = await page.getByLabel('Token').inputValue();
    expect((await stack.api('GET', '/me', undefined, token)).body).toMatchObject({ userId: 'new.col' });
    await page.goto(`${base}/app/users/new.col`);
    await page.getByRole('button', { name: /^Revoke token/ }).click();
    await page.waitForURL(`${base}/app/users/new.col`);
    expect((await stack.api('GET', '/me', undefined, token)).status).toBe(401);
    await page.goto(`${base}/app/users`);
    expect(await page.locator('#users tr[data-user="new.col"]').textContent()).toContain('1 revoked');
    await screenshot(page, 'users');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);

    const nora = await browser.newPage({ viewport: WIDE });
    await signIn(nora, base, { userId: 'new.col', password });
    expect(new URL(nora.url()).pathname).toBe('/app/worklist');
    expect((await nora.goto(`${base}/app/dashboard`))!.status()).toBe(403);
    await nora.close();
    await page.close();
  });

  it('shows a user’s amounts the German way once they choose de-DE and their time zone', async () => {
    const page = await signedIn('mgr-greta', 'ar_manager');
    await page.goto(`${base}/app/dashboard`);
    await page.getByRole('link', { name: /My settings/ }).click();
    await page.waitForURL(`${base}/app/me`);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel('Language and number format').selectOption('de-DE');
    await page.getByLabel('Time zone').selectOption('America/New_York');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${base}/app/me`);
    expect(await page.getByRole('status').textContent()).toBe('Settings saved');
    expect((await cells(page, '#sample li'))[0]).toBe('An amount: 1.234,56 €');
    const [row] = await stack.sql`select locale, time_zone from users where tenant_id = ${stack.tenantId} and user_id = 'mgr-greta'`;
    expect(row).toEqual({ locale: 'de-DE', time_zone: 'America/New_York' });
    await page.goto(`${base}/app/dashboard`);
    expect(await page.getAttribute('html', 'lang')).toBe('de-DE');
    expect(await cells(page, '#aging-table td')).toContain('1.234,56 €');
    expect(await page.locator('footer').textContent()).toContain('America/New_York');
    await page.goto(`${base}/app/me`);
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.close();
  });
});

describe('the ERP sync page without the schedule (ERP_SYNC=off)', { timeout: 120_000 }, () => {
  let off: Stack;
  beforeAll(async () => {
    off = await startStack({ cadenceFile: 'cadence-fast.json' });
  }, 120_000);
  afterAll(async () => {
    await off?.stop();
  });
  it('shows the API’s message instead of a schedule', async () => {
    const api = await off.api('GET', '/erp-sync');
    expect(api.status).toBe(404);
    const user = await consoleUser(off.sql, off.tenantId, { userId: 'mgr-otto', role: 'ar_manager' });
    const page = await browser.newPage({ viewport: WIDE });
    const offBase = `http://127.0.0.1:${off.env.API_PORT}`;
    await signIn(page, offBase, user);
    await page.goto(`${offBase}/app/erp-sync`);
    expect((await page.locator('main article').first().textContent())!.replace(/\s+/g, ' ')).toContain(`The ERP sync is not available: ${api.body.message}`);
    expect(await page.getByRole('button', { name: 'Run now' }).count()).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.close();
  });
});
