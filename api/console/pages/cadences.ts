import type { FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { consoleApi, formKey, type ApiErrorBody, type ConsoleApi, type ValidationIssueBody } from '../api-client';
import { parseMoneyInput } from '../format';
import { renderPage, setNotice, type ConsoleDefaults } from '../render';
import type { ConsolePages } from './index';
import type { CadenceVersionView } from '../../schemas';
import { SEGMENTS } from '../../../domain/cadence';
import { roleRank } from '../../../domain/roles';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';

/**
 * Cadences for AR managers: every cadence with its versions and the segments assigned to it; the editor (a
 * version's definition as JSON beside a table of its steps) validates, previews a sample invoice's timeline,
 * saves a new version, activates one, migrates running invoices and assigns segments, all through the API
 * (/cadences, /cadence-assignments). Plain forms: validate and preview re-render the editor with the user's
 * text as typed; the writes redirect (Post/Redirect/Get).
 */

interface CadenceSummary {
  cadenceId: string;
  name: string;
  latestVersion: number;
  latestStatus: 'draft' | 'active' | 'retired';
  activeVersion: number | null;
}
interface CadenceHistory {
  cadenceId: string;
  activeVersion: number | null;
  versions: CadenceVersionView[];
}
interface Assignment {
  segment: string;
  cadenceId: string;
}
interface PreviewStep {
  stepId: string;
  action: string;
  at: string;
  status: 'scheduled' | 'superseded' | 'skipped';
  reason?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Where a path is in the user's JSON text: jsonc-parser's tree knows the offset of every value (strict JSON: no
// comments, no trailing commas), so that an issue at "steps.2.action.template" reads "line 14" of what was typed.

type Located = { ok: true; value: unknown; tree: JsonNode } | { ok: false; offset: number; message: string };

export function locateJson(text: string): Located {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  // CommaExpected → "comma expected"
  if (first || !tree) return { ok: false, offset: first?.offset ?? 0, message: first ? printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : 'no JSON in the text' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown, tree };
  } catch (err) {
    return { ok: false, offset: 0, message: (err as Error).message };
  }
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** The line of an issue's path in the text: the path's own (a property: its name's), else its nearest ancestor's (a missing field: its object's). */
export function lineOfPath(text: string, tree: JsonNode, path: string): number {
  const parts = path === '' ? [] : path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  for (let n = parts.length; n >= 0; n--) {
    const node = findNodeAtLocation(tree, parts.slice(0, n));
    if (node) return lineColumn(text, node.parent?.type === 'property' ? node.parent.offset : node.offset).line;
  }
  return 1;
}

// ---------------------------------------------------------------------------------------------------------------

/** A step at a glance: when, what, which template (or note), through which channel. */
interface StepRow {
  n: number;
  id: string;
  when: string;
  action: string;
  detail: string;
  channel: string;
}

const CHANNEL: Record<string, string> = {
  email: 'email to the customer',
  statement: 'email to the customer (statement)',
  call_task: 'call task for the collector',
  escalate: 'internal notice',
  credit_hold: 'ERP (credit hold)',
  request_write_off: 'approval request',
  handoff: 'handoff',
  webhook: 'webhook',
};
const UNIT: Record<string, string> = { days: 'day', business_days: 'business day', hours: 'hour', minutes: 'minute', seconds: 'second' };

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The steps of a definition (saved, or as typed when it parses), read defensively: the text may be half-edited. */
function stepRows(definition: unknown): StepRow[] {
  const steps = rec(definition).steps;
  if (!Array.isArray(steps)) return [];
  return steps.map((s, i) => {
    const step = rec(s);
    const offset = rec(step.offset);
    const action = rec(step.action);
    const amount = typeof offset.amount === 'number' ? offset.amount : NaN;
    const unit = UNIT[str(offset.unit)] ?? str(offset.unit);
    const anchor = str(step.anchor) || 'due_date';
    const span = Number.isNaN(amount) ? '?' : `${Math.abs(amount)} ${unit}${Math.abs(amount) === 1 ? '' : 's'}`;
    const when =
      anchor === 'previous_step'
        ? `${span} after the previous step`
        : amount === 0
          ? 'on the due date'
          : `${span} ${amount < 0 ? 'before' : 'after'} the due date`;
    const type = str(action.type);
    const detail =
      type === 'email' || type === 'statement'
        ? str(action.template) || (type === 'statement' ? 'statement' : '')
        : type === 'webhook'
          ? `${str(action.endpoint)} · ${str(action.event)}`
          : str(action.note) || str(action.reason);
    return { n: i + 1, id: str(step.id), when, action: type.replace(/_/g, ' '), detail, channel: CHANNEL[type] ?? type };
  });
}

/**
 * The date a step anchored to the due date by whole days would fall on before any move (weekend or holiday outside
 * the send window, the contact cap): the preview's date differing from it is a shift worth showing.
 */
function nominalDate(definition: unknown, stepId: string, dueDate: string): string | undefined {
  const steps = rec(definition).steps;
  const step = (Array.isArray(steps) ? steps : []).map(rec).find((s) => s.id === stepId);
  if (!step) return undefined;
  const offset = rec(step.offset);
  if ((str(step.anchor) || 'due_date') !== 'due_date' || offset.unit !== 'days' || typeof offset.amount !== 'number') return undefined;
  return DateTime.fromISO(dueDate, { zone: 'UTC' }).plus({ days: offset.amount }).toISODate() ?? undefined;
}

interface PreviewForm {
  amount: string;
  currency: string;
  dueDate: string;
  timeZone: string;
  segment: string;
  country: string;
}

const defaultPreviewForm = (timeZone: string): PreviewForm => {
  const due = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
  return { amount: '1000.00', currency: 'EUR', dueDate: due, timeZone, segment: 'standard', country: '' };
};

const editForm = z.object({
  intent: z.enum(['validate', 'preview', 'save']),
  definition: z.string().max(500_000),
  version: z.string().optional(),
  _key: z.string().max(100).optional(),
  amount: z.string().max(40).default(''),
  currency: z.string().max(10).default(''),
  dueDate: z.string().max(20).default(''),
  timeZone: z.string().max(60).default(''),
  segment: z.string().max(30).default(''),
  country: z.string().max(10).default(''),
});

interface IssueView {
  path: string;
  message: string;
  line: number;
}

interface EditorState {
  version?: number | undefined;
  text?: string;
  previewForm?: PreviewForm;
  /** The outcome of Validate (or of a refused save/preview): valid, issues by line, or a JSON syntax error. */
  check?: { valid: true } | { issues: IssueView[] } | { syntax: { line: number; column: number; message: string } };
  preview?: { cadence: { id: string; version: number }; steps: (PreviewStep & { local: string; weekday: string; movedFrom?: string })[]; timeZone: string };
  previewIssues?: { field: string; message: string }[];
  error?: { message: string };
  status?: number;
}

type CadenceRequest = FastifyRequest<{ Params: { cadenceId: string }; Querystring: { version?: string } }>;
type VersionRequest = FastifyRequest<{ Params: { cadenceId: string; version: string } }>;

const enc = encodeURIComponent;

export const cadencePages: ConsolePages = async (app, { defaults }) => {
  // The section is an AR manager's (the API lets every role read cadences; only managers change them).
  const managersOnly = {
    preHandler: async (request: FastifyRequest, reply: FastifyReply) => {
      if (roleRank(request.consoleUser.role) >= roleRank('ar_manager')) return;
      return renderPage(request, reply, defaults, 'error', { title: 'Refused', status: 403, message: 'Cadences are for AR managers.' }, 403);
    },
  };
  app.get('/app/cadences', managersOnly, async (request, reply) => {
    const api = consoleApi(app, request.consoleUser);
    const [list, assignments] = await Promise.all([api.get<{ items: CadenceSummary[] }>('/cadences'), api.get<{ items: Assignment[] }>('/cadence-assignments')]);
    if (!list.ok) return renderPage(request, reply, defaults, 'cadences', { title: 'Cadences', cadences: [], error: list.body }, list.status);
    // Each cadence with all its versions (status, when created and by whom, when activated).
    const histories = await Promise.all(list.body.items.map((c) => api.get<CadenceHistory>(`/cadences/${enc(c.cadenceId)}`)));
    const assigned = assignments.ok ? assignments.body.items : [];
    const cadences = list.body.items.map((c, i) => {
      const h = histories[i]!;
      return {
        ...c,
        versions: h.ok ? [...h.body.versions].sort((a, b) => b.version - a.version) : [],
        segments: assigned.filter((a) => a.cadenceId === c.cadenceId).map((a) => a.segment),
      };
    });
    return renderPage(request, reply, defaults, 'cadences', {
      title: 'Cadences',
      cadences,
      assignments: SEGMENTS.map((segment) => ({ segment, cadenceId: assigned.find((a) => a.segment === segment)?.cadenceId ?? null })),
    });
  });

  /** Renders the editor of a cadence: the version asked for (else the active one, else the latest), with whatever state a form left. */
  async function editor(request: FastifyRequest, reply: FastifyReply, api: ConsoleApi, cadenceId: string, state: EditorState): Promise<FastifyReply> {
    const [history, assignments] = await Promise.all([api.get<CadenceHistory>(`/cadences/${enc(cadenceId)}`), api.get<{ items: Assignment[] }>('/cadence-assignments')]);
    if (!history.ok) return renderPage(request, reply, defaults, 'cadence', { title: `Cadence ${cadenceId}`, cadenceId, missing: true, error: history.body }, history.status);
    const versions = [...history.body.versions].sort((a, b) => b.version - a.version);
    const shown =
      (state.version !== undefined ? versions.find((v) => v.version === state.version) : undefined) ??
      versions.find((v) => v.status === 'active') ??
      versions[0]!;
    const text = state.text ?? JSON.stringify(shown.definition, null, 2);
    const typed = locateJson(text);
    const user = request.consoleUser;
    return renderPage(
      request,
      reply,
      defaults,
      'cadence',
      {
        title: `Cadence ${shown.definition.name}`,
        cadenceId,
        name: shown.definition.name,
        activeVersion: history.body.activeVersion,
        versions,
        shown,
        text,
        lines: text.split('\n').length,
        steps: stepRows(typed.ok ? typed.value : shown.definition),
        stepsFromText: typed.ok && state.text !== undefined,
        check: state.check,
        preview: state.preview,
        previewIssues: Object.fromEntries((state.previewIssues ?? []).map((p) => [p.field, p.message])),
        previewForm: state.previewForm ?? defaultPreviewForm(user.timeZone ?? defaults.timeZone),
        segments: SEGMENTS,
        assignments: assignments.ok ? assignments.body.items.filter((a) => a.cadenceId === cadenceId).map((a) => a.segment) : [],
        key: formKey(),
        // An issue's "line N" selects that line in the text (the page works without it).
        scripts: ['/app/assets/cadence-editor.js'],
        ...(state.error ? { error: state.error } : {}),
      },
      state.status ?? 200,
    );
  }

  app.get('/app/cadences/:cadenceId', managersOnly, async (request: CadenceRequest, reply) => {
    const v = Number(request.query.version);
    const version = Number.isInteger(v) && v > 0 ? v : undefined;
    return editor(request, reply, consoleApi(app, request.consoleUser), request.params.cadenceId, { version });
  });

  /** Issues of the API (paths under body. or body.cadence.), each with its line in the user's text. */
  const issuesIn = (text: string, tree: JsonNode, issues: ValidationIssueBody[] | undefined, prefix: RegExp): IssueView[] =>
    (issues ?? []).map((i) => {
      const path = i.path.replace(prefix, '');
      return { path, message: i.message, line: lineOfPath(text, tree, path) };
    });

  /** The sample invoice of the preview form, or its problems by field. */
  function sampleInvoice(f: PreviewForm): { ok: true; invoice: Record<string, unknown>; customer: Record<string, unknown> } | { ok: false; issues: { field: string; message: string }[] } {
    const issues: { field: string; message: string }[] = [];
    const currency = f.currency.trim().toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency)) issues.push({ field: 'currency', message: 'a currency code, e.g. EUR' });
    const amountMinor = /^[A-Z]{3}$/.test(currency) ? parseMoneyInput(f.amount, currency) : undefined;
    if (amountMinor === undefined || amountMinor <= 0) issues.push({ field: 'amount', message: 'an amount, e.g. 1250.00' });
    if (!/^\d{4}-\d{2}-\d{2}$/.test(f.dueDate.trim())) issues.push({ field: 'dueDate', message: 'a date YYYY-MM-DD' });
    if (f.timeZone.trim() === '') issues.push({ field: 'timeZone', message: 'a time zone, e.g. Europe/Berlin' });
    if (!(SEGMENTS as readonly string[]).includes(f.segment)) issues.push({ field: 'segment', message: 'one of the segments' });
    const country = f.country.trim().toUpperCase();
    if (country !== '' && !/^[A-Z]{2}$/.test(country)) issues.push({ field: 'country', message: 'a two-letter country code, e.g. DE, or empty' });
    if (issues.length) return { ok: false, issues };
    return {
      ok: true,
      invoice: { currency, amountMinor, dueDate: f.dueDate.trim() },
      customer: { timeZone: f.timeZone.trim(), segment: f.segment, ...(country ? { country } : {}) },
    };
  }

  /** The instant in the customer's zone, in the user's locale (the timeline reads as the customer lives it). */
  function inZone(iso: string, timeZone: string, locale: string) {
    const d = new Date(iso);
    try {
      return {
        local: new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone }).format(d),
        weekday: new Intl.DateTimeFormat(locale, { weekday: 'short', timeZone }).format(d),
      };
    } catch {
      return { local: iso, weekday: '' };
    }
  }

  app.post('/app/cadences/:cadenceId/edit', managersOnly, async (request: CadenceRequest, reply) => {
    const { cadenceId } = request.params;
    const api = consoleApi(app, request.consoleUser);
    const form = editForm.safeParse(request.body);
    if (!form.success) return editor(request, reply, api, cadenceId, { error: { message: 'The form was incomplete; reload the page.' }, status: 422 });
    const f = form.data;
    const v = Number(f.version);
    const version = Number.isInteger(v) && v > 0 ? v : undefined;
    const previewForm: PreviewForm = { amount: f.amount, currency: f.currency, dueDate: f.dueDate, timeZone: f.timeZone, segment: f.segment, country: f.country };
    const base: EditorState = { version, text: f.definition, previewForm };
    const typed = locateJson(f.definition);
    if (!typed.ok) {
      const { line, column } = lineColumn(f.definition, typed.offset);
      return editor(request, reply, api, cadenceId, { ...base, check: { syntax: { line, column, message: typed.message } }, status: 422 });
    }

    if (f.intent === 'validate') {
      const res = await api.send<{ valid: true }>('POST', '/cadences/validate', typed.value);
      if (res.ok) return editor(request, reply, api, cadenceId, { ...base, check: { valid: true } });
      return editor(request, reply, api, cadenceId, { ...base, check: { issues: checkIssues(res.body) }, status: res.status === 400 ? 422 : res.status });
    }

    if (f.intent === 'preview') {
      const sample = sampleInvoice(previewForm);
      if (!sample.ok) return editor(request, reply, api, cadenceId, { ...base, previewIssues: sample.issues, error: { message: 'The sample invoice is not complete.' }, status: 422 });
      const res = await api.send<{ cadence: { id: string; version: number }; steps: PreviewStep[] }>('POST', '/cadences/preview', {
        cadence: typed.value,
        invoice: sample.invoice,
        customer: sample.customer,
      });
      if (!res.ok) {
        const definitionIssues = (res.body.issues ?? []).filter((i) => i.path.startsWith('body.cadence'));
        const otherIssues = (res.body.issues ?? []).filter((i) => !i.path.startsWith('body.cadence'));
        return editor(request, reply, api, cadenceId, {
          ...base,
          ...(definitionIssues.length ? { check: { issues: issuesIn(f.definition, typed.tree, definitionIssues, /^body\.cadence\.?/) } } : {}),
          previewIssues: otherIssues.map((i) => ({ field: i.path.replace(/^body\.(invoice|customer)\.?/, ''), message: i.message })),
          error: { message: `Preview refused: ${res.body.message}` },
          status: res.status === 400 ? 422 : res.status,
        });
      }
      const timeZone = String(sample.customer.timeZone);
      const locale = request.consoleUser.locale ?? defaults.locale;
      return editor(request, reply, api, cadenceId, {
        ...base,
        preview: {
          cadence: res.body.cadence,
          timeZone,
          steps: res.body.steps.map((s) => {
            const nominal = nominalDate(typed.value, s.stepId, String(sample.invoice.dueDate));
            const actual = DateTime.fromISO(s.at).setZone(timeZone).toISODate();
            return { ...s, ...inZone(s.at, timeZone, locale), ...(s.status === 'scheduled' && nominal && actual && nominal !== actual ? { movedFrom: nominal } : {}) };
          }),
        },
      });
    }

    // Save as a new version (a draft): the server numbers it.
    const res = await api.send<CadenceVersionView>('POST', '/cadences', typed.value, f._key ? { idempotencyKey: f._key } : {});
    if (!res.ok)
      return editor(request, reply, api, cadenceId, {
        ...base,
        check: { issues: checkIssues(res.body) },
        error: { message: `Not saved: ${res.body.message}` },
        status: res.status === 400 ? 422 : res.status,
      });
    setNotice(reply, `Saved as version ${res.body.version} of ${res.body.cadenceId} (a draft: activate it to use it)`);
    return reply.redirect(`/app/cadences/${enc(res.body.cadenceId)}?version=${res.body.version}`, 303);

    function checkIssues(body: ApiErrorBody): IssueView[] {
      if (!typed.ok) return [];
      const issues = body.issues?.length ? body.issues : [{ path: '', code: body.error, message: body.message }];
      return issuesIn(f.definition, typed.tree, issues, /^body\.?/);
    }
  });

  app.post('/app/cadences/:cadenceId/versions/:version/activate', managersOnly, async (request: VersionRequest, reply) => {
    const { cadenceId, version } = request.params;
    const api = consoleApi(app, request.consoleUser);
    const res = await api.send<CadenceVersionView>('POST', `/cadences/${enc(cadenceId)}/versions/${enc(version)}/activate`);
    const v = Number(version);
    if (!res.ok) return editor(request, reply, api, cadenceId, { version: v, error: res.body, status: res.status });
    setNotice(reply, `Version ${res.body.version} of ${res.body.cadenceId} is active: new enrollments pin it (running invoices keep theirs unless migrated)`);
    return reply.redirect(`/app/cadences/${enc(cadenceId)}?version=${res.body.version}`, 303);
  });

  const migrateForm = z.object({ invoiceNumbers: z.string().max(50_000).default(''), _key: z.string().max(100).optional() });
  app.post('/app/cadences/:cadenceId/versions/:version/migrate', managersOnly, async (request: VersionRequest, reply) => {
    const { cadenceId, version } = request.params;
    const api = consoleApi(app, request.consoleUser);
    const v = Number(version);
    const form = migrateForm.safeParse(request.body);
    if (!form.success) return editor(request, reply, api, cadenceId, { version: v, error: { message: 'The form was incomplete; reload the page.' }, status: 422 });
    const numbers = form.data.invoiceNumbers.split(/[\s,;]+/).filter((n) => n !== '');
    const res = await api.send<{ cadence: { id: string; version: number }; migrating: string[] }>(
      'POST',
      `/cadences/${enc(cadenceId)}/versions/${enc(version)}/migrate`,
      numbers.length ? { invoiceNumbers: numbers } : {},
      form.data._key ? { idempotencyKey: form.data._key } : {},
    );
    if (!res.ok) return editor(request, reply, api, cadenceId, { version: v, error: res.body, status: res.status === 400 ? 422 : res.status });
    const n = res.body.migrating.length;
    setNotice(
      reply,
      n === 0
        ? `No running invoice to migrate to version ${version}`
        : `${n} running invoice${n === 1 ? '' : 's'} moving to version ${version} at the next step: ${res.body.migrating.slice(0, 20).join(', ')}${n > 20 ? '…' : ''}`,
    );
    return reply.redirect(`/app/cadences/${enc(cadenceId)}?version=${enc(version)}`, 303);
  });

  const assignForm = z.object({ segment: z.enum(SEGMENTS), version: z.string().optional() });
  app.post('/app/cadences/:cadenceId/assign', managersOnly, async (request: CadenceRequest, reply) => {
    const { cadenceId } = request.params;
    const api = consoleApi(app, request.consoleUser);
    const form = assignForm.safeParse(request.body);
    const v = Number((request.body as { version?: string } | undefined)?.version);
    const version = Number.isInteger(v) && v > 0 ? v : undefined;
    if (!form.success) return editor(request, reply, api, cadenceId, { version, error: { message: 'Choose a segment.' }, status: 422 });
    const res = await api.send<Assignment>('PUT', `/cadence-assignments/${enc(form.data.segment)}`, { cadenceId });
    if (!res.ok) return editor(request, reply, api, cadenceId, { version, error: res.body, status: res.status === 400 ? 422 : res.status });
    setNotice(reply, `Segment ${form.data.segment.replace(/_/g, ' ')} now gets ${cadenceId}`);
    return reply.redirect(`/app/cadences/${enc(cadenceId)}${version ? `?version=${version}` : ''}`, 303);
  });
};
