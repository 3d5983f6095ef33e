import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { toolPath } from '../../dev/temporal';
import { workflowBundleOptions } from '../../worker/workflows-path';
import { useRunTempDir } from './run-temp-dir';

/** Bundles the workflow code once per run, and points the tests at Temporal's time-skipping test server. */
export default async function setup(project: TestProject) {
  const releaseTempDir = useRunTempDir();
  let code: string;
  try {
    ({ code } = await bundleWorkflowCode({ ...workflowBundleOptions, logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} } as never }));
  } catch (err) {
    releaseTempDir();
    throw err;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dunning-bundle-'));
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('testServerPath', toolPath('temporal-test-server'));
  return () => {
    rmSync(dir, { recursive: true, force: true });
    releaseTempDir();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundlePath: string;
    testServerPath: string;
  }
}
