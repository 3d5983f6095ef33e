import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestWorker, createTimeSkippingEnv } from '../support/time-skipping';
import type { ArPackMailRequest, ArPackMailResult } from '../../workflows/ar-pack-messages';

/**
 * The weekly AR pack's workflow on the time-skipping server with a recording activity: one call, keyed by the
 * workflow id; a failing SMTP server is retried with backoff; a refusal that retrying cannot change (a currency
 * without a rate) fails the run at once. The activity itself runs for real in test/integration/ar-pack-schedule.test.ts.
 */
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv(inject('testServerPath'));
});
afterAll(async () => {
  await env?.teardown();
});

const sent = (req: ArPackMailRequest): ArPackMailResult => ({ status: 'sent', asOf: '2026-04-06', month: '2026-03', recipients: ['ar@example.com'], messageId: `<${req.idempotencyKey}>`, sheets: ['Cover'] });

describe('arPack workflow', () => {
  it('mails once, keyed by its workflow id, retrying a failing SMTP server', async () => {
    const calls: ArPackMailRequest[] = [];
    const activities = {
      async mailArPack(req: ArPackMailRequest) {
        calls.push(req);
        if (calls.length < 3) throw new Error('connect ECONNREFUSED 127.0.0.1:25');
        return sent(req);
      },
    };
    const { worker, taskQueue } = await createTestWorker(env, activities, inject('workflowBundlePath'));
    const workflowId = 'ar-pack:t1-2026-04-06T05:00:00Z';
    const result = await worker.runUntil(env.client.workflow.execute('arPack', { workflowId, taskQueue, args: [{ tenantId: 't1' }] }));
    expect(result).toMatchObject({ status: 'sent', messageId: `<${workflowId}>` });
    expect(calls).toEqual([1, 2, 3].map(() => ({ tenantId: 't1', idempotencyKey: workflowId })));
  });

  it('fails at once when a currency has no rate', async () => {
    let n = 0;
    const activities = {
      async mailArPack() {
        n++;
        throw ApplicationFailure.create({ message: 'no exchange rate from XAF to the reporting currency EUR', type: 'NoExchangeRateError' });
      },
    };
    const { worker, taskQueue } = await createTestWorker(env, activities, inject('workflowBundlePath'));
    const run = worker.runUntil(env.client.workflow.execute('arPack', { workflowId: 'ar-pack:t1-norate', taskQueue, args: [{ tenantId: 't1' }] }));
    await expect(run).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(n).toBe(1);
  });
});
