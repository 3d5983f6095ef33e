import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { DateTime } from 'luxon';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { consoleUser, fitsWidth, launchBrowser, NARROW, screenshot, seriousA11yViolations, signIn, WIDE } from '../support/browser';

/**
 * The collector's console pages in a real browser over the real stack: the worklist to the customer page, a
 * promise to pay through its form (and a bad amount refused in place), another collector's customer refused,
 * and the unapplied-cash queue with a suggestion applied through the ERP.
 */
let stack: Stack;
let browser: Browser;
let base: string;
let anna: { userId: string; password: string };

const uploadStatement = async (csv: string) => {
  const form = new FormData();
  form.append('file', new Blob([csv]), 'statement.csv');
  const res = await fetch(`http://${stack.env.API_HOST}:${stack.env.API_PORT}/bank-statements`, { method: 'POST', headers: { authorization: `Bearer ${stack.admin.token}` }, body: form });
  return { status: res.status, body: (await res.json()) as { added: number; entries: { id: number | null; customerId: string | null }[] } };
};

beforeAll(async () => {
  // TEMPORAL_UI_URL: each invoice row links its workflow there (nothing listens: only the link is checked).
  stack = await startStack({ cadenceFile: 'cadence-fast.json', env: { TEMPORAL_UI_URL: 'http://127.0.0.1:8233' } });
  base = `http://127.0.0.1:${stack.env.API_PORT}`;
  anna = await consoleUser(stack.sql, stack.tenantId, { userId: 'col-anna', role: 'collector' });
  await consoleUser(stack.sql, stack.tenantId, { userId: 'col-ben', role: 'collector' });
  await consoleUser(stack.sql, stack.tenantId, { userId: 'pia', role: 'team_member', team: 'pricing' }); // the pricing team a dispute is routed to
  for (const [number, customerId, collectorId, amountMinor, dueDate] of [
    ['CC-1', 'CUST-C1', 'col-anna', 480_000, '2026-09-15'],
    ['CC-2', 'CUST-C2', 'col-anna', 35_000, '2026-11-10'],
    ['CC-3', 'CUST-C3', 'col-anna', 123_456, '2026-10-20'],
    ['CC-4', 'CUST-C2', 'col-anna', 120_000, '2026-11-05'],
    ['CC-9', 'CUST-B9', 'col-ben', 990_000, '2026-08-01'],
  ] as const) {
    const res = await createAndEnroll(stack, { number, customerId, amountMinor, dueDate }, `ap@${customerId.toLowerCase()}.example`, { collectorId });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const promisesOf = async (customerId: string) => (await stack.api('GET', `/promises?customerId=${customerId}`)).body as { total: number; items: { amountMinor: number; promisedDate: string; madeBy: string; invoiceNumber: string; status: string }[] };

/** A form of the customer page, its <details> opened. */
async function formOf(page: Page, action: string, summary: string) {
  const form = page.locator(`form[action$="/${action}"]`);
  if (!(await form.isVisible())) await page.locator('summary', { hasText: summary }).click();
  return form;
}
async function submit(page: Page, form: ReturnType<Page['locator']>, button: string) {
  // The POST's own status (303 to the page again, or the refusal's page), once the page it leads to has loaded.
  const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.waitForEvent('load'), form.getByRole('button', { name: button }).click()]);
  return res.status();
}

async function openPromiseForm(page: Page) {
  const form = page.locator('form[action$="/promise"]');
  if (!(await form.isVisible())) await page.locator('summary', { hasText: 'Promise to pay' }).click();
  return form;
}

describe("the collector's console pages in chromium", () => {
  it('goes from the worklist to the customer, records a promise to pay through the form, and refuses a bad amount in place', { timeout: 120_000 }, async () => {
    // A call task per invoice on its collector's worklist (the cadence's own call step waits for the send time of day).
    for (const number of ['CC-1', 'CC-2', 'CC-3', 'CC-9']) {
      const task = await stack.api('POST', '/tasks', { invoiceNumber: number, dueAt: DateTime.utc().minus({ minutes: 5 }).toISO(), note: 'Call the AP contact.' });
      expect(task.status, JSON.stringify(task.body)).toBe(201);
    }
    await expect.poll(async () => (await stack.api('GET', '/worklist?collectorId=col-anna')).body.total, { timeout: 20_000 }).toBe(3);
    const page = await browser.newPage({ viewport: WIDE });
    await signIn(page, base, anna);
    expect(new URL(page.url()).pathname).toBe('/app/worklist');
    // The top task first: CC-1 is the oldest and largest.
    const rows = page.locator('table.worklist tbody tr[data-href]');
    await expect.poll(() => rows.count()).toBe(3);
    await expect.poll(() => rows.first().textContent()).toContain('CC-1');
    expect(await rows.first().getAttribute('data-href')).toBe('/app/customers/CUST-C1');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'worklist');

    // Open it with the keyboard: j selects the first row, Enter opens its customer.
    await page.keyboard.press('j');
    await Promise.all([page.waitForURL('**/app/customers/CUST-C1'), page.keyboard.press('Enter')]);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Customer CUST-C1');
    const main = page.locator('main');
    expect(await main.textContent()).toContain('Europe/Berlin');
    const invoiceRow = page.locator('h2#invoices + .table-scroll tbody tr', { hasText: 'CC-1' });
    const workflowLink = invoiceRow.getByRole('link', { name: /workflow of CC-1/ });
    expect(await workflowLink.getAttribute('href')).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:8233/namespaces/[^/]+/workflows/${encodeURIComponent(`invoice-dunning:${stack.tenantId}:CC-1`)}$`));

    // A bad amount: the page comes back 422 with the field's error beside it, and nothing is recorded.
    let form = await openPromiseForm(page);
    await form.getByLabel('Amount').fill('12,3x');
    await form.getByLabel('Made by').fill('Jana Roth, AP');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/app/customers/CUST-C1/promise')), form.getByRole('button', { name: 'Record promise' }).click()]);
    expect(refused.status()).toBe(422);
    await page.waitForLoadState();
    const amountInput = page.locator('#promise-amount');
    expect(await amountInput.getAttribute('aria-invalid')).toBe('true');
    expect(await amountInput.getAttribute('aria-describedby')).toBe('promise-amount-error');
    expect(await page.locator('#promise-amount-error').textContent()).toContain('is not an amount');
    expect(await amountInput.inputValue()).toBe('12,3x'); // what was typed stays, to be corrected
    expect(await page.locator('#promise-madeBy').inputValue()).toBe('Jana Roth, AP');
    expect((await promisesOf('CUST-C1')).total).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Corrected, in the German way of writing it: recorded, shown, and held by the API in minor units.
    form = await openPromiseForm(page);
    await form.getByLabel('Amount').fill('1.234,50');
    await Promise.all([page.waitForURL('**/app/customers/CUST-C1'), form.getByRole('button', { name: 'Record promise' }).click()]);
    expect(await page.locator('.notice').textContent()).toContain('Promise recorded');
    const promisedDate = DateTime.now().setZone('Europe/Berlin').plus({ days: 7 }).toISODate()!;
    const held = await promisesOf('CUST-C1');
    expect(held.total).toBe(1);
    expect(held.items[0]).toMatchObject({ invoiceNumber: 'CC-1', amountMinor: 123_450, promisedDate, madeBy: 'Jana Roth, AP', status: 'open' });
    // The invoice waits for the promise: its stage and next step say so.
    expect(await invoiceRow.textContent()).toMatch(/promised[\s\S]*promise check/);
    const promisesTable = page.locator('h2#promises + .table-scroll tbody');
    expect(await promisesTable.textContent()).toContain('Jana Roth, AP');

    // While on the phone, by keyboard alone: n opens the note form with the cursor in it; type, Tab, Enter.
    await page.keyboard.press('n');
    expect(await page.evaluate<string>('document.activeElement && document.activeElement.id')).toBe('note-note');
    await page.keyboard.type('Spoke to Jana: payment run on Thursday');
    await page.keyboard.press('Tab'); // the invoice ("the customer" by default)
    await page.keyboard.press('Tab'); // the button
    const [noted] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/app/customers/CUST-C1/note') && r.request().method() === 'POST'),
      page.waitForEvent('load'),
      page.keyboard.press('Enter'),
    ]);
    expect(noted.status()).toBe(303);
    expect(await page.locator('.notice').textContent()).toMatch(/note/i);
    const keyed = (await stack.api('GET', '/customers/CUST-C1/activities')).body.items as { kind: string; note: string }[];
    expect(keyed.some((a) => a.note === 'Spoke to Jana: payment run on Thursday')).toBe(true);
    expect(await promisesTable.textContent()).toMatch(/1[.,\u202f\u00a0]?234[.,]50/);
    await expect.poll(async () => {
      await page.reload();
      return page.locator('ol.timeline').textContent();
    }, { timeout: 15_000 }).toMatch(/promise/i);

    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'customer');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.close();
  });

  it("refuses another collector's customer: 403, and none of its data", async () => {
    const page = await browser.newPage({ viewport: WIDE });
    await signIn(page, base, anna);
    const res = await page.goto(`${base}/app/customers/CUST-B9`);
    expect(res!.status()).toBe(403);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Not in your portfolio');
    const text = (await page.locator('main').textContent())!;
    expect(text).not.toContain('CC-9');
    expect(text).not.toContain('ap@cust-b9');
    // Nor can a form write to it (a valid CSRF token of this session, from the sign-out form).
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const write = await page.request.post(`${base}/app/customers/CUST-B9/note`, { form: { _csrf: csrf, note: 'not mine to write' }, maxRedirects: 0 });
    expect(write.status()).toBe(403);
    expect(await write.text()).not.toContain('CC-9');
    expect(((await stack.api('GET', '/customers/CUST-B9/activities')).body.items as { note: string }[]).map((a) => a.note)).not.toContain('not mine to write');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.close();
  });

  it('lists an unapplied payment with its suggestion and applies it', async () => {
    const today = DateTime.utc().toISODate()!;
    const upload = await uploadStatement(`Date,Amount,Currency,Payer,Reference\n${today},1234.56,EUR,Customer CUST-C3,Invoice CC-3\n`);
    expect(upload.status, JSON.stringify(upload.body)).toBe(200);
    expect(upload.body.entries[0]).toMatchObject({ customerId: 'CUST-C3' });
    const id = upload.body.entries[0]!.id!;

    const page = await browser.newPage({ viewport: WIDE });
    await signIn(page, base, anna);
    await page.goto(`${base}/app/unapplied-cash`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Unapplied cash');
    const item = page.locator(`#cash-${id}`);
    expect(await item.textContent()).toContain('Customer CUST-C3');
    expect(await item.locator('tbody').textContent()).toContain('CC-3');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'unapplied-cash');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize(WIDE);

    await Promise.all([page.waitForURL('**/app/unapplied-cash'), item.getByRole('button', { name: `Apply payment ${id} to CC-3` }).click()]);
    expect(await page.locator('.notice').textContent()).toContain(`Applied payment ${id} to CC-3`);
    expect(await page.locator(`#cash-${id}`).count()).toBe(0); // no longer open
    const after = (await stack.api('GET', `/unapplied-cash/${id}`)).body;
    expect(after).toMatchObject({ status: 'applied', unappliedMinor: 0, appliedMinor: 123_456 });
    expect(after.applications).toHaveLength(1);
    expect(after.applications[0].allocations).toEqual([{ invoiceNumber: 'CC-3', amountMinor: 123_456 }]);
    await expect.poll(async () => (await stack.api('GET', '/invoices/CC-3')).body.stage, { timeout: 20_000 }).toBe('paid');
    await page.close();
  });

  it("records the rest of a call through the customer page's forms: outcome, note, payment plan, dispute, pause and resume", { timeout: 120_000 }, async () => {
    const page = await browser.newPage({ viewport: WIDE });
    await signIn(page, base, anna);
    await page.goto(`${base}/app/customers/CUST-C2`);
    const task = ((await stack.api('GET', '/worklist?customerId=CUST-C2')).body.items as { taskId: number; invoice: { number: string } }[])[0]!;
    expect(task.invoice.number).toBe('CC-2');

    // A dispute outcome without a note: the API's issue beside the note field; the task stays open.
    let form = await formOf(page, 'outcome', 'Call outcome');
    await form.getByLabel('Outcome').selectOption('dispute');
    expect(await submit(page, form, 'Record outcome')).toBe(400);
    expect(await page.locator('#outcome-note').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#outcome-note-error').textContent()).toContain('a dispute needs a note');
    expect((await stack.api('GET', `/tasks/${task.taskId}`)).body.status).toBe('open');
    // A callback: done, with its follow-up call.
    form = await formOf(page, 'outcome', 'Call outcome');
    await form.getByLabel('Outcome').selectOption('callback_requested');
    expect(await submit(page, form, 'Record outcome')).toBe(303);
    expect(await page.locator('.notice').textContent()).toContain('Call outcome recorded on CC-2: callback requested');
    expect((await stack.api('GET', `/tasks/${task.taskId}`)).body).toMatchObject({ status: 'done', outcome: { code: 'callback_requested', completedBy: 'col-anna' } });

    // A note.
    form = await formOf(page, 'note', 'Note');
    await form.getByLabel('Note').fill('AP asked for the PO numbers again.');
    expect(await submit(page, form, 'Add note')).toBe(303);
    expect(await page.locator('.notice').textContent()).toContain('Note added');
    const notes = (await stack.api('GET', '/customers/CUST-C2/activities')).body.items as { kind: string; note: string; actor: string }[];
    expect(notes).toContainEqual(expect.objectContaining({ note: 'AP asked for the PO numbers again.', actor: 'col-anna' }));

    // A payment plan over CC-2 alone: three installments adding up to its open amount.
    form = await formOf(page, 'plan', 'Payment plan');
    await form.getByLabel(/CC-4/).uncheck();
    await form.getByLabel('Agreed with').fill('Jana Roth, AP');
    expect(await submit(page, form, 'Agree plan')).toBe(303);
    expect(await page.locator('.notice').textContent()).toContain('Payment plan agreed: 3 installments');
    const installments = (await promisesOf('CUST-C2')).items.filter((p) => p.invoiceNumber === 'CC-2');
    expect(installments).toHaveLength(3);
    expect(installments.reduce((sum, p) => sum + p.amountMinor, 0)).toBe(35_000);

    // A dispute over part of CC-4, routed to the pricing team.
    form = await formOf(page, 'dispute', 'Dispute');
    await form.getByLabel('Invoice').selectOption('CC-4');
    await form.getByLabel('Reason').selectOption('pricing');
    await form.getByLabel('Disputed amount').fill('200');
    await form.getByLabel('What the customer contests').fill('Unit price 12.00 instead of the contract 10.00');
    expect(await submit(page, form, 'Open dispute')).toBe(303);
    expect(await page.locator('.notice').textContent()).toContain('opened on CC-4');
    const disputes = (await stack.api('GET', '/disputes?customerId=CUST-C2')).body.items as { invoiceNumber: string; disputedAmountMinor: number; ownerTeam: string }[];
    expect(disputes).toEqual([expect.objectContaining({ invoiceNumber: 'CC-4', disputedAmountMinor: 20_000, ownerTeam: 'pricing' })]);
    expect(await page.locator('h2#disputes + .table-scroll tbody').textContent()).toContain('pricing');

    // Pause until resumed, then resume.
    form = await formOf(page, 'pause', 'Pause dunning');
    await form.getByLabel('Reason').fill('Customer closed over the holidays');
    expect(await submit(page, form, 'Pause')).toBe(303);
    expect(await page.locator('.notice').textContent()).toContain('Dunning paused until resumed');
    expect((await stack.api('GET', '/customers/CUST-C2')).body.customer).toMatchObject({ paused: true, pauseReason: 'Customer closed over the holidays' });
    expect(await page.locator('hgroup').textContent()).toContain('Paused');
    form = await formOf(page, 'resume', 'Resume dunning');
    expect(await submit(page, form, 'Resume')).toBe(303);
    expect(await page.locator('.notice').textContent()).toContain('Dunning resumed');
    expect((await stack.api('GET', '/customers/CUST-C2')).body.customer.paused).toBe(false);

    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.close();
  });

  it('refuses a bad typed amount beside its field, and resolves a payment nobody owes as on account', async () => {
    const today = DateTime.utc().toISODate()!;
    const upload = await uploadStatement(`Date,Amount,Currency,Payer,Reference\n${today},10.00,EUR,Customer CUST-C1,thanks\n`);
    expect(upload.status, JSON.stringify(upload.body)).toBe(200);
    const id = upload.body.entries[0]!.id!;
    const page = await browser.newPage({ viewport: WIDE });
    await signIn(page, base, anna);
    await page.goto(`${base}/app/unapplied-cash`);
    const item = page.locator(`#cash-${id}`);
    await item.locator('summary', { hasText: 'Apply to another invoice' }).click();
    await item.getByLabel('Invoice').fill('CC-1');
    await item.getByLabel(/Amount/).fill('ten');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.waitForEvent('load'), item.getByRole('button', { name: 'Apply', exact: true }).last().click()]);
    expect(refused.status()).toBe(422);
    expect(await page.locator(`#cash-${id}-amount`).getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator(`#cash-${id}-amount-error`).textContent()).toContain('is not an amount');
    expect((await stack.api('GET', `/unapplied-cash/${id}`)).body).toMatchObject({ status: 'open', appliedMinor: 0 });
    expect(await seriousA11yViolations(page)).toEqual([]);

    const again = page.locator(`#cash-${id}`);
    if (!(await again.locator('form[action$="/resolve"]').isVisible())) await again.locator('summary', { hasText: 'Resolve' }).click();
    await again.getByLabel(/On account/).check();
    await again.getByLabel('Note').fill('Overpayment kept as credit');
    await Promise.all([page.waitForURL('**/app/unapplied-cash'), again.getByRole('button', { name: 'Resolve' }).click()]);
    expect(await page.locator('.notice').textContent()).toContain(`Payment ${id} resolved as on account`);
    expect((await stack.api('GET', `/unapplied-cash/${id}`)).body).toMatchObject({ status: 'on_account', resolution: { by: 'col-anna', note: 'Overpayment kept as credit' } });
    await page.goto(`${base}/app/unapplied-cash?status=on_account`);
    expect(await page.locator(`#cash-${id}`).textContent()).toContain('Overpayment kept as credit');
    await page.close();
  });
});
