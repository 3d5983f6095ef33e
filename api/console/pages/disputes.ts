import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { consoleApi, formKey, type ApiErrorBody, type ConsoleApi, type ValidationIssueBody } from '../api-client';
import { parseMoneyInput } from '../format';
import { formIssue as issue, renderPage, setNotice, typedValues } from '../render';
import { validationIssues } from '../../../config/validation-issues';
import type { ConsolePages } from './index';
import { ROOT_CAUSES } from '../../../domain/disputes';
import type { timelineSchema } from '../../routes/customers';

/** A dispute as GET /disputes and GET /disputes/:id answer it (api/routes/disputes.ts). */
export interface DisputeItem {
  disputeId: string;
  invoiceNumber: string;
  customerId: string;
  disputedAmountMinor: number;
  currency: string;
  reasonCode: string;
  evidenceNote: string;
  source: string;
  openedBy: string;
  openedAt: string;
  ownerTeam: string;
  owner: string | null;
  lead: string | null;
  deadlineDate: string;
  status: string;
  ageDays: number;
  overdue: boolean;
  remindedAt: string | null;
  escalatedAt: string | null;
  resolution: {
    creditAmountMinor: number | null;
    creditMemoId: string | null;
    rebillInvoiceNumber: string | null;
    rootCause: string | null;
    note: string | null;
    resolvedBy: string | null;
    resolvedAt: string | null;
  } | null;
}
interface DisputeList {
  total: number;
  overdue: number;
  items: DisputeItem[];
}
type TimelineEntry = z.infer<typeof timelineSchema>['items'][number];
interface Timeline {
  total: number;
  items: TimelineEntry[];
}
/** The invoice's dunning state (GET /invoices/:n), as much of it as the pages show. */
export interface InvoiceSummary {
  workflowId: string;
  invoice: { number: string; customerId: string; currency: string; amountMinor: number; openAmountMinor: number; issueDate: string; dueDate: string };
  stage: string;
  disputedAmountMinor: number;
}
/** What a 202 from a workflow update says (api/schemas.ts pendingUpdateSchema). */
interface PendingUpdate {
  status: 'pending';
  message: string;
}

const OPEN = ['open', 'escalated'];
export const PENDING_NOTICE = 'Pending: the workflow applies it when it runs';

const STATUS_LABEL: Record<string, string> = {
  open: 'Open',
  escalated: 'Escalated',
  resolved_valid: 'Resolved: valid',
  resolved_invalid: 'Resolved: invalid',
  withdrawn: 'Withdrawn',
};
export const words = (s: string) => s.replace(/_/g, ' ');

/** Customer names for the ids, where the user may read the customer (else the id stands). */
export async function customerNames(api: ConsoleApi, ids: string[]): Promise<Record<string, string>> {
  const unique = [...new Set(ids)].slice(0, 50);
  const names: Record<string, string> = {};
  await Promise.all(
    unique.map(async (id) => {
      const res = await api.get<{ customer: { name: string } }>(`/customers/${encodeURIComponent(id)}`);
      if (res.ok) names[id] = res.body.customer.name;
    }),
  );
  return names;
}

/** The owner teams of the resolution matrix in force (id → name); none when the user may not read it. */
async function teamsOf(api: ConsoleApi): Promise<Record<string, string>> {
  const res = await api.get<{ document: { teams: Record<string, { name: string }> } }>('/config/resolution-matrix');
  if (!res.ok) return {};
  return Object.fromEntries(Object.entries(res.body.document.teams).map(([id, t]) => [id, t.name]));
}

const queueQuery = z.object({
  status: z.enum(['open', 'resolved', 'all']).catch('all'),
  ownerTeam: z.string().regex(/^[a-z0-9_-]{1,41}$/i).optional().catch(undefined),
});

/** The resolve form as the browser posts it: strings, amounts in major units. */
const resolveForm = z.object({
  _key: z.string().max(100).optional(),
  resolution: z.enum(['valid', 'invalid'], { message: 'choose valid or invalid' }),
  rootCause: z.string().max(60).default(''),
  creditAmount: z.string().max(40).default(''),
  rebillAmount: z.string().max(40).default(''),
  rebillDueDate: z.string().max(20).default(''),
  note: z.string().max(4000).default(''),
});
type ResolveForm = z.infer<typeof resolveForm>;


/** The form's fields as the API's body, or the issues by the API's field names (so they show beside the fields). */
function resolutionBody(form: ResolveForm, currency: string): { body: Record<string, unknown> } | { issues: ValidationIssueBody[] } {
  const issues: ValidationIssueBody[] = [];
  if (form.resolution === 'invalid') return { body: { resolution: 'invalid', rootCause: form.rootCause, note: form.note } };
  const credit = parseMoneyInput(form.creditAmount, currency);
  if (credit === undefined) issues.push(issue('creditAmountMinor', `the credit: an amount in ${currency}, e.g. 150.00`));
  let rebill: { amountMinor: number; dueDate: string } | undefined;
  if (form.rebillAmount.trim() !== '' || form.rebillDueDate.trim() !== '') {
    const amount = parseMoneyInput(form.rebillAmount, currency);
    if (amount === undefined) issues.push(issue('rebill.amountMinor', `the rebill: an amount in ${currency}`));
    if (!/^\d{4}-\d{2}-\d{2}$/.test(form.rebillDueDate)) issues.push(issue('rebill.dueDate', 'the rebill needs a due date'));
    if (amount !== undefined) rebill = { amountMinor: amount, dueDate: form.rebillDueDate };
  }
  if (issues.length) return { issues };
  return { body: { resolution: 'valid', creditAmountMinor: credit, ...(rebill ? { rebill } : {}), rootCause: form.rootCause, note: form.note } };
}

/**
 * The owner teams' dispute queue (GET /disputes: a team member sees their team's, AR staff theirs), one dispute
 * with its evidence and the invoice's history, and the resolve form (POST /disputes/:id/resolution).
 */
export const disputePages: ConsolePages = async (app, { defaults }) => {
  app.get('/app/disputes', async (request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>, reply) => {
    const api = consoleApi(app, request.consoleUser);
    const query = queueQuery.parse(request.query);
    const q = new URLSearchParams({ status: query.status, limit: '500' });
    if (query.ownerTeam) q.set('ownerTeam', query.ownerTeam);
    const [res, teams] = await Promise.all([api.get<DisputeList>(`/disputes?${q}`), teamsOf(api)]);
    const base = { title: 'Disputes', query, teams, disputes: [] as unknown[], total: 0, overdue: 0, names: {}, statusLabel: STATUS_LABEL, words };
    if (!res.ok) return renderPage(request, reply, defaults, 'disputes', { ...base, error: res.body }, res.status);
    // Open first (by deadline, as the API orders them), then the closed ones, latest resolved first.
    const items = [...res.body.items].sort((a, b) => {
      const ao = OPEN.includes(a.status) ? 0 : 1;
      const bo = OPEN.includes(b.status) ? 0 : 1;
      if (ao !== bo) return ao - bo;
      if (ao === 1) return (b.resolution?.resolvedAt ?? '').localeCompare(a.resolution?.resolvedAt ?? '');
      return 0;
    });
    for (const d of items) if (!(d.ownerTeam in teams)) teams[d.ownerTeam] = words(d.ownerTeam);
    return renderPage(request, reply, defaults, 'disputes', {
      ...base,
      disputes: items.map((d) => ({ ...d, open: OPEN.includes(d.status) })),
      total: res.body.total,
      overdue: res.body.overdue,
      names: await customerNames(api, items.map((d) => d.customerId)),
    });
  });

  /** The dispute page, fresh or with a refused form's values and issues. */
  async function disputePage(request: FastifyRequest, reply: FastifyReply, disputeId: string, refused?: { error: ApiErrorBody; status: number; form: Partial<ResolveForm> }) {
    const api = consoleApi(app, request.consoleUser);
    const res = await api.get<DisputeItem>(`/disputes/${encodeURIComponent(disputeId)}`);
    if (!res.ok) return renderPage(request, reply, defaults, 'error', { title: 'Dispute not available', status: res.status, message: res.body.message }, res.status);
    const d = res.body;
    const n = encodeURIComponent(d.invoiceNumber);
    const [invoice, timeline, names, teams] = await Promise.all([
      api.get<InvoiceSummary>(`/invoices/${n}`),
      api.get<Timeline>(`/invoices/${n}/timeline?order=desc&limit=50`),
      customerNames(api, [d.customerId]),
      teamsOf(api),
    ]);
    return renderPage(
      request,
      reply,
      defaults,
      'dispute',
      {
        title: `Dispute ${d.disputeId}`,
        d: { ...d, open: OPEN.includes(d.status) },
        customerName: names[d.customerId] ?? d.customerId,
        teamName: teams[d.ownerTeam] ?? words(d.ownerTeam),
        invoice: invoice.ok ? invoice.body : null,
        timeline: timeline.ok ? timeline.body.items : null,
        statusLabel: STATUS_LABEL,
        rootCauses: ROOT_CAUSES,
        words,
        form: refused?.form ?? {},
        key: refused?.form._key ?? formKey(),
        ...(refused ? { error: refused.error } : {}),
      },
      refused?.status ?? 200,
    );
  }

  app.get('/app/disputes/:disputeId', async (request: FastifyRequest<{ Params: { disputeId: string } }>, reply) => disputePage(request, reply, request.params.disputeId));

  app.post('/app/disputes/:disputeId/resolve', async (request: FastifyRequest<{ Params: { disputeId: string } }>, reply) => {
    const { disputeId } = request.params;
    const raw = (request.body ?? {}) as Record<string, unknown>;
    const parsed = resolveForm.safeParse(raw);
    const echo = typedValues(raw) as Partial<ResolveForm>;
    if (!parsed.success) {
      const issues = validationIssues(parsed.error);
      return disputePage(request, reply, disputeId, { error: { error: 'invalid_form', message: 'The resolution is not complete', issues }, status: 422, form: echo });
    }
    const api = consoleApi(app, request.consoleUser);
    const current = await api.get<DisputeItem>(`/disputes/${encodeURIComponent(disputeId)}`);
    if (!current.ok) return disputePage(request, reply, disputeId);
    const built = resolutionBody(parsed.data, current.body.currency);
    if ('issues' in built)
      return disputePage(request, reply, disputeId, { error: { error: 'invalid_form', message: 'The resolution is not complete', issues: built.issues }, status: 422, form: echo });
    const res = await api.send<PendingUpdate | { status: string }>('POST', `/disputes/${encodeURIComponent(disputeId)}/resolution`, built.body, parsed.data._key ? { idempotencyKey: parsed.data._key } : {});
    if (!res.ok) return disputePage(request, reply, disputeId, { error: res.body, status: res.status === 400 ? 422 : res.status, form: echo });
    setNotice(reply, res.status === 202 ? PENDING_NOTICE : `Dispute ${disputeId}: ${STATUS_LABEL[res.body.status] ?? words(res.body.status)}`);
    return reply.redirect(`/app/disputes/${encodeURIComponent(disputeId)}`, 303);
  });
};
