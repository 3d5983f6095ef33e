import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { consoleApi, formKey, type ApiErrorBody } from '../api-client';
import { renderPage, setNotice, typedValues } from '../render';
import { validationIssues } from '../../../config/validation-issues';
import type { ConsolePages } from './index';
import { customerNames, PENDING_NOTICE, words, type InvoiceSummary } from './disputes';

/** An approval request as GET /approval-requests and GET /approval-requests/:id answer it (api/routes/disputes.ts). */
interface ApprovalItem {
  requestId: string;
  invoiceNumber: string;
  customerId: string;
  action: string;
  amountMinor: number;
  currency: string;
  amountReportingMinor: number;
  reason: string;
  source: string;
  requestedBy: string;
  requestedAt: string;
  requiredRole: string;
  level: number;
  status: string;
  escalatedAt: string | null;
  decision: { by: string; at: string | null; note: string | null } | null;
  effect: unknown;
  details: unknown;
  canDecide: boolean;
}
interface ApprovalList {
  total: number;
  items: ApprovalItem[];
}
interface Timeline {
  items: { at: string; actor: string; type: string; summary: string }[];
}

/** What each kind of request asks for, in the approver's words. */
const KIND: Record<string, string> = {
  write_off: 'Write-off',
  settlement: 'Settlement',
  credit_hold: 'Credit hold',
  release_credit_hold: 'Release credit hold',
  legal_handoff: 'Legal hand-off',
  agency_handoff: 'Agency hand-off',
  extended_payment_plan: 'Extended payment plan',
};
const STATUS: Record<string, string> = { pending: 'Pending', approved: 'Approved', rejected: 'Rejected', expired: 'Expired', cancelled: 'Cancelled', withdrawn: 'Withdrawn' };

const queueQuery = z.object({ status: z.enum(['pending', 'decided', 'all']).catch('all') });
const decisionForm = z.object({
  _key: z.string().max(100).optional(),
  decision: z.enum(['approve', 'reject'], { message: 'approve or reject' }),
  note: z.string().max(4000).default(''),
});

/** Settlement and installment details as label/value lines (whatever else the details hold is shown as it is). */
function detailLines(details: unknown): { settlement?: { amountMinor: number; payBy: string }; installments?: { dueDate: string; amountMinor: number }[]; other: string[] } {
  const out: ReturnType<typeof detailLines> = { other: [] };
  if (!details || typeof details !== 'object') return out;
  for (const [k, v] of Object.entries(details as Record<string, unknown>)) {
    if (k === 'settlement' && v && typeof v === 'object') out.settlement = v as { amountMinor: number; payBy: string };
    else if (k === 'installments' && Array.isArray(v)) out.installments = v as { dueDate: string; amountMinor: number }[];
    else out.other.push(`${words(k)}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return out;
}

/**
 * The approval queue (GET /approval-requests: pending first, with whether the user may decide each), one request
 * with the invoice and its history as evidence, and approve / reject with a comment (POST .../decision). The
 * authority matrix is the API's: a refusal (role or limit too low, one's own request) shows in place.
 */
export const approvalPages: ConsolePages = async (app, { defaults }) => {
  app.get('/app/approvals', async (request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>, reply) => {
    const api = consoleApi(app, request.consoleUser);
    const query = queueQuery.parse(request.query);
    const res = await api.get<ApprovalList>(`/approval-requests?status=${query.status}&limit=500`);
    const base = { title: 'Approvals', query, requests: [] as unknown[], total: 0, names: {}, kind: KIND, statusLabel: STATUS, words };
    if (!res.ok) return renderPage(request, reply, defaults, 'approvals', { ...base, error: res.body }, res.status);
    // Pending first (oldest first: the longest waiting), then the decided ones, latest first.
    const items = [...res.body.items].sort((a, b) => {
      const ap = a.status === 'pending' ? 0 : 1;
      const bp = b.status === 'pending' ? 0 : 1;
      if (ap !== bp) return ap - bp;
      return ap === 0 ? a.requestedAt.localeCompare(b.requestedAt) : (b.decision?.at ?? b.requestedAt).localeCompare(a.decision?.at ?? a.requestedAt);
    });
    return renderPage(request, reply, defaults, 'approvals', {
      ...base,
      requests: items,
      total: res.body.total,
      pending: items.filter((r) => r.status === 'pending').length,
      names: await customerNames(api, items.map((r) => r.customerId)),
    });
  });

  async function approvalPage(request: FastifyRequest, reply: FastifyReply, requestId: string, refused?: { error: ApiErrorBody; status: number; form: Record<string, string> }) {
    const api = consoleApi(app, request.consoleUser);
    const res = await api.get<ApprovalItem>(`/approval-requests/${encodeURIComponent(requestId)}`);
    if (!res.ok) return renderPage(request, reply, defaults, 'error', { title: 'Approval request not available', status: res.status, message: res.body.message }, res.status);
    const r = res.body;
    const n = encodeURIComponent(r.invoiceNumber);
    const [invoice, timeline, names] = await Promise.all([
      api.get<InvoiceSummary>(`/invoices/${n}`),
      api.get<Timeline>(`/invoices/${n}/timeline?order=desc&limit=50`),
      customerNames(api, [r.customerId]),
    ]);
    return renderPage(
      request,
      reply,
      defaults,
      'approval',
      {
        title: `${KIND[r.action] ?? words(r.action)} ${r.requestId}`,
        r,
        kindLabel: KIND[r.action] ?? words(r.action),
        statusLabel: STATUS,
        customerName: names[r.customerId] ?? r.customerId,
        details: detailLines(r.details),
        effect: r.effect === null || r.effect === undefined ? null : JSON.stringify(r.effect, null, 2),
        invoice: invoice.ok ? invoice.body : null,
        timeline: timeline.ok ? timeline.body.items : null,
        words,
        form: refused?.form ?? {},
        key: refused?.form._key ?? formKey(),
        ...(refused ? { error: refused.error } : {}),
      },
      refused?.status ?? 200,
    );
  }

  app.get('/app/approvals/:requestId', async (request: FastifyRequest<{ Params: { requestId: string } }>, reply) => approvalPage(request, reply, request.params.requestId));

  app.post('/app/approvals/:requestId/decide', async (request: FastifyRequest<{ Params: { requestId: string } }>, reply) => {
    const { requestId } = request.params;
    const raw = (request.body ?? {}) as Record<string, unknown>;
    const echo = typedValues(raw);
    const parsed = decisionForm.safeParse(raw);
    if (!parsed.success) {
      const issues = validationIssues(parsed.error);
      return approvalPage(request, reply, requestId, { error: { error: 'invalid_form', message: 'The decision is not complete', issues }, status: 422, form: echo });
    }
    const api = consoleApi(app, request.consoleUser);
    const res = await api.send<{ status: string }>('POST', `/approval-requests/${encodeURIComponent(requestId)}/decision`, { decision: parsed.data.decision, note: parsed.data.note }, parsed.data._key ? { idempotencyKey: parsed.data._key } : {});
    if (!res.ok) return approvalPage(request, reply, requestId, { error: res.body, status: res.status === 400 ? 422 : res.status, form: echo });
    setNotice(reply, res.status === 202 ? PENDING_NOTICE : `Request ${requestId} ${STATUS[res.body.status]?.toLowerCase() ?? words(res.body.status)}`);
    return reply.redirect(`/app/approvals/${encodeURIComponent(requestId)}`, 303);
  });
};
