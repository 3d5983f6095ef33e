import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { consoleApi } from '../api-client';
import { renderPage, setNotice } from '../render';
import type { ConsolePages } from './index';

/** The shapes of GET /erp-sync, /erp-sync/runs and /erp-sync/runs/:runId (api/routes/erp-sync.ts). */
interface SyncRun {
  runId: number;
  workflowId: string;
  status: 'running' | 'completed' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  cursorFrom: string | null;
  cursorTo: string | null;
  counts: Record<string, number>;
  failure: string | null;
}
interface SyncRunWithErrors extends SyncRun {
  errors: { erpId: string; invoiceNumber: string | null; customerId: string | null; code: string; reason: string; at: string }[];
}
interface SyncStatus {
  scheduleId: string;
  erp: string;
  connection: string;
  intervalMinutes: number;
  intervalSource: string;
  paused: boolean;
  note: string | null;
  nextRunAt: string | null;
  running: string[];
  cursor: string | null;
  lastRun: SyncRun | null;
}

/** The counts a run's row shows (all of them are on its own page). */
export const RUN_COUNTS = ['received', 'created', 'updated', 'enrolled', 'closed', 'errors'] as const;

const noteForm = z.object({ note: z.string().max(500).default('') });

/** The ERP sync: the schedule (interval, paused, next and last run), its runs with counts and errors, run now, pause and resume. */
export const erpSyncPages: ConsolePages = async (app, { defaults }) => {
  app.get('/app/erp-sync', async (request, reply) => {
    const api = consoleApi(app, request.consoleUser);
    const [status, runs] = await Promise.all([api.get<SyncStatus>('/erp-sync'), api.get<{ items: SyncRun[] }>('/erp-sync/runs?limit=20')]);
    if (!status.ok && status.status === 403) return renderPage(request, reply, defaults, 'error', { title: 'Refused', status: 403, message: status.body.message }, 403);
    return renderPage(request, reply, defaults, 'erp-sync', {
      title: 'ERP sync',
      status: status.ok ? status.body : undefined,
      unavailable: status.ok ? undefined : status.body.message,
      runs: runs.ok ? runs.body.items : [],
      runsError: runs.ok ? undefined : runs.body.message,
      countKeys: RUN_COUNTS,
    });
  });

  app.get('/app/erp-sync/runs/:runId', async (request: FastifyRequest<{ Params: { runId: string } }>, reply) => {
    if (!/^\d{1,15}$/.test(request.params.runId)) return renderPage(request, reply, defaults, 'error', { title: 'Not found', status: 404, message: 'No such sync run' }, 404);
    const res = await consoleApi(app, request.consoleUser).get<SyncRunWithErrors>(`/erp-sync/runs/${request.params.runId}`);
    if (!res.ok) return renderPage(request, reply, defaults, 'error', { title: res.status === 404 ? 'Not found' : 'Refused', status: res.status, message: res.body.message }, res.status);
    return renderPage(request, reply, defaults, 'erp-sync-run', { title: `Sync run ${res.body.runId}`, run: res.body });
  });

  app.post('/app/erp-sync/trigger', async (request, reply) => {
    const res = await consoleApi(app, request.consoleUser).send<{ triggered: boolean; queued: boolean }>('POST', '/erp-sync/trigger');
    if (!res.ok) {
      setNotice(reply, `Not started: ${res.body.message}`);
      return reply.redirect('/app/erp-sync', 303);
    }
    setNotice(reply, res.body.queued ? 'Queued: a run is under way; this one starts when it ends' : 'Sync run started');
    return reply.redirect('/app/erp-sync', 303);
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/app/erp-sync/${action}`, async (request, reply) => {
      const form = noteForm.safeParse(request.body ?? {});
      const res = await consoleApi(app, request.consoleUser).send<SyncStatus>('POST', `/erp-sync/${action}`, { note: form.success ? form.data.note : '' });
      if (!res.ok) {
        setNotice(reply, `Not ${action}d: ${res.body.message}`);
        return reply.redirect('/app/erp-sync', 303);
      }
      setNotice(reply, action === 'pause' ? 'Sync paused' : 'Sync resumed');
      return reply.redirect('/app/erp-sync', 303);
    });
  }
};
