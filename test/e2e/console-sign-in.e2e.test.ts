import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startStack, type Stack } from '../support/stack';
import { consoleUser, fitsWidth, launchBrowser, NARROW, screenshot, seriousA11yViolations, signIn, WIDE } from '../support/browser';

/**
 * The console in a real browser: sign-in, the worklist, the sign-in page's accessibility, both widths; failed
 * sign-ins and their rate limit; CSRF refusals of a forged cross-site form and of a tampered token.
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

describe('console in chromium', () => {
  it('signs a collector in and shows the worklist, accessible and usable at 1280 px and narrow', async () => {
    const anna = await consoleUser(stack.sql, stack.tenantId, { userId: 'col-anna', role: 'collector' });
    const page = await browser.newPage({ viewport: WIDE });
    await page.goto(`${base}/app/sign-in`);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'sign-in');
    await signIn(page, base, anna);
    expect(new URL(page.url()).pathname).toBe('/app/worklist');
    await expect.poll(() => page.getByRole('heading', { name: 'Worklist' }).count()).toBe(1);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.setViewportSize(NARROW);
    expect(await fitsWidth(page)).toBe(true);
    await page.close();
  });

  it('says a wrong password plainly, keeps the user id, and after five failures refuses even the right one (429)', async () => {
    const ben = await consoleUser(stack.sql, stack.tenantId, { userId: 'col-ben', role: 'collector' });
    const page = await browser.newPage({ viewport: WIDE });
    for (let i = 0; i < 5; i++) {
      await page.goto(`${base}/app/sign-in`);
      await page.getByLabel('User id').fill('col-ben');
      await page.getByLabel('Password').fill(`not-it-${i}`);
      const [answer] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/app/sign-in') && r.request().method() === 'POST'), page.getByRole('button', { name: 'Sign in' }).click()]);
      expect(answer.status()).toBe(401);
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Unknown user id or wrong password.');
      expect(await page.getByLabel('User id').inputValue()).toBe('col-ben');
    }
    await page.getByLabel('Password').fill(ben.password);
    const [limited] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/app/sign-in') && r.request().method() === 'POST'), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(limited.status()).toBe(429);
    expect(await page.getByRole('alert').textContent()).toMatch(/Too many failed sign-ins/);
    expect(new URL(page.url()).pathname).toBe('/app/sign-in');
    const audited = await stack.sql`select details->>'reason' as reason from audit_events where tenant_id = ${stack.tenantId} and event_type = 'console_sign_in_failed' and actor = 'col-ben' order by id`;
    expect(audited.map((a) => a.reason)).toEqual(['bad_credentials', 'bad_credentials', 'bad_credentials', 'bad_credentials', 'bad_credentials', 'rate_limited']);
    await page.close();
  });

  it('refuses a form posted from another site with the user\'s cookie, and a tampered token: 403, nothing changed', async () => {
    const anna = await consoleUser(stack.sql, stack.tenantId, { userId: 'col-anna', role: 'collector' });
    const context = await browser.newContext({ viewport: WIDE });
    const page = await context.newPage();
    await signIn(page, base, anna);
    // Another origin (same host, another port: the same "site", so even SameSite cookies go along) with a form
    // that signs the user out without asking: the CSRF token is what stops it.
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="post" action="${base}/app/sign-out"><input name="x" value="1"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const attacker = await context.newPage();
      const [answer] = await Promise.all([
        attacker.waitForResponse((r) => r.url() === `${base}/app/sign-out`),
        attacker.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`),
      ]);
      expect(answer.status()).toBe(403);
      await attacker.close();
    } finally {
      evil.close();
    }
    await page.goto(`${base}/app/worklist`);
    expect(new URL(page.url()).pathname).toBe('/app/worklist'); // still signed in
    // The console's own form with its token altered.
    await page.evaluate(`document.querySelector('form[action="/app/sign-out"] input[name="_csrf"]').value = 'forged-token'`);
    const [tampered] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/app/sign-out')), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect(tampered.status()).toBe(403);
    expect(await page.getByRole('alert').textContent()).toContain('CSRF check failed');
    await page.goto(`${base}/app/worklist`);
    expect(new URL(page.url()).pathname).toBe('/app/worklist');
    const signedOut = await stack.sql`select count(*)::int as n from audit_events where tenant_id = ${stack.tenantId} and event_type = 'console_signed_out'`;
    expect(signedOut[0]!.n).toBe(0);
    await context.close();
  });
});
