import { ActivityFailure, ApplicationFailure, ContinueAsNew, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ErpSyncActivities } from '../activities/erp-sync';
import { erpSyncProgressQuery, type ErpSyncInput, type ErpSyncProgress, type ErpSyncSummary } from './erp-sync-messages';

/**
 * One ERP sync run, started by the tenant's Schedule (erp-sync:<tenant>:<connection>, overlap SKIP) or by
 * POST /erp-sync/trigger: pages through the ERP's change feed from the stored cursor, then enrolls the ledger's
 * invoices that came within the enrollment window. It only orchestrates: each page is one activity that applies
 * it and moves the cursor (activities/erp-sync.ts). Every `pagesPerRun` pages it continues as new, so its history
 * stays a few hundred events however large the ledger.
 */

const { erpSyncStartRun, erpSyncFinishRun } = proxyActivities<ErpSyncActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// A page enrolls up to pageSize invoices: minutes at most. Retried with backoff while the ERP or Temporal is down
// (an hour and more), permanent refusals at once; the run then ends 'failed' and the next one starts where it stopped.
const { erpSyncPage, erpSyncAdmitDue } = proxyActivities<ErpSyncActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['ErpRequestRejectedError', 'ErpCapabilityError'],
  },
});

const DEFAULT_ADMIT_BATCH = 500;

export async function erpSync(input: ErpSyncInput): Promise<ErpSyncSummary> {
  const { tenantId, connection, pageSize, pagesPerRun } = input;
  const info = workflowInfo();
  const progress: ErpSyncProgress = { runId: input.carried?.runId ?? null, phase: input.carried?.phase ?? 'starting', pages: input.carried?.pages ?? 0 };
  setHandler(erpSyncProgressQuery, () => progress);

  const runId = input.carried?.runId ?? (await erpSyncStartRun({ tenantId, connection, workflowId: info.workflowId, runKey: `${info.workflowId}:${info.firstExecutionRunId}` })).runId;
  progress.runId = runId;
  const carry = (phase: 'pages' | 'admit', after: string) => continueAsNew<typeof erpSync>({ ...input, carried: { runId, phase, after, pages: progress.pages } });

  try {
    let calls = 0;
    if (progress.phase !== 'admit') {
      progress.phase = 'pages';
      for (;;) {
        const page = await erpSyncPage({ tenantId, connection, runId, pageSize });
        calls++;
        if (page.applied) progress.pages++;
        if (!page.hasMore) break;
        if (calls >= pagesPerRun) await carry('pages', '');
      }
    }
    progress.phase = 'admit';
    let after = input.carried?.phase === 'admit' ? input.carried.after : '';
    for (;;) {
      const batch = await erpSyncAdmitDue({ tenantId, connection, runId, after, limit: input.admitBatch ?? DEFAULT_ADMIT_BATCH });
      calls++;
      if (batch.next === null) break;
      after = batch.next;
      if (calls >= pagesPerRun) await carry('admit', after);
    }
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
    const failure = cause instanceof ApplicationFailure || cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    progress.phase = 'failed';
    await erpSyncFinishRun({ tenantId, runId, workflowId: info.workflowId, status: 'failed', failure });
    return { runId, status: 'failed', pages: progress.pages, failure };
  }
  progress.phase = 'done';
  await erpSyncFinishRun({ tenantId, runId, workflowId: info.workflowId, status: 'completed' });
  return { runId, status: 'completed', pages: progress.pages };
}
