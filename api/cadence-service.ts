import { appendAuditEvent, countAuditEvents, type AuditEvent } from '../db/audit-events';
import {
  activateCadenceVersion,
  activeCadenceDefinitions,
  assignSegmentCadence,
  cadenceAssignmentOf,
  cadenceAssignments,
  cadenceExists,
  cadenceSummaries,
  cadenceVersions,
  insertCadenceVersion,
  lockCadence as lockCadenceRows,
  lockSegmentAssignment,
  nextCadenceVersion,
  retireActiveCadenceVersion,
  unassignSegmentCadence,
  type CadenceVersionRow,
} from '../db/cadences';
import { findCustomer, lockCustomer, setCustomerCadenceOverride } from '../db/customers';
import { invoicePreviewFacts } from '../db/invoices';
import type { Sql, TransactionSql } from '../db/sql';
import type { Cadence, Segment } from '../domain/cadence';
import type { EmailTemplate } from '../domain/templates';
import { selectCadence } from '../domain/cadence-selection';
import { previewCadence, type PreviewStep } from '../domain/preview';
import { businessCalendarFor } from '../integrations/holidays';
import type { BusinessCalendar } from '../domain/business-calendar';
import { DomainError, notFound } from './errors';
import { unknownTemplateIssues } from '../domain/templates';
import { cadenceReferenceIssues } from '../domain/cadence-references';
import { validationIssues, type ValidationIssue } from '../config/validation-issues';
import { cadenceDefinitionSchema, type CadenceVersionView, type PreviewRequest } from './schemas';
import type { TotalsCache } from './totals-cache';

/**
 * Cadences as AR teams configure them: every save is a new immutable version (a draft), one version
 * per cadence is active, and new enrollments pin the active version of the cadence that applies to
 * them. Invoices already running keep the version they pinned.
 */
export interface CadenceServiceDeps {
  sql: Sql;
  tenantId: string;
  templates: Record<string, EmailTemplate>;
  /** The cadence for invoices that no override, segment assignment or selection rule claims. */
  defaultCadenceId: string;
  /** The names of WEBHOOK_ENDPOINTS (the worker reads the same variable); a cadence's webhook steps may name only these. Default: none. */
  webhookEndpoints?: readonly string[];
  /**
   * Reads held a few seconds for the preview (api/totals-cache.ts, cleared by every write through the API):
   * the active cadences and the segment assignments it resolves a cadence from. Default: read every time.
   */
  held?: TotalsCache;
}

type VersionRow = CadenceVersionRow;
/** An audit event of this tenant before its key (each type with its own details). */
type ConfigurationEvent = AuditEvent extends infer E ? (E extends unknown ? Omit<E, 'tenantId' | 'eventKey'> : never) : never;

const SEED_ACTOR = 'config';
type Tx = TransactionSql;

const toView = (row: VersionRow): CadenceVersionView => ({
  cadenceId: row.cadence_id,
  version: row.version,
  status: row.status,
  createdAt: row.created_at.toISOString(),
  createdBy: row.created_by,
  activatedAt: row.activated_at?.toISOString() ?? null,
  definition: row.definition,
});

const unknownTemplates = (issues: ValidationIssue[]) =>
  new DomainError('unknown_template', `unknown template at ${issues.map((i) => i.path).join(', ')}`, { issues });

/** An unknown country or region (or years out of range) is a problem with the request, not with the server. */
function holidayCalendar(...args: Parameters<typeof businessCalendarFor>): BusinessCalendar {
  try {
    return businessCalendarFor(...args);
  } catch (err) {
    throw new DomainError('unknown_holiday_calendar', (err as Error).message);
  }
}

export function createCadenceService(deps: CadenceServiceDeps) {
  const { sql, tenantId, templates } = deps;
  /** Everything a definition names that is not configured (templates, webhook endpoints), by path under `at`. */
  const referenceIssues = (definition: unknown, at: readonly string[]) =>
    cadenceReferenceIssues(definition, { templates, webhookEndpoints: deps.webhookEndpoints ?? [] }, at);

  const lockCadence = (tx: Tx, cadenceId: string) => lockCadenceRows(tx, tenantId, cadenceId);

  /**
   * Appends a configuration change to the audit trail, keyed by its subject and its number among the
   * changes of that type to it (`subject` names it, `match` finds those changes): the caller holds the
   * lock that serialises them, so the number is this change's own. A request that changes nothing calls none.
   */
  async function audit(tx: Tx, subject: string, match: Record<string, unknown>, event: ConfigurationEvent) {
    const n = (await countAuditEvents(tx, tenantId, event.type, match)) + 1;
    await appendAuditEvent(tx, { ...event, tenantId, eventKey: `${subject}:n${n}` } as AuditEvent);
  }

  const versions = (cadenceId: string, version?: number): Promise<VersionRow[]> => cadenceVersions(sql, tenantId, cadenceId, version);

  /** The active version of a cadence: 404 when the cadence does not exist, 409 when none of its versions is active. */
  async function activeVersion(cadenceId: string): Promise<Cadence> {
    const all = await versions(cadenceId);
    if (all.length === 0) throw notFound(`cadence ${cadenceId}`);
    const active = all.find((v) => v.status === 'active');
    if (!active) throw new DomainError('cadence_not_active', `cadence ${cadenceId} has no active version; activate one first`);
    return active.definition;
  }

  async function savedVersion(cadenceId: string, version: number): Promise<VersionRow> {
    const [row] = await versions(cadenceId, version);
    if (!row) throw notFound(`cadence ${cadenceId} version ${version}`);
    return row;
  }

  const activeCadences = (): Promise<Cadence[]> => activeCadenceDefinitions(sql, tenantId);

  /**
   * The cadence an enrollment pins: customer override > segment assignment > selection rules > default.
   * An override or assignment naming a cadence without an active version is passed over.
   */
  async function resolveFor(ctx: { customerId?: string; segment: Segment; currency: string; amountMinor: number }, opts: { held?: boolean } = {}): Promise<Cadence> {
    // Held only for a preview: an enrollment pins what it resolves, so it reads what is in force now.
    const held = opts.held ? deps.held : undefined;
    const active = held ? await held.get(`cadences|${tenantId}|active`, activeCadences) : await activeCadences();
    const customer = ctx.customerId === undefined ? undefined : await findCustomer(sql, tenantId, ctx.customerId);
    const assignment = held
      ? await held.get(`cadences|${tenantId}|assignment|${ctx.segment}`, () => cadenceAssignmentOf(sql, tenantId, ctx.segment))
      : await cadenceAssignmentOf(sql, tenantId, ctx.segment);
    // selectCadence ranks its override above the selection rules: the first of ours that is active takes that place.
    const chosen = [customer?.cadence_override, assignment?.cadence_id].find((id) => id && active.some((c) => c.id === id));
    const selection = { segment: ctx.segment, currency: ctx.currency, amountMinor: ctx.amountMinor };
    return selectCadence(active, chosen ? { ...selection, customerOverride: chosen } : selection, deps.defaultCadenceId);
  }

  interface PreviewSubject {
    dueDate: string;
    currency: string;
    amountMinor: number;
    openAmountMinor: number;
    customer: NonNullable<PreviewRequest['customer']>;
    pinned?: { id: string; version: number };
  }

  async function enrolledSubject(invoiceNumber: string): Promise<PreviewSubject> {
    const row = await invoicePreviewFacts(sql, tenantId, invoiceNumber);
    if (!row) throw notFound(`invoice ${invoiceNumber}`);
    return {
      dueDate: row.due_date,
      currency: row.currency,
      amountMinor: row.amount_minor,
      openAmountMinor: row.open_amount_minor,
      customer: {
        timeZone: row.time_zone,
        segment: row.segment,
        ...(row.country ? { country: row.country } : {}),
        ...(row.region ? { region: row.region } : {}),
        doNotContact: row.do_not_contact,
      },
      pinned: { id: row.cadence_id, version: row.cadence_version },
    };
  }

  async function previewedCadence(choice: PreviewRequest['cadence'], subject: PreviewSubject): Promise<Cadence> {
    if (choice === undefined && subject.pinned) return (await savedVersion(subject.pinned.id, subject.pinned.version)).definition;
    if (choice === undefined)
      return resolveFor({ segment: subject.customer.segment, currency: subject.currency, amountMinor: subject.amountMinor }, { held: true });
    if (!('steps' in choice)) return choice.version === undefined ? activeVersion(choice.id) : (await savedVersion(choice.id, choice.version)).definition;
    const issues = unknownTemplateIssues(choice, templates, ['body', 'cadence']);
    if (issues.length) throw unknownTemplates(issues);
    return { ...choice, version: choice.version ?? 0 }; // an inline definition is no saved version
  }

  return {
    /** Checks a definition as POST /cadences would, reporting every problem at once in the validation_failed shape. */
    validate(definition: unknown): { valid: true } {
      const parsed = cadenceDefinitionSchema.safeParse(definition);
      const issues: ValidationIssue[] = [
        ...(parsed.error ? validationIssues(parsed.error, ['body']) : []),
        ...referenceIssues(definition, ['body']),
      ];
      if (issues.length) throw new DomainError('validation_failed', 'invalid body', { issues });
      return { valid: true };
    },

    /**
     * Saves a definition as the next version of its cadence, as a draft. The version in the body is
     * ignored: the server numbers versions (1, 2, ...) so that two people saving at once never collide.
     */
    async create(definition: Omit<Cadence, 'version'> & { version?: number }, actor: string): Promise<CadenceVersionView> {
      // A reference to something not configured (a template, a webhook endpoint) would park every invoice at that step.
      const issues = referenceIssues(definition, ['body']);
      if (issues.length) throw new DomainError('validation_failed', `invalid body: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
      return sql.begin(async (tx) => {
        await lockCadence(tx, definition.id);
        const next = await nextCadenceVersion(tx, tenantId, definition.id);
        return toView(await insertCadenceVersion(tx, { tenantId, definition: { ...definition, version: next }, status: 'draft', createdBy: actor }));
      });
    },

    /** Every cadence: its latest version and which version is active. */
    async list() {
      const rows = await cadenceSummaries(sql, tenantId);
      return {
        items: rows.map((r) => ({ cadenceId: r.cadence_id, name: r.name, latestVersion: r.version, latestStatus: r.status, activeVersion: r.active_version })),
      };
    },

    async get(cadenceId: string) {
      const rows = await versions(cadenceId);
      if (rows.length === 0) throw notFound(`cadence ${cadenceId}`);
      return { cadenceId, activeVersion: rows.find((r) => r.status === 'active')?.version ?? null, versions: rows.map(toView) };
    },

    async getVersion(cadenceId: string, version: number): Promise<CadenceVersionView> {
      return toView(await savedVersion(cadenceId, version));
    },

    /**
     * Makes a version the one new enrollments pin; the previously active one is retired. A retired
     * version may be activated again (a rollback); activating the active version (a retry) changes and
     * records nothing. A version naming a template that no longer exists is refused. The audit event is
     * keyed by the cadence and its number among the cadence's activations.
     */
    async activate(cadenceId: string, version: number, actor: string): Promise<CadenceVersionView> {
      return sql.begin(async (tx) => {
        await lockCadence(tx, cadenceId);
        const [target] = await cadenceVersions(tx, tenantId, cadenceId, version);
        if (!target) throw notFound(`cadence ${cadenceId} version ${version}`);
        // Templates are configuration: one may have gone since the version was saved.
        const issues = referenceIssues(target.definition, ['definition']);
        if (issues.length) throw new DomainError('activation_blocked', `cannot activate: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
        if (target.status !== 'active') {
          const previous = await retireActiveCadenceVersion(tx, tenantId, cadenceId);
          await activateCadenceVersion(tx, tenantId, cadenceId, version);
          await audit(tx, `cadence-activated:${tenantId}:${cadenceId}`, { cadenceId }, {
            actor,
            type: 'cadence_activated',
            details: { cadenceId, version, previousVersion: previous ?? null },
          });
        }
        const [row] = await cadenceVersions(tx, tenantId, cadenceId, version);
        return toView(row!);
      });
    },

    async listAssignments() {
      const rows = await cadenceAssignments(sql, tenantId);
      return { items: rows.map((r) => ({ segment: r.segment, cadenceId: r.cadence_id })) };
    },

    /**
     * Gives a segment its cadence; it takes precedence over selection rules. The cadence must have an active
     * version. The segment's cadence already (a retried PUT) changes and records nothing.
     */
    async assignSegment(segment: Segment, cadenceId: string, actor: string) {
      await activeVersion(cadenceId);
      await sql.begin(async (tx) => {
        await lockSegmentAssignment(tx, tenantId, segment);
        const before = await cadenceAssignmentOf(tx, tenantId, segment);
        if (before?.cadence_id === cadenceId) return;
        await assignSegmentCadence(tx, tenantId, segment, cadenceId);
        await audit(tx, `cadence-assigned:${tenantId}:${segment}`, { segment }, {
          actor,
          type: 'cadence_assigned',
          details: { segment, cadenceId },
        });
      });
      return { segment, cadenceId };
    },

    /** Removes a segment's assignment, if any: its invoices then follow the selection rules. */
    async unassignSegment(segment: Segment, actor: string): Promise<void> {
      await sql.begin(async (tx) => {
        await lockSegmentAssignment(tx, tenantId, segment);
        if ((await unassignSegmentCadence(tx, tenantId, segment)) !== undefined)
          await audit(tx, `cadence-unassigned:${tenantId}:${segment}`, { segment }, { actor, type: 'cadence_unassigned', details: { segment } });
      });
    },

    /**
     * Pins a customer to a cadence (its active version at each enrollment), or removes the override with
     * null. The customer's override already (a retried PUT) changes and records nothing.
     */
    async setCustomerOverride(customerId: string, cadenceId: string | null, actor: string) {
      if (!(await findCustomer(sql, tenantId, customerId))) throw notFound(`customer ${customerId}`);
      if (cadenceId !== null) await activeVersion(cadenceId);
      await sql.begin(async (tx) => {
        const before = await lockCustomer(tx, tenantId, customerId);
        if (!before) throw notFound(`customer ${customerId}`);
        if (before.cadence_override === cadenceId) return;
        await setCustomerCadenceOverride(tx, tenantId, customerId, cadenceId);
        await audit(tx, `cadence-override:${tenantId}:${customerId}`, { customerId }, {
          actor,
          type: 'customer_cadence_set',
          details: { customerId, cadenceId },
        });
      });
      return { customerId, cadenceId };
    },

    activeCadences,
    resolveFor,

    /**
     * The dated timeline of a cadence for an invoice as of a moment, without running or writing anything.
     * Holidays come from the customer's country (and region); without a country, business days are Mon-Fri.
     */
    async preview(request: PreviewRequest): Promise<{ cadence: { id: string; version: number }; steps: PreviewStep[] }> {
      const asOf = new Date(request.asOf ?? Date.now()).toISOString();
      const subject: PreviewSubject =
        'number' in request.invoice
          ? await enrolledSubject(request.invoice.number)
          : { ...request.invoice, openAmountMinor: request.invoice.openAmountMinor ?? request.invoice.amountMinor, customer: request.customer! };
      if (request.customer) subject.customer = request.customer;
      const cadence = await previewedCadence(request.cadence, subject);
      const { customer } = subject;
      // Holidays for every year the timeline may touch: from the due date's or asOf's year to the year after the later one.
      const years = [Number(subject.dueDate.slice(0, 4)), Number(asOf.slice(0, 4))];
      const calendar = customer.country ? holidayCalendar(customer.country, customer.region, Math.min(...years), Math.max(...years) + 1) : undefined;
      const steps = previewCadence({
        cadence,
        dueDate: subject.dueDate,
        currency: subject.currency,
        openAmountMinor: subject.openAmountMinor,
        timeZone: customer.timeZone,
        segment: customer.segment,
        ...(customer.doNotContact === undefined ? {} : { doNotContact: customer.doNotContact }),
        ...(calendar ? { calendar } : {}),
        asOf,
      });
      return { cadence: { id: cadence.id, version: cadence.version }, steps };
    },

    /**
     * Start-up: stores each configuration-file cadence as its file version, active, when no version of
     * that cadence exists yet. Idempotent; after the first start the API is where cadences change.
     */
    async seedDefaults(cadences: readonly Cadence[]): Promise<{ id: string; version: number }[]> {
      const issues = cadences.flatMap((c) => unknownTemplateIssues(c, templates, [`cadence ${c.id}`]));
      if (issues.length) throw unknownTemplates(issues);
      const seeded: { id: string; version: number }[] = [];
      for (const cadence of cadences) {
        await sql.begin(async (tx) => {
          await lockCadence(tx, cadence.id);
          if (await cadenceExists(tx, tenantId, cadence.id)) return;
          await insertCadenceVersion(tx, { tenantId, definition: cadence, status: 'active', createdBy: SEED_ACTOR });
          await appendAuditEvent(tx, {
            eventKey: `cadence-seeded:${tenantId}:${cadence.id}`,
            tenantId,
            actor: SEED_ACTOR,
            type: 'cadence_activated',
            details: { cadenceId: cadence.id, version: cadence.version, previousVersion: null },
          });
          seeded.push({ id: cadence.id, version: cadence.version });
        });
      }
      return seeded;
    },
  };
}

export type CadenceService = ReturnType<typeof createCadenceService>;
