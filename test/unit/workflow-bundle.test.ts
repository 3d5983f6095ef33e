import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preloadModules } from '../../worker/workflows-path';

/**
 * The workflow bundle shares domain/, zod and luxon between all workflows of a worker (preloadModules, deep-frozen
 * by the SDK): about 0.4 MiB per cached workflow instead of 1.9 MiB. That is only sound while domain/ keeps no
 * state of its own at module level: a variable one workflow wrote would be read by another.
 */
const DOMAIN = path.resolve(__dirname, '../../domain');
const files = readdirSync(DOMAIN).filter((f) => f.endsWith('.ts'));
/** Module-level caches of pure functions (the same input always gives the same value, whoever asks first). */
const PURE_MEMOS = new Set(['business-calendar.ts:holidaySets', 'money.ts:digitsByCurrency', 'money.ts:moneyFormats']);

describe('the modules shared by all workflows of a worker', () => {
  it('are zod, luxon and every module of domain/', () => {
    expect(preloadModules.slice(0, 2)).toEqual(['zod', 'luxon']);
    expect(preloadModules.slice(2).map((f) => path.basename(f)).sort()).toEqual([...files].sort());
  });

  it('keep no mutable state at module level in domain/: no top-level let or var, and only pure memo caches', () => {
    const found: string[] = [];
    for (const f of files) {
      const source = readFileSync(path.join(DOMAIN, f), 'utf8');
      for (const m of source.matchAll(/^(?:export )?(let|var) (\w+)/gm)) found.push(`${f}:${m[1]} ${m[2]}`);
      for (const m of source.matchAll(/^(?:export )?const (\w+)(?::[^=]+)? = new (?:Map|Set|WeakMap|WeakSet)\b/gm)) if (!PURE_MEMOS.has(`${f}:${m[1]}`)) found.push(`${f}:${m[1]}`);
    }
    expect(found).toEqual([]);
  });
});
