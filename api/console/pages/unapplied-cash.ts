import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { consoleApi, type ApiErrorBody } from '../api-client';
import { parseMoneyInput } from '../format';
import { renderPage, setNotice } from '../render';
import type { ConsolePages } from './index';
import type { cashItemSchema } from '../../routes/unapplied-cash';

/**
 * The unapplied-cash queue (GET /unapplied-cash): payments without an open invoice, oldest first, each with its
 * matching suggestions. A suggestion is applied as it was shown (its allocations travel in the form); another
 * invoice can be typed; what cannot be applied is resolved as a refund or on account. Collectors see their
 * portfolio's payers, team leads and above every item (the API decides).
 */

interface Allocation {
  invoiceNumber: string;
  amountMinor: number;
}
/** An item of the queue as GET /unapplied-cash gives it. */
type CashItem = z.infer<typeof cashItemSchema>;
interface Queue {
  total: number;
  totals: { currency: string; count: number; unappliedMinor: number; oldestAgeDays: number }[];
  oldestAgeDays: number | null;
  items: CashItem[];
}
interface Application {
  appliedMinor: number;
  invoices: { invoiceNumber: string; appliedMinor: number; status: string }[];
  unappliedMinor: number;
  replayed: boolean;
}

const STATUSES = ['open', 'applied', 'refund', 'on_account'] as const;
const listQuery = z.object({ status: z.enum(STATUSES).optional().catch(undefined) });
/** A suggestion's allocations as the form carries them: "INV-1:12345;INV-2:500". */
const allocationsField = z
  .string()
  .regex(/^[^:;]{1,64}:\d{1,15}(;[^:;]{1,64}:\d{1,15}){0,49}$/)
  .transform((s) => s.split(';').map((p) => ({ invoiceNumber: p.slice(0, p.lastIndexOf(':')), amountMinor: Number(p.slice(p.lastIndexOf(':') + 1)) })));
const applyForm = z.object({ allocations: z.string().optional(), invoiceNumber: z.string().trim().optional(), amount: z.string().optional() });
const resolveForm = z.object({ as: z.enum(['refund', 'on_account']), note: z.string().trim() });

type Body = Record<string, string | string[] | undefined>;
type CashRequest = FastifyRequest<{ Params: { id: string }; Querystring: { status?: string }; Body: Body }>;

export const unappliedCashPages: ConsolePages = async (app, { defaults }) => {
  async function show(request: CashRequest, reply: FastifyReply, extra: { itemId?: number; values?: Body; error?: ApiErrorBody } = {}, status = 200) {
    const api = consoleApi(app, request.consoleUser);
    const q = listQuery.parse(request.query ?? {});
    const res = await api.get<Queue>(`/unapplied-cash?limit=200${q.status ? `&status=${q.status}` : '&status=open'}`);
    const base = { title: 'Unapplied cash', statuses: STATUSES, status: q.status ?? 'open', itemId: extra.itemId, values: extra.values ?? {} };
    if (!res.ok) return renderPage(request, reply, defaults, 'unapplied-cash', { ...base, items: [], totals: [], total: 0, error: res.body }, res.status);
    return renderPage(
      request,
      reply,
      defaults,
      'unapplied-cash',
      {
        ...base,
        items: res.body.items.map((i) => ({ ...i, suggestions: i.suggestions.map((s) => ({ ...s, field: s.allocations.map((a) => `${a.invoiceNumber}:${a.amountMinor}`).join(';') })) })),
        totals: res.body.totals,
        total: res.body.total,
        error: extra.error,
      },
      status,
    );
  }

  app.get('/app/unapplied-cash', async (request: CashRequest, reply) => show(request, reply));

  /** The form's issues under the item's own field names ("cash-7.amount"), so they show beside that item's fields. */
  const itemError = (id: number, body: ApiErrorBody, fields: Record<string, string>): ApiErrorBody => ({
    ...body,
    issues: (body.issues ?? []).map((i) => {
      const path = i.path.replace(/^body\.?/, '').replace(/\.\d+\./, '.');
      const field = fields[path];
      return field ? { ...i, path: `cash-${id}.${field}` } : i;
    }),
  });

  app.post('/app/unapplied-cash/:id/apply', async (request: CashRequest, reply) => {
    const id = Number(request.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) return reply.callNotFound();
    const api = consoleApi(app, request.consoleUser);
    const form = applyForm.safeParse(request.body ?? {});
    const values = (request.body ?? {}) as Body;
    const refuse = (message: string, field: string) =>
      show(request, reply, { itemId: id, values, error: { error: 'validation_failed', message, issues: [{ path: `cash-${id}.${field}`, code: 'invalid', message }] } }, 422);
    if (!form.success) return refuse('Check the form', 'amount');
    let allocations: Allocation[];
    if (form.data.allocations) {
      const parsed = allocationsField.safeParse(form.data.allocations);
      if (!parsed.success) return refuse('That suggestion cannot be read: reload the page', 'amount');
      allocations = parsed.data;
    } else {
      // A typed invoice: the amount in the payment's currency.
      const item = await api.get<CashItem>(`/unapplied-cash/${id}`);
      if (!item.ok) return show(request, reply, { error: item.body }, item.status);
      const invoiceNumber = form.data.invoiceNumber ?? '';
      if (invoiceNumber === '') return refuse('Type the invoice to apply the payment to', 'invoiceNumber');
      const raw = form.data.amount ?? '';
      const amountMinor = raw.trim() === '' ? item.body.unappliedMinor : parseMoneyInput(raw, item.body.currency);
      if (amountMinor === undefined || amountMinor <= 0) return refuse(`"${raw}" is not an amount: type it like 1234.50 or 1.234,50`, 'amount');
      allocations = [{ invoiceNumber, amountMinor }];
    }
    const res = await api.send<Application>('POST', `/unapplied-cash/${id}/apply`, { allocations });
    if (!res.ok) return show(request, reply, { itemId: id, values, error: itemError(id, res.body, { 'allocations.invoiceNumber': 'invoiceNumber', 'allocations.amountMinor': 'amount', allocations: 'amount' }) }, res.status);
    const what = res.body.invoices.map((i) => `${i.invoiceNumber} (${i.status})`).join(', ');
    setNotice(reply, `${res.body.replayed ? 'Already applied' : 'Applied'} payment ${id} to ${what}`);
    return reply.redirect('/app/unapplied-cash', 303);
  });

  app.post('/app/unapplied-cash/:id/resolve', async (request: CashRequest, reply) => {
    const id = Number(request.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) return reply.callNotFound();
    const values = (request.body ?? {}) as Body;
    const form = resolveForm.safeParse(values);
    if (!form.success)
      return show(request, reply, { itemId: id, values, error: { error: 'validation_failed', message: 'Pick refund or on account', issues: [{ path: `cash-${id}.as`, code: 'invalid', message: 'refund or on account' }] } }, 422);
    const res = await consoleApi(app, request.consoleUser).send('POST', `/unapplied-cash/${id}/resolve`, form.data);
    if (!res.ok) return show(request, reply, { itemId: id, values, error: itemError(id, res.body, { note: 'note', as: 'as' }) }, res.status);
    setNotice(reply, `Payment ${id} resolved as ${form.data.as === 'refund' ? 'a refund' : 'on account'}`);
    return reply.redirect('/app/unapplied-cash', 303);
  });
};
