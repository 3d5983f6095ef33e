import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The lint that keeps workflow code replayable: workflow and domain modules import nothing with
 * I/O, and domain modules never read a clock or draw random numbers (time is a parameter).
 * Type-only imports are erased at compile time and allowed.
 */
const ROOT = path.resolve(__dirname, '../..');
const ALLOWED_PACKAGES = ['@temporalio/workflow', '@temporalio/common', 'luxon', 'zod'];
const FORBIDDEN_IN_DOMAIN: [RegExp, string][] = [
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bnew Date\s*\(\s*\)/, 'new Date() without an argument'],
  [/\bMath\.random\s*\(/, 'Math.random()'],
  [/\bprocess\./, 'process'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'timers'],
  [/\b(fetch|require)\s*\(/, 'I/O'],
];

const sources = (dir: string) =>
  readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ file: `${dir}/${f}`, text: readFileSync(path.join(ROOT, dir, f), 'utf8') }));

/** Value imports (not `import type`), with their specifiers. */
function valueImports(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/^\s*import\s+(type\s+)?([\s\S]*?)\s+from\s+['"]([^'"]+)['"]/gm)) {
    if (m[1]) continue;
    const clause = m[2]!.trim();
    const named = /^\{([\s\S]*)\}$/.exec(clause);
    if (named && named[1]!.split(',').every((n) => !n.trim() || n.trim().startsWith('type '))) continue;
    specs.push(m[3]!);
  }
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) specs.push(m[1]!);
  return specs;
}

function importProblems(file: string, text: string): string[] {
  return valueImports(text).flatMap((spec) => {
    if (spec.startsWith('.')) {
      const target = path.normalize(path.join(path.dirname(file), spec));
      return target.startsWith('domain') || target.startsWith('workflows') ? [] : [`${file} imports ${spec} (outside domain/ and workflows/)`];
    }
    return ALLOWED_PACKAGES.includes(spec) ? [] : [`${file} imports ${spec}`];
  });
}

describe('determinism rules for workflow and domain code', () => {
  it('workflow and domain modules import only deterministic code', () => {
    const files = [...sources('workflows'), ...sources('domain')];
    expect(files.length).toBeGreaterThan(5);
    expect(files.flatMap((f) => importProblems(f.file, f.text))).toEqual([]);
  });

  it('domain modules read no clock, draw no random numbers and do no I/O', () => {
    const problems = sources('domain').flatMap(({ file, text }) => {
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      return FORBIDDEN_IN_DOMAIN.filter(([re]) => re.test(code)).map(([, what]) => `${file} uses ${what}`);
    });
    expect(problems).toEqual([]);
  });

  it('catches what it should (the check really checks)', () => {
    expect(importProblems('workflows/x.ts', "import { readFileSync } from 'node:fs';\nimport type { A } from '../activities';")).toEqual(['workflows/x.ts imports node:fs']);
    expect(importProblems('workflows/x.ts', "import { createSql } from '../db/sql';")).toEqual(['workflows/x.ts imports ../db/sql (outside domain/ and workflows/)']);
    expect(importProblems('domain/x.ts', "import { type A, type B } from 'postgres';\nimport { DateTime } from 'luxon';")).toEqual([]);
  });
});
