import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { consoleUser, fitsWidth, launchBrowser, NARROW, screenshot, seriousA11yViolations, signIn, WIDE } from '../support/browser';

/**
 * The owner teams' dispute queue and the approvers' queue in a real browser, against the product as it runs
 * (API and worker processes, Temporal, PostgreSQL, ERP simulator): what the user sees, and what the API and
 * the ERP then hold.
 */
let stack: Stack;
let browser: Browser;
let base: string;
beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-fast.json' });
  base = `http://127.0.0.1:${stack.env.API_PORT}`;
  browser = await launchBrowser();
  for (const [number, amountMinor] of [['QUE-1', 120_000], ['QUE-2', 60_000], ['QUE-3', 80_000], ['QUE-4', 40_000]] as const) {
    const res = await createAndEnroll(stack, { number, customerId: 'CUST-Q', amountMinor, dueDate: '2027-03-01' }, 'ap@cust-q.example');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const erpGet = async (url: string) =>
  (await fetch(`${stack.erp.url}${url}`, { headers: { authorization: `Bearer ${stack.env.ERP_API_KEY}` } })).json() as Promise<any>;

/** Submits the page's form with `button` and resolves on the answer's page (a redirect's target or the re-rendered form). */
async function submit(page: Page, button: string): Promise<number> {
  const [res] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: button }).click()]);
  return res?.status() ?? 0;
}

describe('dispute and approval queues in chromium', () => {
  it('a team lead resolves a dispute from the queue: a refused form keeps its issues in place, then a credit lands', async () => {
    const opened = await stack.api('POST', '/disputes', { invoiceNumber: 'QUE-1', reasonCode: 'other', disputedAmountMinor: 50_000, note: 'Customer says the last delivery was short by 5 units' });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body.route).toMatchObject({ ownerTeam: 'ar', lead: 'lena' });
    const { disputeId } = opened.body as { disputeId: string };

    const lena = await consoleUser(stack.sql, stack.tenantId, { userId: 'lena', role: 'team_lead', team: 'ar' });
    const page = await browser.newPage({ viewport: WIDE });
    await signIn(page, base, lena);
    await page.goto(`${base}/app/disputes`);
    await expect.poll(() => page.getByRole('heading', { name: 'Disputes', level: 1 }).count()).toBe(1);
    const row = page.locator(`tr[data-dispute="${disputeId}"]`);
    await expect.poll(() => row.count()).toBe(1);
    const rowText = await row.innerText();
    expect(rowText).toContain('QUE-1');
    expect(rowText).toContain('Customer CUST-Q');
    expect(rowText).toContain('Accounts receivable');
    expect(rowText).toContain('On time'); // the deadline badge says it in words, not colour alone
    expect(rowText).toMatch(/500[.,]00/);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'disputes');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize(WIDE);

    await Promise.all([page.waitForNavigation(), row.getByRole('link', { name: 'QUE-1' }).click()]);
    expect(new URL(page.url()).pathname).toBe(`/app/disputes/${disputeId}`);
    expect(await page.getByRole('heading', { name: `Dispute ${disputeId}`, level: 1 }).count()).toBe(1);
    expect(await page.locator('.evidence').innerText()).toContain('short by 5 units');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'dispute');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize(WIDE);

    // Valid without a credit amount: refused in place, the values kept, nothing sent to the API.
    await page.getByRole('radio', { name: /Valid: credit/ }).check();
    await page.getByLabel('Root cause').selectOption('shipping_error');
    await page.getByLabel('Comment').fill('5 units short confirmed by the warehouse');
    expect(await submit(page, 'Resolve dispute')).toBe(422);
    expect(await page.locator('#creditAmountMinor-error').innerText()).toContain('an amount in EUR');
    expect(await page.getByLabel(/^Credit amount/).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Comment').inputValue()).toBe('5 units short confirmed by the warehouse');
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect((await stack.api('GET', `/disputes/${disputeId}`)).body.status).toBe('open');

    await page.getByLabel(/^Credit amount/).fill('150.00');
    expect(await submit(page, 'Resolve dispute')).toBe(200);
    expect(new URL(page.url()).pathname).toBe(`/app/disputes/${disputeId}`);
    const notice = await page.getByRole('status').innerText();
    expect([`Dispute ${disputeId}: Resolved: valid`, 'Pending: the workflow applies it when it runs']).toContain(notice);

    await expect.poll(async () => (await stack.api('GET', `/disputes/${disputeId}`)).body, { timeout: 20_000 }).toMatchObject({
      status: 'resolved_valid',
      resolution: { creditAmountMinor: 15_000, rootCause: 'shipping_error', note: '5 units short confirmed by the warehouse', resolvedBy: 'lena' },
    });
    expect(await erpGet('/credit-memos?invoiceNumber=QUE-1')).toEqual([expect.objectContaining({ amountMinor: 15_000, currency: 'EUR' })]);

    await page.goto(`${base}/app/disputes`);
    const resolvedRow = await page.locator(`tr[data-dispute="${disputeId}"]`).innerText();
    expect(resolvedRow).toContain('Resolved: valid');
    expect(resolvedRow).not.toContain('On time');
    await page.goto(`${base}/app/disputes/${disputeId}`);
    expect(await page.locator('.resolution').innerText()).toMatch(/150[.,]00/);
    expect(await page.getByRole('button', { name: 'Resolve dispute' }).count()).toBe(0);
    // The owner team filter is the API's: Accounts receivable's dispute is not Pricing's.
    await page.goto(`${base}/app/disputes?ownerTeam=pricing`);
    expect(await page.locator(`tr[data-dispute="${disputeId}"]`).count()).toBe(0);
    await page.goto(`${base}/app/disputes?ownerTeam=ar&status=resolved`);
    expect(await page.locator(`tr[data-dispute="${disputeId}"]`).count()).toBe(1);
    await page.close();
  });

  it('a team member sees only their team’s disputes and resolves one as invalid with a comment for the customer', async () => {
    const ar = await stack.api('POST', '/disputes', { invoiceNumber: 'QUE-4', reasonCode: 'other', disputedAmountMinor: 10_000, note: 'Asks for a discount nobody agreed' });
    const logistics = await stack.api('POST', '/disputes', { invoiceNumber: 'QUE-3', reasonCode: 'quantity_short_shipment', disputedAmountMinor: 20_000, note: 'Says 2 pallets missing' });
    expect([ar.status, logistics.status], JSON.stringify([ar.body, logistics.body])).toEqual([201, 201]);
    expect(logistics.body.route).toMatchObject({ ownerTeam: 'logistics', owner: 'luis' });

    const luis = await consoleUser(stack.sql, stack.tenantId, { userId: 'luis', role: 'team_member', team: 'logistics' });
    const page = await browser.newPage({ viewport: WIDE });
    await signIn(page, base, luis);
    expect(new URL(page.url()).pathname).toBe('/app/disputes');
    const ids = await page.locator('tr[data-dispute]').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { dispute: string } }).dataset.dispute));
    expect(ids).toEqual([logistics.body.disputeId]); // not Accounts receivable's, nor the resolved one
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Another team's dispute: the API's refusal, not the page.
    const other = await page.goto(`${base}/app/disputes/${ar.body.disputeId}`);
    expect(other?.status()).toBe(403);
    expect(await page.getByRole('button', { name: 'Resolve dispute' }).count()).toBe(0);

    await page.goto(`${base}/app/disputes/${logistics.body.disputeId}`);
    await page.getByRole('radio', { name: /Invalid: the invoice stands/ }).check();
    await page.getByLabel('Root cause').selectOption('customer_error');
    await page.getByLabel('Comment').fill('The carrier’s proof of delivery shows all 12 pallets signed for.');
    expect(await submit(page, 'Resolve dispute')).toBe(200);
    expect([`Dispute ${logistics.body.disputeId}: Resolved: invalid`, 'Pending: the workflow applies it when it runs']).toContain(await page.getByRole('status').innerText());
    await expect.poll(async () => (await stack.api('GET', `/disputes/${logistics.body.disputeId}`)).body, { timeout: 20_000 }).toMatchObject({
      status: 'resolved_invalid',
      resolution: { rootCause: 'customer_error', note: 'The carrier’s proof of delivery shows all 12 pallets signed for.', resolvedBy: 'luis', creditAmountMinor: 0 },
    });
    await page.goto(`${base}/app/disputes`);
    expect(await page.locator(`tr[data-dispute="${logistics.body.disputeId}"]`).innerText()).toContain('Resolved: invalid');
    await page.close();
  });

  it('an approver whose limit is too low is refused in place; a manager approves the write-off and the ERP books it', async () => {
    const req = await stack.api('POST', '/invoices/QUE-2/approval-requests', { action: 'write_off', reason: 'Customer insolvent: claim filed, nothing to expect' });
    expect(req.status, JSON.stringify(req.body)).toBe(201);
    expect(req.body).toMatchObject({ requiredRole: 'ar_manager', amountMinor: 60_000 });
    const { requestId } = req.body as { requestId: string };

    // Tom: an AR manager whose limit (100.00) is below the 600.00 asked.
    const tom = await consoleUser(stack.sql, stack.tenantId, { userId: 'tom', role: 'ar_manager', approvalLimitMinor: 10_000 });
    const tomPage = await browser.newPage({ viewport: WIDE });
    await signIn(tomPage, base, tom);
    await tomPage.goto(`${base}/app/approvals/${encodeURIComponent(requestId)}`);
    expect(await tomPage.getByText('Not yours').count()).toBe(1);
    await tomPage.getByLabel('Comment').fill('Fine by me');
    expect(await submit(tomPage, 'Approve')).toBe(403);
    expect(await tomPage.getByRole('alert').innerText()).toContain('above the approval limit');
    expect(await tomPage.getByLabel('Comment').inputValue()).toBe('Fine by me');
    expect(await seriousA11yViolations(tomPage)).toEqual([]);
    expect((await stack.api('GET', `/approval-requests/${encodeURIComponent(requestId)}`)).body).toMatchObject({ status: 'pending', decision: null });
    await tomPage.close();

    const mark = await consoleUser(stack.sql, stack.tenantId, { userId: 'mark', role: 'ar_manager', approvalLimitMinor: 5_000_000 });
    const page = await browser.newPage({ viewport: WIDE });
    await signIn(page, base, mark);
    await page.goto(`${base}/app/approvals`);
    expect(await page.getByRole('heading', { name: 'Approvals', level: 1 }).count()).toBe(1);
    const row = page.locator(`tr[data-request="${requestId}"]`);
    const rowText = await row.innerText();
    expect(rowText).toContain('Write-off');
    expect(rowText).toContain('QUE-2');
    expect(rowText).toMatch(/600[.,]00/);
    expect(rowText).toContain('Pending: yours to decide');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'approvals');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize(WIDE);

    await Promise.all([page.waitForNavigation(), row.getByRole('link', { name: 'Write-off' }).click()]);
    expect(await page.getByRole('heading', { name: 'Write-off: invoice QUE-2', level: 1 }).count()).toBe(1);
    expect(await page.getByText('Not yours').count()).toBe(0);
    expect(await page.getByText('Customer insolvent: claim filed').count()).toBeGreaterThan(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'approval');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize(WIDE);

    await page.getByLabel('Comment').fill('Claim filed with the insolvency administrator');
    expect(await submit(page, 'Approve')).toBe(200);
    expect([`Request ${requestId} approved`, 'Pending: the workflow applies it when it runs']).toContain(await page.getByRole('status').innerText());

    await expect.poll(async () => (await stack.api('GET', '/invoices/QUE-2')).body.stage, { timeout: 20_000 }).toBe('written_off');
    await expect.poll(async () => erpGet('/journals?invoiceNumber=QUE-2'), { timeout: 15_000 }).toEqual([expect.objectContaining({ amountMinor: 60_000, currency: 'EUR', account: 'bad_debt_expense' })]);
    expect((await stack.api('GET', `/approval-requests/${encodeURIComponent(requestId)}`)).body).toMatchObject({ status: 'approved', decision: { by: 'mark', note: 'Claim filed with the insolvency administrator' } });

    await page.reload();
    expect(await page.locator('.decision').innerText()).toContain('Approved by mark');
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await page.goto(`${base}/app/approvals`);
    expect(await page.locator(`tr[data-request="${requestId}"]`).innerText()).toContain('Approved');
    await page.close();
  });
});
