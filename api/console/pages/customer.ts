import type { FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { consoleApi, formKey, type ApiErrorBody, type ApiResult, type ConsoleApi } from '../api-client';
import { parseMoneyInput } from '../format';
import { renderPage, setNotice, temporalLink, type ConsoleDefaults } from '../render';
import type { ConsolePages } from './index';
import { DISPUTE_REASONS } from '../../../domain/disputes';
import { invoiceWorkflowId } from '../../../domain/ids';
import type { timelineSchema } from '../../routes/customers';

/**
 * The customer page (GET /app/customers/:customerId): everything a collector needs on a call, read through the
 * API (GET /customers/:id, /timeline, /promises, /invoices/:n for each enrolled open invoice), and the forms a
 * call ends with, each POSTing to its own /app route that calls the API and redirects back (or re-renders the
 * page with the API's issues beside the form's fields).
 */

interface Contact {
  contactId: string;
  name: string;
  email: string | null;
  phone: string | null;
  role: string | null;
  preferredChannel: string;
  doNotContact: boolean;
  isPrimary: boolean;
  needsUpdate: boolean;
  needsUpdateReason: string | null;
}
interface OpenInvoice {
  invoiceNumber: string;
  currency: string;
  amountMinor: number;
  openAmountMinor: number;
  issueDate: string;
  dueDate: string;
  daysPastDue: number;
  bucket: string;
  enrolled: boolean;
  stage: string | null;
}
interface CustomerView {
  asOf: string;
  reportingCurrency: string;
  customer: {
    customerId: string;
    name: string;
    email: string;
    segment: string;
    country: string | null;
    region: string | null;
    timeZone: string;
    locale: string;
    doNotContact: boolean;
    creditHold: boolean;
    paused: boolean;
    pausedUntil: string | null;
    pauseReason: string | null;
    cadenceOverride: string | null;
  };
  collector: { userId: string; name: string | null } | null;
  contacts: Contact[];
  openInvoices: OpenInvoice[];
  totals: { openCount: number; openAmountReportingMinor: number; byCurrency: { currency: string; count: number; openAmountMinor: number }[] };
  paymentPlans: { planId: string; currency: string; totalMinor: number; maxMissed: number; createdBy: string; createdAt: string }[];
  disputes: { disputeId: string; invoiceNumber: string; disputedAmountMinor: number; currency: string; reasonCode: string; status: string; ownerTeam: string; openedAt: string; deadlineDate: string }[];
  nextStep: { invoiceNumber: string; stepId: string; action: string | null; at: string } | null;
  openTasks: { taskId: number; invoiceNumber: string; collectorId: string | null; dueAt: string; kind: string; note: string; priorityScore: number }[];
}
/** An item of GET /invoices (api/schemas.ts invoiceListSchema). */
interface ListedInvoice {
  number: string;
  stage: string;
  nextStep: { stepId: string; action: string; at: string } | null;
  pausedUntil: string | null;
  promiseDate: string | null;
}
interface PromiseItem {
  promiseId: string;
  invoiceNumber: string;
  planId: string | null;
  installmentNo: number | null;
  amountMinor: number;
  currency: string;
  promisedDate: string;
  madeBy: string;
  recordedBy: string;
  status: string;
  paidMinor: number | null;
}
type TimelineItem = z.infer<typeof timelineSchema>['items'][number];

/** The call outcomes a collector picks from (api/routes/worklist.ts callOutcomeSchema). */
export const OUTCOMES: { code: string; label: string }[] = [
  { code: 'promise_to_pay', label: 'Promise to pay (amount, date, who)' },
  { code: 'will_pay', label: 'Will pay, no commitment' },
  { code: 'callback_requested', label: 'Callback requested (date, time)' },
  { code: 'dispute', label: 'Dispute (reason and note)' },
  { code: 'no_answer', label: 'No answer' },
  { code: 'voicemail', label: 'Voicemail' },
  { code: 'refused', label: 'Refused to pay' },
  { code: 'request_copy', label: 'Wants a copy of the invoice' },
  { code: 'wrong_contact', label: 'Wrong contact' },
];

type Values = Record<string, string | string[] | undefined>;
type FormName = 'outcome' | 'promise' | 'plan' | 'dispute' | 'note' | 'callback' | 'pause' | 'resume';

const enc = encodeURIComponent;
const dateField = z.string().trim().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');

/** A form's own refusal (before the API is asked), in the API's error shape so the page shows it the same way. */
function formError(form: FormName, issues: { field: string; message: string }[]): ApiErrorBody {
  return {
    error: 'validation_failed',
    message: issues.length === 1 ? `Check the form: ${issues[0]!.message}` : 'Check the form',
    issues: issues.map((i) => ({ path: `${form}.${i.field}`, code: 'invalid', message: i.message })),
  };
}

/** The API's refusal with its issue paths ("body.invoices.0.amountMinor") renamed to the form's fields ("promise.amount"). */
function refusalFor(form: FormName, body: ApiErrorBody, fields: Record<string, string>): ApiErrorBody {
  if (!body.issues) return body;
  return {
    ...body,
    issues: body.issues.map((i) => {
      const path = i.path.replace(/^body\.?/, '');
      const field = fields[path] ?? Object.entries(fields).find(([p]) => path.startsWith(`${p}.`))?.[1];
      return field ? { ...i, path: `${form}.${field}` } : i;
    }),
  };
}

/** The first value of a urlencoded field (a repeated field arrives as an array). */
const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
const many = (v: string | string[] | undefined): string[] => (Array.isArray(v) ? v : v ? [v] : []);

type Loaded = { ok: true; data: Record<string, unknown>; view: CustomerView } | { ok: false; res: Extract<ApiResult<unknown>, { ok: false }> };

async function load(api: ConsoleApi, defaults: ConsoleDefaults, tenantId: string, customerId: string): Promise<Loaded> {
  const res = await api.get<CustomerView>(`/customers/${enc(customerId)}`);
  if (!res.ok) return { ok: false, res };
  const view = res.body;
  // One list call for every open invoice's next step and pause (not one GET /invoices/:n each: 100 invoices were
  // 100 calls and half a second); the workflow id is the invoice's by construction (domain/ids.ts).
  const [timeline, promises, list] = await Promise.all([
    api.get<{ total: number; items: TimelineItem[] }>(`/customers/${enc(customerId)}/timeline?order=desc&limit=100`),
    api.get<{ total: number; items: PromiseItem[] }>(`/promises?customerId=${enc(customerId)}&limit=100`),
    view.openInvoices.some((i) => i.enrolled) ? api.get<{ items: ListedInvoice[] }>(`/invoices?customerId=${enc(customerId)}&limit=500`) : undefined,
  ]);
  const byNumber = new Map<string, ListedInvoice>(list?.ok ? list.body.items.map((i) => [i.number, i]) : []);
  const invoices = view.openInvoices.map((i) => {
    const v = i.enrolled ? byNumber.get(i.invoiceNumber) : undefined;
    return { ...i, nextStep: v?.nextStep ?? null, pausedUntil: v?.pausedUntil ?? null, workflowUrl: v ? temporalLink(defaults, invoiceWorkflowId(tenantId, i.invoiceNumber)) : undefined };
  });
  const tz = view.customer.timeZone;
  const today = DateTime.now().setZone(tz);
  const first = view.openInvoices.find((i) => i.enrolled) ?? view.openInvoices[0];
  return {
    ok: true,
    view,
    data: {
      title: view.customer.name,
      c: view.customer,
      collector: view.collector,
      contacts: view.contacts,
      invoices,
      totals: view.totals,
      reportingCurrency: view.reportingCurrency,
      promises: promises.ok ? promises.body.items.filter((p) => p.planId === null) : [],
      installments: promises.ok ? promises.body.items.filter((p) => p.planId !== null) : [],
      plans: view.paymentPlans,
      disputes: view.disputes,
      nextStep: view.nextStep,
      tasks: view.openTasks,
      timeline: timeline.ok ? timeline.body.items : [],
      timelineTotal: timeline.ok ? timeline.body.total : 0,
      outcomes: OUTCOMES,
      reasons: DISPUTE_REASONS,
      defaults: {
        invoiceNumber: first?.invoiceNumber ?? '',
        amount: first ? first : undefined,
        promisedDate: today.plus({ days: 7 }).toISODate(),
        planFirstDate: today.plus({ days: 14 }).toISODate(),
        callbackDate: today.plus({ days: 1 }).toISODate(),
        callbackTime: '10:00',
        today: today.toISODate(),
      },
      key: formKey(),
    },
  };
}

type CustomerRequest = FastifyRequest<{ Params: { customerId: string }; Body: Values }>;
/** What a form's POST asks of the API (or its own refusal); `fields` renames the API's issue paths to the form's fields. */
type Built = { error: ApiErrorBody } | { method: 'POST'; url: string; body: unknown; fields: Record<string, string>; notice: (body: unknown) => string };

export const customerPages: ConsolePages = async (app, { defaults }) => {
  /** The page, or the refusal: another collector's customer is the API's 403, shown without any of its data. */
  async function show(request: CustomerRequest, reply: FastifyReply, extra: { form?: FormName; values?: Values; error?: ApiErrorBody } = {}, status = 200) {
    const api = consoleApi(app, request.consoleUser);
    const loaded = await load(api, defaults, request.consoleUser.tenantId, request.params.customerId);
    if (!loaded.ok) {
      const { res } = loaded;
      if (res.status === 403)
        return renderPage(request, reply, defaults, 'error', {
          title: 'Not in your portfolio',
          status: 403,
          message: `Customer ${request.params.customerId} is not in your portfolio: ${res.body.message}`,
        }, 403);
      if (res.status === 404) return renderPage(request, reply, defaults, 'error', { title: 'Not found', status: 404, message: `No customer ${request.params.customerId}` }, 404);
      return renderPage(request, reply, defaults, 'error', { title: 'Error', status: res.status, message: res.body.message }, res.status);
    }
    return renderPage(request, reply, defaults, 'customer', { ...loaded.data, form: extra.form, values: extra.values ?? {}, error: extra.error, title: String(loaded.data.title) }, status);
  }

  app.get('/app/customers/:customerId', async (request: CustomerRequest, reply) => show(request, reply));

  /**
   * One form's POST: `build` turns the urlencoded fields into the API call (or a form error), the API answers;
   * success redirects back with a notice (Post/Redirect/Get), a refusal re-renders the page with the form open.
   */
  function post(
    form: FormName,
    build: (values: Values, view: CustomerView, request: CustomerRequest) => Built,
  ) {
    app.post(`/app/customers/:customerId/${form}`, async (request: CustomerRequest, reply) => {
      const values: Values = (request.body && typeof request.body === 'object' ? request.body : {}) as Values;
      const api = consoleApi(app, request.consoleUser);
      const current = await api.get<CustomerView>(`/customers/${enc(request.params.customerId)}`);
      if (!current.ok) return show(request, reply);
      const call = build(values, current.body, request);
      if ('error' in call) return show(request, reply, { form, values, error: call.error }, 422);
      const key = one(values._key);
      const res = await api.send(call.method, call.url, call.body, key ? { idempotencyKey: `${form}-${key}` } : {});
      if (!res.ok) return show(request, reply, { form, values, error: refusalFor(form, res.body, call.fields) }, res.status);
      setNotice(reply, call.notice(res.body));
      return reply.redirect(`/app/customers/${enc(request.params.customerId)}`, 303);
    });
  }

  const invoiceOf = (view: CustomerView, number: string) => view.openInvoices.find((i) => i.invoiceNumber === number);
  const amountOf = (raw: string, currency: string | undefined, field: string, issues: { field: string; message: string }[], optional = false): number | undefined => {
    if (raw.trim() === '' && optional) return undefined;
    const minor = currency ? parseMoneyInput(raw, currency) : undefined;
    if (minor === undefined || minor <= 0) issues.push({ field, message: `"${raw}" is not an amount: type it like 1234.50 or 1.234,50` });
    return minor;
  };

  post('promise', (v, view) => {
    const issues: { field: string; message: string }[] = [];
    const invoice = invoiceOf(view, one(v.invoiceNumber));
    if (!invoice) issues.push({ field: 'invoiceNumber', message: 'pick one of the open invoices' });
    const amountMinor = amountOf(one(v.amount), invoice?.currency, 'amount', issues);
    if (issues.length) return { error: formError('promise', issues) };
    return {
      method: 'POST' as const,
      url: '/promises',
      body: { customerId: view.customer.customerId, madeBy: one(v.madeBy).trim(), promisedDate: one(v.promisedDate).trim(), invoices: [{ number: invoice!.invoiceNumber, amountMinor }] },
      fields: { madeBy: 'madeBy', promisedDate: 'promisedDate', 'invoices.0.amountMinor': 'amount', 'invoices.0.number': 'invoiceNumber', invoices: 'invoiceNumber' },
      notice: () => `Promise recorded: ${one(v.amount)} ${invoice!.currency} on ${invoice!.invoiceNumber} by ${one(v.promisedDate)}`,
    };
  });

  post('outcome', (v, view) => {
    const issues: { field: string; message: string }[] = [];
    const task = view.openTasks.find((t) => String(t.taskId) === one(v.taskId));
    if (!task) issues.push({ field: 'taskId', message: 'pick one of the open call tasks' });
    const code = one(v.code);
    const invoice = task ? invoiceOf(view, task.invoiceNumber) : undefined;
    let outcome: Record<string, unknown> = { code };
    if (code === 'promise_to_pay') {
      const amountMinor = amountOf(one(v.amount), invoice?.currency ?? 'EUR', 'amount', issues);
      outcome = { code, amountMinor, promisedDate: one(v.promisedDate).trim(), madeBy: one(v.madeBy).trim() };
    } else if (code === 'dispute') outcome = { code, reasonCode: one(v.reasonCode) };
    else if (code === 'callback_requested') outcome = { code, callbackDate: one(v.callbackDate).trim(), callbackTime: one(v.callbackTime).trim() };
    else if (!OUTCOMES.some((o) => o.code === code)) issues.push({ field: 'code', message: 'pick an outcome' });
    if (issues.length) return { error: formError('outcome', issues) };
    return {
      method: 'POST' as const,
      url: `/tasks/${task!.taskId}/outcome`,
      body: { outcome, note: one(v.note).trim() },
      fields: { 'outcome.amountMinor': 'amount', 'outcome.promisedDate': 'promisedDate', 'outcome.madeBy': 'madeBy', 'outcome.reasonCode': 'reasonCode', 'outcome.callbackDate': 'callbackDate', 'outcome.callbackTime': 'callbackTime', 'outcome.code': 'code', note: 'note' },
      notice: (b) => {
        const wf = (b as { workflow?: { stage?: string } }).workflow;
        return `Call outcome recorded on ${task!.invoiceNumber}: ${code.replace(/_/g, ' ')}${wf?.stage ? ` (now ${wf.stage})` : ''}`;
      },
    };
  });

  post('plan', (v, view) => {
    const issues: { field: string; message: string }[] = [];
    const chosen = many(v.invoiceNumbers).map((n) => invoiceOf(view, n)).filter((i): i is OpenInvoice => i !== undefined);
    if (chosen.length === 0) issues.push({ field: 'invoiceNumbers', message: 'tick at least one open invoice' });
    const currencies = new Set(chosen.map((i) => i.currency));
    if (currencies.size > 1) issues.push({ field: 'invoiceNumbers', message: 'a plan is in one currency: tick invoices of one currency' });
    const count = Number(one(v.count));
    if (!Number.isInteger(count) || count < 2 || count > 36) issues.push({ field: 'count', message: 'between 2 and 36 installments' });
    const every = Number(one(v.everyDays));
    if (!Number.isInteger(every) || every < 1 || every > 366) issues.push({ field: 'everyDays', message: 'days between installments: 1 to 366' });
    const first = DateTime.fromISO(one(v.firstDate).trim());
    if (!first.isValid) issues.push({ field: 'firstDate', message: 'a date YYYY-MM-DD' });
    if (issues.length) return { error: formError('plan', issues) };
    const total = chosen.reduce((s, i) => s + i.openAmountMinor, 0);
    const base = Math.floor(total / count);
    const installments = Array.from({ length: count }, (_, n) => ({
      dueDate: first.plus({ days: n * every }).toISODate()!,
      amountMinor: n === count - 1 ? total - base * (count - 1) : base,
    }));
    return {
      method: 'POST' as const,
      url: '/payment-plans',
      body: { customerId: view.customer.customerId, madeBy: one(v.madeBy).trim(), invoiceNumbers: chosen.map((i) => i.invoiceNumber), installments },
      fields: { madeBy: 'madeBy', invoiceNumbers: 'invoiceNumbers', installments: 'count' },
      notice: () => `Payment plan agreed: ${count} installments from ${first.toISODate()}`,
    };
  });

  post('dispute', (v, view) => {
    const issues: { field: string; message: string }[] = [];
    const invoice = invoiceOf(view, one(v.invoiceNumber));
    if (!invoice) issues.push({ field: 'invoiceNumber', message: 'pick one of the open invoices' });
    const amountMinor = amountOf(one(v.amount), invoice?.currency, 'amount', issues, true);
    if (issues.length) return { error: formError('dispute', issues) };
    return {
      method: 'POST' as const,
      url: '/disputes',
      body: { invoiceNumber: invoice!.invoiceNumber, reasonCode: one(v.reasonCode), note: one(v.note).trim(), ...(amountMinor !== undefined ? { disputedAmountMinor: amountMinor } : {}) },
      fields: { invoiceNumber: 'invoiceNumber', reasonCode: 'reasonCode', note: 'note', disputedAmountMinor: 'amount' },
      notice: (b) => {
        const r = b as { disputeId?: string; route?: { ownerTeamName?: string; deadlineDate?: string } };
        return `Dispute ${r.disputeId ?? ''} opened on ${invoice!.invoiceNumber}${r.route?.ownerTeamName ? `: ${r.route.ownerTeamName} owns it until ${r.route.deadlineDate ?? ''}` : ''}`;
      },
    };
  });

  post('note', (v, view) => {
    const invoiceNumber = one(v.invoiceNumber);
    if (invoiceNumber && !invoiceOf(view, invoiceNumber)) return { error: formError('note', [{ field: 'invoiceNumber', message: 'pick one of the open invoices or none' }]) };
    return {
      method: 'POST' as const,
      url: `/customers/${enc(view.customer.customerId)}/notes`,
      body: { note: one(v.note).trim(), ...(invoiceNumber ? { invoiceNumber } : {}) },
      fields: { note: 'note', invoiceNumber: 'invoiceNumber' },
      notice: () => 'Note added',
    };
  });

  post('callback', (v, view): Built => {
    const issues: { field: string; message: string }[] = [];
    const invoice = invoiceOf(view, one(v.invoiceNumber));
    if (!invoice) issues.push({ field: 'invoiceNumber', message: 'pick one of the open invoices' });
    const date = one(v.date).trim();
    const time = one(v.time).trim();
    const at = DateTime.fromISO(`${date}T${time}`, { zone: view.customer.timeZone });
    if (!dateField.safeParse(date).success || !at.isValid) issues.push({ field: 'date', message: 'a date YYYY-MM-DD and a time HH:mm' });
    if (issues.length) return { error: formError('callback', issues) };
    const note = one(v.note).trim();
    // An open call task on the invoice: the call ends with "callback requested" (its follow-up is the callback);
    // none: a new call task at that time.
    const task = view.openTasks.find((t) => t.invoiceNumber === invoice!.invoiceNumber);
    if (task)
      return {
        method: 'POST' as const,
        url: `/tasks/${task.taskId}/outcome`,
        body: { outcome: { code: 'callback_requested', callbackDate: date, callbackTime: time }, note },
        fields: { 'outcome.callbackDate': 'date', 'outcome.callbackTime': 'time', note: 'note' },
        notice: () => `Callback set for ${date} ${time} (${view.customer.timeZone})`,
      };
    return {
      method: 'POST' as const,
      url: '/tasks',
      body: { invoiceNumber: invoice!.invoiceNumber, dueAt: at.toISO()!, note: note || 'Callback' },
      fields: { dueAt: 'date', note: 'note', invoiceNumber: 'invoiceNumber' },
      notice: () => `Callback set for ${date} ${time} (${view.customer.timeZone})`,
    };
  });

  post('pause', (v, view) => {
    const until = one(v.until).trim();
    let untilAt: string | null = null;
    if (until !== '') {
      const d = DateTime.fromISO(until, { zone: view.customer.timeZone });
      if (!dateField.safeParse(until).success || !d.isValid) return { error: formError('pause', [{ field: 'until', message: 'a date YYYY-MM-DD, or empty until resumed' }]) };
      untilAt = d.startOf('day').toISO();
    }
    return {
      method: 'POST' as const,
      url: `/customers/${enc(view.customer.customerId)}/pause`,
      body: { reason: one(v.reason).trim(), until: untilAt },
      fields: { reason: 'reason', until: 'until' },
      notice: () => `Dunning paused${until ? ` until ${until}` : ' until resumed'}`,
    };
  });

  post('resume', (v, view) => ({
    method: 'POST' as const,
    url: `/customers/${enc(view.customer.customerId)}/resume`,
    body: { note: one(v.note).trim() },
    fields: { note: 'note' },
    notice: () => 'Dunning resumed',
  }));
};
