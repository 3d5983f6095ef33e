import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Where the workflow code lives, whether we run from sources (tsx, vitest) or from the build (dist/). */
const dir = path.resolve(__dirname, '../workflows');
export const workflowsPath = ['index.ts', 'index.js'].map((f) => path.join(dir, f)).find((f) => existsSync(f)) ?? dir;

/**
 * Modules the workflow bundle loads once per worker and shares between workflows (the SDK's reusable V8
 * context deep-freezes them). Without this, every cached workflow instantiates its own zod, luxon and
 * domain rules: about 1.9 MiB of worker memory per workflow instead of about 0.4 MiB, and slower starts.
 * Safe because domain/ is pure and deterministic (no I/O, clock or randomness: eslint.config.mjs) and keeps
 * no per-workflow state at module level; test/unit/workflow-bundle.test.ts holds that line.
 */
const domainDir = path.resolve(__dirname, '../domain');
export const preloadModules = [
  'zod',
  'luxon',
  ...readdirSync(domainDir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => path.join(domainDir, f)),
];

/** What every bundle of the workflow code is built with: the worker's, the tests', the recorder's and the benchmarks'. */
export const workflowBundleOptions = { workflowsPath, preloadModules };
