import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestWorker, createTimeSkippingEnv } from '../support/time-skipping';
import type { ErpSyncInput, ErpSyncSummary } from '../../workflows/erp-sync-messages';

/**
 * The sync workflow's orchestration on the time-skipping server, with recording activities: one run record across
 * continue-as-new, pages until hasMore is false, then admission batches, its history bounded; a permanent ERP
 * refusal ends the run 'failed' with the reason. The activities' own behaviour is tested end to end
 * (test/e2e/erp-sync*.e2e.test.ts).
 */

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv(inject('testServerPath'));
});
afterAll(async () => {
  await env?.teardown();
});

function recording(opts: { pages: number; admitBatches: number; refuseAt?: number }) {
  const calls: { name: string; args: Record<string, unknown> }[] = [];
  let page = 0;
  let batch = 0;
  const activities = {
    async erpSyncStartRun(args: Record<string, unknown>) {
      calls.push({ name: 'start', args });
      return { runId: 42 };
    },
    async erpSyncPage(args: Record<string, unknown>) {
      calls.push({ name: 'page', args });
      page++;
      if (page === opts.refuseAt) throw ApplicationFailure.nonRetryable('ERP refused the request (HTTP 400): invalid_cursor', 'ErpRequestRejectedError');
      return { hasMore: page < opts.pages, applied: true, received: 3, enrolled: 1, signalled: 0, errors: 0 };
    },
    async erpSyncAdmitDue(args: Record<string, unknown>) {
      calls.push({ name: 'admit', args });
      batch++;
      return { next: batch < opts.admitBatches ? `INV-${batch}` : null, enrolled: 0 };
    },
    async erpSyncFinishRun(args: Record<string, unknown>) {
      calls.push({ name: 'finish', args });
    },
  };
  return { calls, activities };
}

const input: ErpSyncInput = { tenantId: 't1', connection: 'main', pageSize: 3, pagesPerRun: 4, admitBatch: 2 };

describe('erpSync workflow', () => {
  it('pages to the end and admits in batches, continuing as new every few calls with one run record', async () => {
    const { calls, activities } = recording({ pages: 10, admitBatches: 5 });
    const { worker, taskQueue } = await createTestWorker(env, activities, inject('workflowBundlePath'));
    const started = await env.client.workflow.start('erpSync', { workflowId: 'erp-sync:t1:main-1', taskQueue, args: [input] });
    const result = (await worker.runUntil(started.result())) as ErpSyncSummary;
    expect(result).toEqual({ runId: 42, status: 'completed', pages: 10 } satisfies ErpSyncSummary);
    expect(calls.filter((c) => c.name === 'start')).toHaveLength(1);
    expect(calls.filter((c) => c.name === 'page')).toHaveLength(10);
    expect(calls.filter((c) => c.name === 'page').every((c) => c.args.runId === 42 && c.args.pageSize === 3)).toBe(true);
    expect(calls.filter((c) => c.name === 'admit').map((c) => c.args.after)).toEqual(['', 'INV-1', 'INV-2', 'INV-3', 'INV-4']);
    expect(calls.at(-1)).toEqual({ name: 'finish', args: { tenantId: 't1', runId: 42, workflowId: 'erp-sync:t1:main-1', status: 'completed' } });
    // 15 calls at 4 a run: four runs chained by continue-as-new, each history small.
    const handle = env.client.workflow.getHandle('erp-sync:t1:main-1');
    const history = await handle.fetchHistory();
    expect(history.events!.length).toBeLessThan(40);
    const { runId } = await handle.describe();
    expect(runId).not.toBe(started.firstExecutionRunId); // the last run of the chain
  });

  it("ends the run 'failed' with the ERP's refusal, and does not retry it", async () => {
    const { calls, activities } = recording({ pages: 10, admitBatches: 1, refuseAt: 2 });
    const { worker, taskQueue } = await createTestWorker(env, activities, inject('workflowBundlePath'));
    const result = await worker.runUntil(env.client.workflow.execute('erpSync', { workflowId: 'erp-sync:t1:main-2', taskQueue, args: [input] }));
    expect(result).toMatchObject({ runId: 42, status: 'failed', pages: 1 });
    expect(result.failure).toContain('invalid_cursor');
    expect(calls.filter((c) => c.name === 'page')).toHaveLength(2);
    expect(calls.at(-1)).toMatchObject({ name: 'finish', args: { status: 'failed' } });
  });
});
