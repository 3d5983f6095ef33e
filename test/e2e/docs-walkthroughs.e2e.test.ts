import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startMainJobOnFreePorts, type Banner, type MainJob } from '../support/main-job';
import { launchBrowser, screenshot, signIn, WIDE } from '../support/browser';

/**
 * Every walkthrough in docs/ runs as written against a fresh demo, so the docs cannot drift from the
 * product. The demo is started as `./scripts/start` starts it (dev/main.ts, with its seed), on free
 * ports and with its state in a temporary folder; each page's ```bash blocks run in order, each with
 * `bash` and `set -euo pipefail`, with the demo's URLs put in place of the default ones (the same
 * edit a reader makes after `--any-ports`). A block must exit 0; no request may answer 5xx; and where
 * a block's comments say what an answer is (`# 409 already_enrolled`, `# -> {"valid":true}`), the
 * request answers that status and the output shows those fields.
 */
const PAGES = ['how-it-works', 'ar-manager', 'collector', 'owner-team', 'approver', 'unapplied-cash'] as const;

interface Block {
  /** 1-based line of the opening fence in the page. */
  line: number;
  text: string;
}

/** The page's ```bash blocks, in order (```sh and ```json blocks are not meant to run). */
function bashBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```bash') continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && lines[i]!.trim() !== '```') body.push(lines[i]!);
    blocks.push({ line: start + 1, text: body.join('\n') });
  }
  return blocks;
}

interface Expectation {
  /** The n-th curl of the block (0-based) answers this status. */
  curl: number;
  status: number;
  /** An error code the comment names (`409 already_enrolled`). */
  code?: string;
}

/**
 * What the block's comments promise. A comment right after a curl command (on its last line, or on the
 * lines before the next command) that starts with a status (`# 409 already_enrolled`,
 * `#  -> 202 {...}`) is that request's answer; `"key": value` pairs in any comment (values without
 * placeholders such as `…` or `<…>`) must appear in the output.
 */
function expectations(block: string): { statuses: Expectation[]; fields: string[]; curls: number } {
  const statuses: Expectation[] = [];
  const fields: string[] = [];
  let curls = 0;
  let expectingFor: number | undefined;
  for (const { code, comment } of shellLines(block)) {
    const started = (code.match(/(^|[\s|(;&])curl\s/g) ?? []).length;
    if (started) {
      curls += started;
      expectingFor = curls - 1;
    }
    if (!comment) continue;
    const status = /^#\s*(?:->\s*)?([1-5]\d\d)(?![\d.])(:?)(?:\s+([a-z]+(?:_[a-z]+)*)(?![\w-]))?/.exec(comment);
    if (status && expectingFor !== undefined) {
      const [, value, colon, word] = status;
      statuses.push({ curl: expectingFor, status: Number(value), ...(word && !colon && Number(value) >= 400 ? { code: word } : {}) });
      expectingFor = undefined;
    }
    for (const m of comment.matchAll(/"([A-Za-z][A-Za-z0-9_]*)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)(?=\s*[,}\]]|\s*$)/g)) {
      const [, key, value] = m;
      if (/…|\.\.\.|[<>]/.test(value!)) continue;
      fields.push(`"${key}":${JSON.stringify(JSON.parse(value!))}`);
    }
  }
  return { statuses, fields, curls };
}

/**
 * The block's lines split into code and comment, as bash reads them: a `#` starts a comment at the
 * start of a word outside quotes (quotes may span lines); here-document bodies are neither.
 */
function shellLines(block: string): { code: string; comment: string }[] {
  const lines: { code: string; comment: string }[] = [];
  let quote: string | undefined;
  let heredoc: string | undefined;
  for (const line of block.split('\n')) {
    if (heredoc) {
      if (line.trim() === heredoc) heredoc = undefined;
      lines.push({ code: '', comment: '' });
      continue;
    }
    let code = line;
    let comment = '';
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (quote) {
        if (c === quote) quote = undefined;
        else if (c === '\\' && quote === '"') i++;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '\\') i++;
      else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
        code = line.slice(0, i);
        comment = line.slice(i);
        break;
      }
    }
    if (!quote) heredoc = /<<-?\s*'?(\w+)'?/.exec(code)?.[1];
    lines.push({ code, comment });
  }
  return lines;
}

const DEFAULTS = /(?:127\.0\.0\.1|localhost):(?:3000|4010|8025|1025|7233|8233|55432)\b/;

/** The block with the demo's URLs in place of the defaults, and a folder of this run in place of /tmp. */
function localize(text: string, banner: Banner, tmp: string): string {
  const pg = new URL(banner.databaseUrl!.replace(/^postgres:/, 'http:'));
  return text
    .replaceAll('http://127.0.0.1:3000', banner.api)
    .replaceAll('http://localhost:3000', banner.api)
    .replaceAll('http://127.0.0.1:4010', banner.erp!)
    .replaceAll('http://127.0.0.1:8025', banner.mail!)
    .replaceAll('127.0.0.1:55432', `127.0.0.1:${pg.port}`)
    .replace(/(?<![\w.])\/tmp\//g, `${tmp}/`);
}

/** A `curl` first on PATH that dumps each answer's status line and headers to a file, in order. */
function curlRecorder(dir: string): string {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const realCurl = ['/usr/bin/curl', '/usr/local/bin/curl', '/bin/curl'].find((p) => existsSync(p));
  if (!realCurl) throw new Error('curl is not installed (the docs\' walkthroughs need it)');
  writeFileSync(
    path.join(bin, 'curl'),
    `#!/usr/bin/env bash\nn=$(( $(ls "$CURL_RECORD" | wc -l) ))\nexec ${realCurl} -D "$CURL_RECORD/$(printf %04d $n).headers" "$@"\n`,
  );
  chmodSync(path.join(bin, 'curl'), 0o755);
  return bin;
}

/** Statuses of the answers in a header dump (the last status line is the final answer, after any 100-continue). */
function statusOf(headers: string): number {
  const lines = [...headers.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)];
  return Number(lines.at(-1)?.[1] ?? 0);
}

let job: MainJob;
let banner: Banner;
let work: string;
let bin: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'docs-walkthroughs-'));
  bin = curlRecorder(work);
  ({ job, banner } = await startMainJobOnFreePorts({ env: { API_PORT: undefined, DEV_PORTS: undefined, DEMO_SEED: undefined, DEMO_CSV: undefined } }));
  for (const key of ['erp', 'mail', 'databaseUrl', 'temporalAddress'] as const) expect(banner[key], `the banner's ${key}`).toBeDefined();
}, 300_000);

afterAll(async () => {
  await job?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function run(text: string, record: string): Promise<{ code: number | null; output: string }> {
  mkdirSync(record, { recursive: true });
  // Node gives a child sockets for its standard streams, which `tee /dev/stderr` cannot open (ENXIO):
  // standard error becomes a pipe, as in a terminal's pipelines.
  const child = spawn('bash', ['-c', `set -euo pipefail\nexec 2> >(cat >&2)\n${text}`], {
    cwd: ROOT, // blocks run from the repository's folder (.tools/bin/temporal, npm run users)
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      CURL_RECORD: record,
      TEMPORAL_ADDRESS: banner.temporalAddress, // the Temporal CLI's default is the demo's default port
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve)); // all output read
  clearTimeout(timer);
  return { code, output };
}

// Before the walkthroughs change the demo: the console as a newcomer finds it, with the banner's URL and passwords.
describe('the web console, as the banner tells a newcomer', () => {
  it('prints the console URL and every demo user\'s password; a collector and a manager sign in and see their day', async () => {
    expect(banner.console).toBe(`${banner.api}/app`);
    expect(Object.keys(banner.passwords).sort()).toEqual(['admin', 'anna', 'ben', 'cara', 'lena', 'luis', 'mark', 'pia', 'sam']);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: WIDE });
      await page.goto(banner.console!);
      expect(new URL(page.url()).pathname).toBe('/app/sign-in');
      await signIn(page, banner.api, { userId: 'anna', password: banner.passwords.anna! });
      expect(new URL(page.url()).pathname).toBe('/app/worklist');
      // The same tasks the API gives anna (her demo token), in the page.
      const tasks = (await (await fetch(`${banner.api}/worklist?limit=200`, { headers: { authorization: 'Bearer dun_demoanna_anna-demo-token-not-for-production' } })).json()) as { total: number };
      expect(await page.locator('table.worklist tbody tr[data-task]').count()).toBe(Math.min(tasks.total, 200));
      // The demo's pages as a newcomer sees them (the README's screenshots come from these).
      await screenshot(page, 'demo-worklist');
      const firstCustomer = page.locator('table.worklist tbody tr[data-task] a').first();
      if ((await firstCustomer.count()) > 0) {
        await firstCustomer.click();
        await page.waitForURL((url) => url.pathname.startsWith('/app/customers/'));
        await screenshot(page, 'demo-customer');
      }
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((url) => url.pathname === '/app/sign-in');
      await signIn(page, banner.api, { userId: 'mark', password: banner.passwords.mark! });
      expect(new URL(page.url()).pathname).toBe('/app/dashboard');
      expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1);
      await page.waitForLoadState('load');
      await screenshot(page, 'demo-dashboard');
    } finally {
      await browser.close();
    }
  }, 120_000);
});

for (const page of PAGES) {
  const file = path.join(ROOT, 'docs', `${page}.md`);
  const blocks = bashBlocks(readFileSync(file, 'utf8'));
  describe(`docs/${page}.md`, () => {
    it('has walkthroughs', () => expect(blocks.length).toBeGreaterThan(0));
    blocks.forEach((block, i) => {
      it(`block ${i + 1} (line ${block.line}) runs as written`, async () => {
        const text = localize(block.text, banner, work);
        expect(text, 'a URL on a default port the test cannot point at the demo').not.toMatch(DEFAULTS);
        const record = path.join(work, 'curl', `${page}-${i + 1}`);
        const { code, output } = await run(text, record);
        const where = `docs/${page}.md block ${i + 1} (line ${block.line}); its output:\n${output}`;
        expect(code, where).toBe(0);
        expect(output, where).not.toContain('internal_error');
        expect(output, where).not.toMatch(/"statusCode":5\d\d/);

        const answers = readdirSync(record).sort().map((f) => statusOf(readFileSync(path.join(record, f), 'utf8')));
        expect(answers.filter((s) => s >= 500), `5xx answers in ${where}`).toEqual([]);
        const { statuses, fields, curls } = expectations(block.text);
        expect(answers.length, `curl ran ${answers.length} times for ${curls} curl commands in ${where}`).toBe(curls);
        for (const e of statuses) {
          expect(answers[e.curl], `curl ${e.curl + 1} of ${where}`).toBe(e.status);
          if (e.code) expect(output, `curl ${e.curl + 1} of ${where}`).toContain(`"error":"${e.code}"`);
        }
        for (const field of fields) expect(output, `${field} in ${where}`).toContain(field);
      }, 180_000);
    });
  });
}
