import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { consoleUser, fitsWidth, launchBrowser, NARROW, screenshot, seriousA11yViolations, signIn, WIDE } from '../support/browser';

/**
 * The cadence editor in a real browser, as an AR manager: the list of cadences and their versions; the editor's
 * validation naming the step and its line in the text as typed (which stays in the textarea), a JSON syntax
 * error with line and column; the preview's dated timeline; save as a new version, activate it (the API agrees),
 * migrate a running invoice and assign a segment, each confirmed through the API.
 */
let stack: Stack;
let browser: Browser;
let base: string;
beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-fast.json' });
  base = `http://127.0.0.1:${stack.env.API_PORT}`;
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Clicks a submit button and waits for the answer to its form's POST (and the page it leads to). */
async function submit(page: Page, button: ReturnType<Page['getByRole']>): Promise<number> {
  const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(`${base}/app/cadences/`)), button.click()]);
  await page.waitForLoadState('load');
  return answer.status();
}

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('cadence editor in chromium', () => {
  it('validates in place, previews, saves a version, activates it, migrates a running invoice and assigns a segment', async () => {
    // A running invoice on version 1 of the fast cadence (due later: its first step is a while off).
    const enrolled = await createAndEnroll(stack, { number: 'CAD-1', customerId: 'CUST-CAD', amountMinor: 50_000, dueDate: '2027-06-01' }, 'ap@cust-cad.example');
    expect(enrolled.status).toBe(201);

    const manager = await consoleUser(stack.sql, stack.tenantId, { userId: 'mgr-cad', role: 'ar_manager' });
    const page = await browser.newPage({ viewport: WIDE });
    await signIn(page, base, manager);

    // The list: the fast cadence with its one active version.
    await page.goto(`${base}/app/cadences`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Cadences');
    const row = page.locator('tr[data-cadence="fast-e2e"]');
    expect(await row.locator('.active-version').textContent()).toContain('version 1');
    expect(await row.locator('li[data-version="1"]').textContent()).toContain('active');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'cadences');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize(WIDE);

    // The editor: the active version's definition as JSON, and its steps at a glance.
    await Promise.all([page.waitForURL(/\/app\/cadences\/fast-e2e$/), row.getByRole('link', { name: 'fast-e2e', exact: true }).click()]);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('fast-e2e');
    const textarea = page.getByLabel(/Definition \(JSON\)/);
    const original = JSON.parse(await textarea.inputValue()) as { name: string; steps: { id: string; offset: { amount: number }; action: { template?: string } }[] };
    expect(original.steps.map((s) => s.id)).toEqual(['reminder-1', 'reminder-2', 'reminder-3', 'call-1']);
    expect(await page.locator('table.steps tbody tr').count()).toBe(4);
    expect(await page.locator('table.steps tbody tr').nth(1).textContent()).toContain('reminder-firm');

    // An edit with a template that does not exist: the issue names the step's path and its line, the edit stays.
    const edited = structuredClone(original);
    edited.name = 'Fast, edited in the console';
    edited.steps[1]!.offset.amount = 6;
    edited.steps[1]!.action.template = 'no-such-template';
    const wrong = JSON.stringify(edited, null, 2);
    await textarea.fill(wrong);
    expect(await submit(page, page.getByRole('button', { name: 'Validate' }))).toBe(422);
    const check = page.locator('#definition-check');
    const issue = check.locator('li[data-path="steps.1.action.template"]');
    expect(await issue.count()).toBe(1);
    expect(await issue.textContent()).toContain(`line ${lineOf(wrong, '"no-such-template"')}`);
    expect(await issue.textContent()).toMatch(/template/i);
    expect(await textarea.inputValue()).toBe(wrong);
    expect(await textarea.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('table.steps tbody tr').nth(1).textContent()).toContain('no-such-template'); // the table reads the text as typed
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Text that is not JSON: the parse error with its line and column, the text kept as typed.
    const broken = wrong.replace('"sendAt": "09:30",', '"sendAt": "09:30"');
    await textarea.fill(broken);
    expect(await submit(page, page.getByRole('button', { name: 'Validate' }))).toBe(422);
    expect(await check.textContent()).toContain('Not JSON');
    expect(await check.textContent()).toContain(`line ${lineOf(broken, '"steps"')}, column 3`);
    expect(await textarea.inputValue()).toBe(broken);

    // Fixed: valid.
    edited.steps[1]!.action.template = 'reminder-firm';
    // Customer-facing steps on working days only, 08:00 to 18:00 (the customer's time).
    (edited as Record<string, unknown>).sendWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00' };
    const fixed = JSON.stringify(edited, null, 2);
    await textarea.fill(fixed);
    expect(await submit(page, page.getByRole('button', { name: 'Validate' }))).toBe(200);
    expect(await check.textContent()).toContain('Valid');
    expect(await textarea.inputValue()).toBe(fixed);

    // The preview of the edited definition for a sample invoice due Monday 1 March 2027 in Berlin (UTC+1):
    // reminder-1 a day after at 09:30 local, then 6 s, 4 s and 2 s apart.
    await page.getByLabel('Due date').fill('2027-03-01');
    await page.getByLabel('Customer time zone').fill('Europe/Berlin');
    await page.getByLabel('Amount').fill('1250.00');
    expect(await submit(page, page.getByRole('button', { name: 'Preview' }))).toBe(200);
    const steps = page.locator('ol.timeline.preview > li');
    expect(await steps.count()).toBe(4);
    expect(await steps.evaluateAll((els) => els.map((e) => [e.getAttribute('data-step'), e.querySelector('time')?.getAttribute('datetime')]))).toEqual([
      ['reminder-1', '2027-03-02T08:30:00.000Z'],
      ['reminder-2', '2027-03-02T08:30:06.000Z'],
      ['reminder-3', '2027-03-02T08:30:10.000Z'],
      ['call-1', '2027-03-02T08:30:12.000Z'],
    ]);
    expect(await steps.first().textContent()).toContain('09:30:00'); // the customer's local time
    expect(await steps.nth(1).textContent()).toContain('reminder-firm');
    expect(await textarea.inputValue()).toBe(fixed); // still the edit
    expect(await page.locator('ol.timeline.preview .shift').count()).toBe(0); // nothing moved

    // Due on Friday 5 March: a day after is a Saturday, outside the send window; the page shows the API's dates
    // (German holidays) and says the first reminder moved from the Saturday.
    await page.getByLabel('Due date').fill('2027-03-05');
    await page.getByLabel(/Holidays of country/).fill('DE');
    expect(await submit(page, page.getByRole('button', { name: 'Preview' }))).toBe(200);
    const oracle = await stack.api('POST', '/cadences/preview', {
      cadence: edited,
      invoice: { currency: 'EUR', amountMinor: 125_000, dueDate: '2027-03-05' },
      customer: { timeZone: 'Europe/Berlin', segment: 'standard', country: 'DE' },
    });
    expect(oracle.status).toBe(200);
    const oracleSteps = oracle.body.steps as { stepId: string; at: string }[];
    expect(oracleSteps[0]!.at.slice(0, 10)).not.toBe('2027-03-06'); // the API moved it off the Saturday
    expect(await steps.evaluateAll((els) => els.map((e) => [e.getAttribute('data-step'), e.querySelector('time')?.getAttribute('datetime')]))).toEqual(
      oracleSteps.map((o) => [o.stepId, o.at]),
    );
    expect(await steps.first().locator('.shift').textContent()).toContain('moved from 6 Mar 2027');
    expect(await page.getByLabel(/Holidays of country/).inputValue()).toBe('DE'); // the sample invoice kept too
    expect(await textarea.inputValue()).toBe(fixed);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'cadence-editor');
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize(WIDE);

    // Save as a new version: a draft, version 2, shown.
    expect(await submit(page, page.getByRole('button', { name: 'Save as new version' }))).toBe(303);
    expect(new URL(page.url()).search).toBe('?version=2');
    expect(await page.getByRole('status').first().textContent()).toContain('Saved as version 2');
    expect(await page.locator('table.versions tr[data-version="2"] .status').textContent()).toContain('draft');
    expect(JSON.parse(await textarea.inputValue())).toMatchObject({ name: 'Fast, edited in the console', version: 2 });

    // Activate it: a notice, version 2 active and version 1 retired, here and in the API.
    expect(await submit(page, page.getByRole('button', { name: 'Activate version 2' }))).toBe(303);
    expect(await page.getByRole('status').first().textContent()).toContain('Version 2 of fast-e2e is active');
    expect(await page.locator('table.versions tr[data-version="2"] .status').textContent()).toContain('active');
    expect(await page.locator('table.versions tr[data-version="1"] .status').textContent()).toContain('retired');
    expect(await page.locator('.active-version').first().textContent()).toBe('2');
    const api = await stack.api('GET', '/cadences/fast-e2e');
    expect(api.status).toBe(200);
    expect(api.body.activeVersion).toBe(2);
    const v2 = (api.body.versions as { version: number; status: string; createdBy: string; definition: typeof edited }[]).find((v) => v.version === 2)!;
    expect(v2.status).toBe('active');
    expect(v2.createdBy).toBe('mgr-cad');
    expect(v2.definition.name).toBe('Fast, edited in the console');
    expect(v2.definition.steps[1]!.offset.amount).toBe(6);

    // Migrate the running invoice to version 2.
    await page.getByLabel(/Invoice numbers to migrate to version 2/).fill('CAD-1');
    expect(await submit(page, page.getByRole('button', { name: 'Migrate running invoices' }))).toBe(303);
    expect(await page.getByRole('status').first().textContent()).toContain('1 running invoice moving to version 2');
    const migrations = await stack.sql`select details from audit_events where tenant_id = ${stack.tenantId} and event_type = 'cadence_migration_requested' and actor = 'mgr-cad'`;
    expect(migrations.map((m) => m.details)).toEqual([{ from: { id: 'fast-e2e', version: 1 }, to: { id: 'fast-e2e', version: 2 } }]);

    // Assign the strategic segment to it.
    await page.getByRole('combobox', { name: /^Segment/ }).selectOption('strategic');
    expect(await submit(page, page.getByRole('button', { name: 'Assign to this segment' }))).toBe(303);
    expect(await page.getByRole('status').first().textContent()).toContain('Segment strategic now gets fast-e2e');
    expect(await page.locator('.assigned').textContent()).toContain('strategic');
    const assignments = await stack.api('GET', '/cadence-assignments');
    expect(assignments.body.items).toContainEqual({ segment: 'strategic', cadenceId: 'fast-e2e' });

    // The list shows the new active version and the assignment.
    await page.goto(`${base}/app/cadences`);
    expect(await row.locator('.active-version').textContent()).toContain('version 2');
    expect(await row.locator('li[data-version="1"]').textContent()).toContain('retired');
    expect(await row.textContent()).toContain('strategic');
    await page.close();
  }, 240_000);

  it('keeps the section to AR managers: a collector has no Cadences link and is refused the pages (403), nothing saved', async () => {
    const collector = await consoleUser(stack.sql, stack.tenantId, { userId: 'col-cad', role: 'collector' });
    const page = await browser.newPage({ viewport: WIDE });
    await signIn(page, base, collector);
    expect(await page.getByRole('link', { name: 'Cadences' }).count()).toBe(0);
    for (const url of ['/app/cadences', '/app/cadences/fast-e2e']) {
      const answer = await page.goto(`${base}${url}`);
      expect(answer?.status()).toBe(403);
      expect(await page.getByRole('alert').textContent()).toContain('Cadences are for AR managers');
      expect(await page.getByLabel(/Definition \(JSON\)/).count()).toBe(0);
    }
    const api = await stack.api('GET', '/cadences/fast-e2e');
    expect(api.body.versions.length).toBe(2);
    await page.close();
  }, 60_000);
});
