import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startStack, type Stack } from '../support/stack';
import { consoleUser, fitsWidth, launchBrowser, NARROW, screenshot, seriousA11yViolations, signIn, WIDE } from '../support/browser';

/** The console in a real browser: sign-in, the worklist, the sign-in page's accessibility, both widths. */
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
});
