import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { consoleApi } from '../api-client';
import { renderPage } from '../render';
import type { ConsolePages } from './index';
import type { taskSchema } from '../../routes/worklist';
import { AGING_BUCKETS } from '../../../domain/aging';

type Task = z.infer<typeof taskSchema>;
interface WorklistPage {
  total: number;
  totalOpenAmountReportingMinor: number;
  items: Task[];
  nextCursor: string | null;
}

/** What a priority component means to a collector (api/worklist-service.ts scores them). */
const REASONS: Record<string, string> = {
  amount: 'open amount',
  daysPastDue: 'days past due',
  agingBucket: 'aging bucket',
  brokenPromises: 'broken promises',
  lastContact: 'not reached lately',
  taskDue: 'task due',
  segment: 'customer segment',
};

/**
 * The collector's day: open call tasks in priority order (GET /worklist: a collector sees their own portfolio,
 * a team lead everyone's), each with the reasons behind its score. Keys: j/k move, Enter opens the customer.
 */
export const worklistPages: ConsolePages = async (app, { defaults }) => {
  app.get('/app/worklist', async (request: FastifyRequest<{ Querystring: { bucket?: string; collectorId?: string } }>, reply) => {
    const api = consoleApi(app, request.consoleUser);
    const q = new URLSearchParams({ status: 'open', limit: '200' });
    if (request.query.bucket) q.set('bucket', request.query.bucket);
    if (request.query.collectorId) q.set('collectorId', request.query.collectorId);
    const res = await api.get<WorklistPage>(`/worklist?${q}`);
    if (!res.ok) return renderPage(request, reply, defaults, 'worklist', { title: 'Worklist', tasks: [], total: 0, error: res.body, buckets: AGING_BUCKETS, query: request.query }, res.status);
    const reasons = (t: Task) =>
      Object.entries(t.priority.components)
        .filter(([k, v]) => k !== 'base' && k !== 'dispute' && v > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([k, v]) => `${REASONS[k] ?? k} (+${Math.round(v)})`);
    return renderPage(request, reply, defaults, 'worklist', {
      title: 'Worklist',
      tasks: res.body.items.map((t) => ({ ...t, reasons: reasons(t) })),
      total: res.body.total,
      totalReportingMinor: res.body.totalOpenAmountReportingMinor,
      query: request.query,
      buckets: AGING_BUCKETS,
    });
  });
};
