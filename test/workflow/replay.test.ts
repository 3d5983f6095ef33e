import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

/**
 * Every committed history (test/histories, recorded by `npm run record-histories`) must replay
 * against today's workflow code: a change that would break running invoices fails here.
 */
const dir = path.resolve(__dirname, '..', 'histories');
const INDEX = 'workflow-ids.json';
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== INDEX);
/** The workflow id each history was recorded under (the code derives keys from it); v1 histories predate the index. */
const workflowIds: Record<string, string> = existsSync(path.join(dir, INDEX)) ? JSON.parse(readFileSync(path.join(dir, INDEX), 'utf8')) : {};
const load = (file: string) => JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
const replay = (history: unknown, workflowId: string) =>
  Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, workflowId);

describe('replay of recorded histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
  });

  it.each(files)('%s replays without determinism errors', async (file) => {
    await expect(replay(load(file), workflowIds[file] ?? file)).resolves.toBeUndefined();
  });

  it('detects a history that the code would not produce (the check really checks)', async () => {
    const history = load(files[0]!);
    const scheduled = history.events.find((e: any) => e.activityTaskScheduledEventAttributes);
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'someOtherActivity';
    await expect(replay(history, 'tampered')).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
