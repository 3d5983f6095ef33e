import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Sql } from '../../db/sql';
import { createUser, findUser, type Role } from '../../api/auth';
import { setUserPassword } from '../../api/console/accounts';

/**
 * The web console's browser tests: Debian's chromium (scripts/setup installs it under WITH_BROWSER=1), driven
 * headless by playwright-core; axe-core for accessibility; screenshots of each main page.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** A user of the tenant with a console password (created when missing; the password set either way). */
export async function consoleUser(
  sql: Sql,
  tenantId: string,
  u: { userId: string; role: Role; name?: string; approvalLimitMinor?: number | null; team?: string | null },
): Promise<{ userId: string; password: string }> {
  if (!(await findUser(sql, tenantId, u.userId)))
    await createUser(sql, tenantId, { userId: u.userId, role: u.role, name: u.name ?? `Test ${u.role} ${u.userId}`, approvalLimitMinor: u.approvalLimitMinor ?? null, team: u.team ?? null });
  const password = `${u.userId}-browser-pass`;
  await setUserPassword(sql, tenantId, u.userId, { password }, 'test');
  return { userId: u.userId, password };
}

/** Signs in through the sign-in page as a person does; resolves on the page the console lands on. */
export async function signIn(page: Page, baseUrl: string, user: { userId: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/app/sign-in`);
  await page.getByLabel('User id').fill(user.userId);
  await page.getByLabel('Password').fill(user.password);
  await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/sign-in')), page.getByRole('button', { name: 'Sign in' }).click()]);
}

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A and AA rules). */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  // Strings, not functions: this project's TypeScript has no DOM types, the page has them.
  // Evaluated, not added as a <script>: the console's CSP (rightly) refuses inline scripts.
  if (!(await page.evaluate<boolean>("'axe' in window"))) await page.evaluate(`${AXE}\n;true`);
  const result = await page.evaluate<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }>(
    "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })",
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.map(String).join(' ')) }));
}

/** Where the tests' screenshots go (gitignored); `npm run screenshots` copies the README's three to docs/. */
export const SCREENSHOT_DIR = path.resolve(__dirname, '..', 'artifacts', 'screenshots');

/** A full-page screenshot at the page's current width, as test/artifacts/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The two widths every page must work at. */
export const WIDE = { width: 1280, height: 900 };
export const NARROW = { width: 390, height: 844 };

/** True when nothing on the page is wider than the viewport (no sideways scrolling of the page itself). */
export async function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth + 1');
}
