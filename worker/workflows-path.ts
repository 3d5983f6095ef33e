import { existsSync } from 'node:fs';
import path from 'node:path';

/** Where the workflow code lives, whether we run from sources (tsx, vitest) or from the build (dist/). */
const dir = path.resolve(__dirname, '../workflows');
export const workflowsPath = ['index.ts', 'index.js'].map((f) => path.join(dir, f)).find((f) => existsSync(f)) ?? dir;
