import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The layers and the determinism of workflow code are enforced by ESLint (eslint.config.mjs), which the
 * test command runs over the whole tree. This test keeps the lint honest: code that breaks each rule,
 * placed where it would break it, must be reported, and code that keeps the rules must pass.
 */
const ROOT = path.resolve(__dirname, '../..');
const written: string[] = [];
afterAll(() => written.forEach((f) => rmSync(f, { force: true, recursive: true })));

/** Lints a probe file as if it lived in `folder` (written there for the type-aware rules, removed after). */
async function problems(folder: string, code: string): Promise<string[]> {
  const dir = mkdtempSync(path.join(ROOT, folder, 'lint-probe-'));
  written.push(dir);
  const file = path.join(dir, 'probe.ts');
  writeFileSync(file, code.replaceAll("'../", "'../../"));
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintFiles([file]);
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint encodes the layers', () => {
  it('domain/ reads no clock, draws no random numbers and imports nothing with I/O', async () => {
    const found = await problems('domain', [
      "import { readFileSync } from 'node:fs';",
      "import Holidays from 'date-holidays';",
      "import { createSql } from '../db/sql';",
      'export const probe = () => [Date.now(), new Date(), Math.random(), readFileSync, Holidays, createSql];',
    ].join('\n'));
    expect(found.join('\n')).toMatch(/node:fs/);
    expect(found.join('\n')).toMatch(/date-holidays/);
    expect(found.join('\n')).toMatch(/db\/sql/);
    expect(found.filter((p) => p.startsWith('no-restricted-properties'))).toHaveLength(2);
    expect(found.filter((p) => p.startsWith('no-restricted-syntax'))).toHaveLength(1);
  });

  it('workflow code imports only @temporalio/workflow, domain/ and workflows/, activities by type only', async () => {
    const found = await problems('workflows', [
      "import type { createActivities } from '../activities';",
      "import { createSql } from '../db/sql';",
      "import { DateTime } from 'luxon';",
      "import { planNextStep } from '../domain/schedule';",
      "import { condition } from '@temporalio/workflow';",
      'export const probe = [createSql, DateTime, planNextStep, condition] as unknown as typeof createActivities;',
    ].join('\n'));
    expect(found).toHaveLength(2);
    expect(found.join('\n')).toMatch(/db\/sql/);
    expect(found.join('\n')).toMatch(/luxon/);
  });

  it('the API does not import activities/ nor workflow code, only the workflows\' message definitions', async () => {
    const found = await problems('api', [
      "import { createActivities } from '../activities';",
      "import { invoiceDunning } from '../workflows/invoice-dunning';",
      "import { pauseUpdate } from '../workflows/messages';",
      "import { disputeWorkflowId } from '../workflows/dispute-messages';",
      'export const probe = [createActivities, invoiceDunning, pauseUpdate, disputeWorkflowId];',
    ].join('\n'));
    expect(found).toHaveLength(2);
    expect(found.join('\n')).toMatch(/activities/);
    expect(found.join('\n')).toMatch(/invoice-dunning/);
  });

  it('activities/ and the API write no SQL of their own (db/ does)', async () => {
    const code = [
      "import type { Db } from '../db/sql';",
      'export async function probe(sql: Db, deps: { sql: Db }) {',
      '  await sql`select 1`;',
      '  await sql<{ n: number }[]>`select 1 as n`;',
      '  await deps.sql`select 1`;',
      "  await sql.unsafe('select 1');",
      '  return sql.begin(async (tx) => tx`select 1`);',
      '}',
    ].join('\n');
    for (const folder of ['api', 'activities'])
      expect((await problems(folder, code)).filter((p) => p.startsWith('no-restricted-syntax')), folder).toHaveLength(5);
    expect((await problems('db', code)).filter((p) => p.startsWith('no-restricted-syntax'))).toEqual([]);
  });

  it('config/ imports neither activities/ nor workflows/; promises are never left floating', async () => {
    const found = await problems('config', [
      "import { createActivities } from '../activities';",
      "import { pauseUpdate } from '../workflows/messages';",
      'async function later() { return 1; }',
      'export function probe() { later(); return [createActivities, pauseUpdate]; }',
    ].join('\n'));
    expect(found.filter((p) => p.startsWith('no-restricted-imports'))).toHaveLength(2);
    expect(found.filter((p) => p.startsWith('@typescript-eslint/no-floating-promises'))).toHaveLength(1);
  });
});
