import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createSql, type Sql } from '../../db/sql';

/** `npm run import` as a user runs it (tsx api/import-cli.ts, a real PostgreSQL): exit codes, messages, reject file. */

const root = path.join(__dirname, '../..');
const fixture = (name: string) => path.join(root, 'test/fixtures/imports', name);
const tenantId = `import-cli-${process.pid}`;
let sql: Sql;
let dir: string;

beforeAll(() => {
  sql = createSql(inject('databaseUrl'), { max: 2 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'import-cli-test-'));
});
afterAll(async () => {
  await sql.end();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['api/import-cli.ts', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), TENANT_ID: tenantId, ERP_KIND: 'ledger' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run import', () => {
  it('a file with bad rows: exit 1, each row with its column and reason, nothing stored', async () => {
    const r = await cli([fixture('bad-rows.csv')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  row 3 (B-2): issue_date: not a calendar date: "2026-02-30"');
    expect(r.stdout).toContain('  row 6 (B-5): currency: unknown currency "XYZ"');
    expect(r.stdout).toMatch(/FAILED \(import \d+, preset own\): 9 rows .* rejected 6, skipped 1; .*nothing stored/);
    expect(r.stderr).toMatch(/6 row\(s\) rejected: nothing stored \(the file is imported all or nothing/);
    // Not a terminal: a progress line rather than a bar.
    expect(r.stderr).toMatch(/bad-rows\.csv: done, 9 rows, 100% of the file read, \d+ rows\/s, 100% done/);
    expect(await sql`select 1 from ledger_invoices where tenant_id = ${tenantId}`).toHaveLength(0);
  });

  it('--rejects: the good rows stored, the rejected ones written to the reject file, exit 0', async () => {
    const rejects = path.join(dir, 'rejects.csv');
    const r = await cli([fixture('bad-rows.csv'), '--rejects', rejects]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`6 rejected row(s) written to ${rejects}`);
    const lines = readFileSync(rejects, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(/^invoice_number,customer_id,.*,rebill_of,row,reason$/);
    expect(lines[5]).toBe('B-6,C-1,,,DE,EUR,10.00,,2026-10-01,2026-10-31,,,,,7,"invoice_number: invoice B-6 appears on rows 7, 8 with different data"');
    expect((await sql<{ invoice_number: string }[]>`select invoice_number from ledger_invoices where tenant_id = ${tenantId} order by 1`).map((x) => x.invoice_number)).toEqual(['B-1', 'B-7']);
  });

  it('a header no preset knows: exit 1 with what the presets expect', async () => {
    const r = await cli([fixture('wrong-columns.csv'), '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no preset recognises the file's header in its first 20 rows; expected the columns of one of: own \(/);
  });

  it('bad arguments: exit 2 with the usage', async () => {
    const r = await cli([fixture('own.csv'), '--preset', 'sap']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^unknown preset "sap"; choose from own, sap-fbl5n, quickbooks-aging, ibm-ar\nusage: npm run import/);
    expect((await cli([path.join(dir, 'missing.csv')])).stderr).toMatch(/^no such file: /);
    const mapping = path.join(dir, 'mapping.json');
    writeFileSync(mapping, JSON.stringify({ columns: { invoiceNumber: 'Rechnung' }, decimal: 'comma' }));
    const badMapping = await cli([fixture('custom.csv'), '--mapping', mapping]);
    expect(badMapping.code).toBe(2);
    expect(badMapping.stderr).toMatch(/^invalid mapping: columns: columns must name at least invoiceNumber, customerId, amount, issueDate and dueDate/);
  });
});
