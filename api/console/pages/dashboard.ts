import type { FastifyReply, FastifyRequest } from 'fastify';
import { consoleApi, type ApiErrorBody, type ConsoleApi } from '../api-client';
import { renderPage } from '../render';
import type { ConsolePages } from './index';
import { addMonths, lastCompleteMonth } from '../../../domain/reports/dso';
import { roleRank } from '../../../domain/roles';

/** The shapes of the reports the dashboard reads (reports/ledger.ts, reports/activity.ts, api/routes/promises.ts). */
interface AgingReport {
  asOf: string;
  reportingCurrency: string;
  buckets: string[];
  total: { count: number; openMinor: number; pastDueMinor: number; pastDuePercent: number | null; buckets: Record<string, number> };
}
interface DsoReport {
  month: string;
  reportingCurrency: string;
  openArMinor: number;
  countBack: { days: number };
  standard: { days: number | null };
  bestPossible: { days: number | null };
}
interface CeiReport {
  reportingCurrency: string;
  months: { month: string; cei: number | null; collectedMinor: number }[];
}
interface KeptRate {
  items: { collectorId?: string; kept: number; partiallyKept: number; broken: number; open: number; settled: number; keptRate: number | null }[];
}
interface DisputeCycle {
  from: string;
  to: string;
  byReason: { key: string; opened: number; resolved: number; openAtEnd: number; overdueAtEnd: number; averageDays: number | null }[];
}
interface Effectiveness {
  from: string;
  to: string;
  reportingCurrency: string;
  collectors: { collectorId: string | null; name: string | null; touches: number; reached: number; promisesTaken: number; keptRateByCount: number | null; collectedMinor: number }[];
}

/** The reports offered as Excel downloads (GET /app/reports/<name>.xlsx → the API's GET /reports/<name>?format=xlsx). */
export const XLSX_REPORTS: { name: string; label: string }[] = [
  { name: 'aging', label: 'Aging' },
  { name: 'dso', label: 'DSO' },
  { name: 'cei', label: 'CEI' },
  { name: 'collector-effectiveness', label: 'Collector effectiveness' },
  { name: 'dispute-cycle-time', label: 'Dispute cycle time' },
  { name: 'ar-pack', label: 'Month-end AR pack (every report)' },
];

const PALETTE = ['#2e7d32', '#f9a825', '#ef6c00', '#c62828', '#6a1b9a', '#1565c0', '#00838f', '#5d4037'];
const major = (minor: number) => minor / 100;

/** One report's answer, or its refusal's message (a section that cannot be drawn says why, the others still are). */
async function read<T>(api: ConsoleApi, url: string): Promise<{ ok: true; body: T } | { ok: false; message: string }> {
  const res = await api.get<T>(url);
  return res.ok ? { ok: true, body: res.body } : { ok: false, message: (res.body as ApiErrorBody | undefined)?.message ?? `the API answered ${res.status}` };
}

const today = () => new Date().toISOString().slice(0, 10);

/**
 * The AR manager's dashboard: aging by bucket, DSO and CEI by month, promises kept, disputes by reason and collector
 * effectiveness, each a chart (Chart.js, drawn by console.js from its data-chart) with the same numbers in a table,
 * and the reports' Excel files. Everything through the API's reports as the signed-in user.
 */
export const dashboardPages: ConsolePages = async (app, { defaults }) => {
  app.get('/app/dashboard', async (request: FastifyRequest, reply: FastifyReply) => {
    // The reports would answer a collector for their portfolio; the dashboard is the managers' overview (as the navigation says).
    if (roleRank(request.consoleUser.role) < roleRank('ar_manager'))
      return renderPage(request, reply, defaults, 'error', { title: 'Refused', status: 403, message: 'The dashboard is for AR managers and admins; your worklist is at /app/worklist.' }, 403);
    const api = consoleApi(app, request.consoleUser);
    const last = lastCompleteMonth(today());
    const months = [5, 4, 3, 2, 1, 0].map((n) => addMonths(last, -n));
    const [aging, cei, kept, disputes, effectiveness, ...dsos] = await Promise.all([
      read<AgingReport>(api, '/reports/aging?groupBy=none'),
      read<CeiReport>(api, `/reports/cei?from=${months[0]}&to=${last}`),
      read<KeptRate>(api, '/reports/promise-kept-rate?by=collector'),
      read<DisputeCycle>(api, '/reports/dispute-cycle-time'),
      read<Effectiveness>(api, '/reports/collector-effectiveness'),
      ...months.map((m) => read<DsoReport>(api, `/reports/dso?month=${m}`)),
    ]);
    const firstRefusal = [aging, cei, kept, disputes, effectiveness, ...dsos].find((r) => !r.ok);
    if (firstRefusal && !firstRefusal.ok && [aging, cei, kept, disputes, effectiveness, ...dsos].every((r) => !r.ok)) {
      return renderPage(request, reply, defaults, 'error', { title: 'Dashboard', status: 403, message: firstRefusal.message }, 403);
    }
    const rc = aging.ok ? aging.body.reportingCurrency : 'EUR';

    const agingChart = aging.ok && {
      type: 'bar',
      data: {
        labels: aging.body.buckets,
        datasets: [{ label: `Open (${rc})`, data: aging.body.buckets.map((b) => major(aging.body.total.buckets[b] ?? 0)), backgroundColor: PALETTE.slice(0, aging.body.buckets.length) }],
      },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } } },
    };
    const dsoRows = months.map((m, i) => {
      const r = dsos[i]!;
      return r.ok ? { month: m, countBack: r.body.countBack.days, standard: r.body.standard.days, bestPossible: r.body.bestPossible.days, openArMinor: r.body.openArMinor } : { month: m, countBack: null, standard: null, bestPossible: null, openArMinor: null };
    });
    const ceiRows = cei.ok ? cei.body.months : [];
    const trendChart = {
      type: 'line',
      data: {
        labels: months,
        datasets: [
          { label: 'DSO, count-back (days)', data: dsoRows.map((r) => r.countBack), borderColor: PALETTE[5], backgroundColor: PALETTE[5], yAxisID: 'y' },
          { label: 'DSO, standard (days)', data: dsoRows.map((r) => r.standard), borderColor: PALETTE[4], backgroundColor: PALETTE[4], yAxisID: 'y', borderDash: [6, 4] },
          { label: 'CEI (%)', data: months.map((m) => ceiRows.find((c) => c.month === m)?.cei ?? null), borderColor: PALETTE[0], backgroundColor: PALETTE[0], yAxisID: 'y1' },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { position: 'left', title: { display: true, text: 'days' }, beginAtZero: true }, y1: { position: 'right', title: { display: true, text: 'CEI %' }, min: 0, max: 100, grid: { drawOnChartArea: false } } },
      },
    };
    const keptItems = kept.ok ? kept.body.items : [];
    const keptChart = {
      type: 'bar',
      data: {
        labels: keptItems.map((i) => i.collectorId ?? '—'),
        datasets: [
          { label: 'Kept', data: keptItems.map((i) => i.kept), backgroundColor: PALETTE[0] },
          { label: 'Partially kept', data: keptItems.map((i) => i.partiallyKept), backgroundColor: PALETTE[1] },
          { label: 'Broken', data: keptItems.map((i) => i.broken), backgroundColor: PALETTE[3] },
        ],
      },
      options: { animation: false, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    };
    const reasons = disputes.ok ? disputes.body.byReason : [];
    const disputeChart = {
      type: 'bar',
      data: {
        labels: reasons.map((r) => r.key.replace(/_/g, ' ')),
        datasets: [
          { label: 'Opened', data: reasons.map((r) => r.opened), backgroundColor: PALETTE[5] },
          { label: 'Open at end', data: reasons.map((r) => r.openAtEnd), backgroundColor: PALETTE[2] },
        ],
      },
      options: { animation: false, maintainAspectRatio: false, indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    };
    const collectors = effectiveness.ok ? effectiveness.body.collectors : [];
    const effectivenessChart = {
      type: 'bar',
      data: {
        labels: collectors.map((c) => c.name ?? c.collectorId ?? 'unassigned'),
        datasets: [{ label: `Collected (${rc})`, data: collectors.map((c) => major(c.collectedMinor)), backgroundColor: PALETTE[6] }],
      },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } } },
    };
    return renderPage(request, reply, defaults, 'dashboard', {
      title: 'Dashboard',
      scripts: ['/app/assets/chart.umd.min.js'],
      rc,
      aging: aging.ok ? aging.body : undefined,
      agingError: aging.ok ? undefined : aging.message,
      agingChart,
      months,
      dsoRows,
      dsoError: dsos.map((d) => (d.ok ? undefined : d.message)).find((m) => m !== undefined),
      ceiRows: months.map((m) => ({ month: m, cei: ceiRows.find((c) => c.month === m)?.cei ?? null, collectedMinor: ceiRows.find((c) => c.month === m)?.collectedMinor ?? null })),
      ceiError: cei.ok ? undefined : cei.message,
      trendChart,
      keptItems,
      keptError: kept.ok ? undefined : kept.message,
      keptChart,
      disputes: disputes.ok ? disputes.body : undefined,
      disputesError: disputes.ok ? undefined : disputes.message,
      disputeChart,
      effectiveness: effectiveness.ok ? effectiveness.body : undefined,
      effectivenessError: effectiveness.ok ? undefined : effectiveness.message,
      effectivenessChart,
      downloads: XLSX_REPORTS,
    });
  });

  // The reports' Excel files: the browser has no bearer token, so the console fetches them as the user and streams them on.
  app.get('/app/reports/:file', async (request: FastifyRequest<{ Params: { file: string }; Querystring: Record<string, string> }>, reply) => {
    const m = /^([a-z0-9-]+)\.xlsx$/.exec(request.params.file);
    const report = m ? XLSX_REPORTS.find((r) => r.name === m[1]) : undefined;
    if (!report) return renderPage(request, reply, defaults, 'error', { title: 'Not found', status: 404, message: `No report file ${request.params.file}` }, 404);
    const q = new URLSearchParams();
    for (const key of ['month', 'asOf', 'from', 'to']) {
      const v = request.query[key];
      if (typeof v === 'string' && /^[0-9-]{7,10}$/.test(v)) q.set(key, v);
    }
    q.set('format', 'xlsx');
    const res = await consoleApi(app, request.consoleUser).raw('GET', `/reports/${report.name}?${q}`);
    if (res.status >= 400) {
      let message = `the API answered ${res.status}`;
      try {
        message = (JSON.parse(res.body.toString('utf8')) as ApiErrorBody).message ?? message;
      } catch {
        // not JSON: the status says it
      }
      return renderPage(request, reply, defaults, 'error', { title: 'Refused', status: res.status, message }, res.status);
    }
    reply.header('content-type', String(res.headers['content-type'] ?? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'));
    reply.header('content-disposition', String(res.headers['content-disposition'] ?? `attachment; filename="${report.name}.xlsx"`));
    return reply.send(res.body);
  });
};
