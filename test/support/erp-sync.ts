import { expect } from 'vitest';

type Call = (method: string, url: string) => Promise<{ status: number; body: any }>;

/**
 * `syncNow()` for tests of the ERP sync: triggers a run through the API and waits until a run newer than the last
 * one it waited for has ended; answers that run's record as GET /erp-sync/runs/:runId gives it.
 */
export function syncRunner(api: Call, timeoutMs = 60_000): () => Promise<any> {
  let lastRunId = 0;
  return async () => {
    expect((await api('POST', '/erp-sync/trigger')).status).toBe(202);
    let run: any;
    await expect
      .poll(
        async () => {
          run = (await api('GET', '/erp-sync/runs?limit=1')).body.items[0];
          return run && run.runId > lastRunId && run.status !== 'running';
        },
        { timeout: timeoutMs, interval: 250 },
      )
      .toBe(true);
    lastRunId = run.runId;
    return (await api('GET', `/erp-sync/runs/${run.runId}`)).body;
  };
}
