import { randomUUID } from 'node:crypto';
import type { Sql } from '../db/sql';
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
}

type VersionStatus = CadenceVersionView['status'];
interface VersionRow {
  cadence_id: string;
  version: number;
  status: VersionStatus;
  definition: Cadence;
  created_at: Date;
  created_by: string;
  activated_at: Date | null;
}

/** Creating and activating versions of one cadence are serialised by a transaction-scoped advisory lock. */
const CADENCE_LOCK_SPACE = 7_262_002;
const SEED_ACTOR = 'config';
/** The transaction handle sql.begin passes to its callback. */
type Tx = Parameters<Parameters<Sql['begin']>[1]>[0];

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

  const lockCadence = (tx: Tx, cadenceId: string) =>
    tx`select pg_advisory_xact_lock(${CADENCE_LOCK_SPACE}::int, hashtext(${`${tenantId}:${cadenceId}`}))`;

  async function audit(tx: Tx, eventKey: string, actor: string, type: string, details: object) {
    await tx`
      insert into audit_events (event_key, tenant_id, actor, event_type, details)
      values (${eventKey}, ${tenantId}, ${actor}, ${type}, ${tx.json(details as never)})
      on conflict (event_key) do nothing`;
  }

  async function versions(cadenceId: string, version?: number): Promise<VersionRow[]> {
    return sql<VersionRow[]>`
      select cadence_id, version, status, definition, created_at, created_by, activated_at
      from cadence_versions
      where tenant_id = ${tenantId} and cadence_id = ${cadenceId} ${version === undefined ? sql`` : sql`and version = ${version}`}
      order by version`;
  }

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

  async function activeCadences(): Promise<Cadence[]> {
    const rows = await sql<{ definition: Cadence }[]>`
      select definition from cadence_versions where tenant_id = ${tenantId} and status = 'active' order by cadence_id`;
    return rows.map((r) => r.definition);
  }

  /**
   * The cadence an enrollment pins: customer override > segment assignment > selection rules > default.
   * An override or assignment naming a cadence without an active version is passed over.
   */
  async function resolveFor(ctx: { customerId?: string; segment: Segment; currency: string; amountMinor: number }): Promise<Cadence> {
    const active = await activeCadences();
    const [customer] =
      ctx.customerId === undefined
        ? []
        : await sql<{ cadence_override: string | null }[]>`
            select cadence_override from customers where tenant_id = ${tenantId} and customer_id = ${ctx.customerId}`;
    const [assignment] = await sql<{ cadence_id: string }[]>`
      select cadence_id from cadence_assignments where tenant_id = ${tenantId} and segment = ${ctx.segment}`;
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
    const [row] = await sql<
      {
        currency: string;
        amount_minor: number;
        open_amount_minor: number;
        due_date: string;
        cadence_id: string;
        cadence_version: number;
        time_zone: string;
        segment: Segment;
        country: string | null;
        region: string | null;
        do_not_contact: boolean;
      }[]
    >`
      select i.currency, i.amount_minor, i.open_amount_minor, to_char(i.due_date, 'YYYY-MM-DD') as due_date, i.cadence_id, i.cadence_version,
             c.time_zone, c.segment, c.country, c.region, c.do_not_contact
      from invoices i join customers c using (tenant_id, customer_id)
      where i.tenant_id = ${tenantId} and i.invoice_number = ${invoiceNumber}`;
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
      return resolveFor({ segment: subject.customer.segment, currency: subject.currency, amountMinor: subject.amountMinor });
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
        const [{ next } = { next: 1 }] = await tx<{ next: number }[]>`
          select coalesce(max(version), 0) + 1 as next from cadence_versions where tenant_id = ${tenantId} and cadence_id = ${definition.id}`;
        const [row] = await tx<VersionRow[]>`
          insert into cadence_versions (tenant_id, cadence_id, version, definition, status, created_by)
          values (${tenantId}, ${definition.id}, ${next}, ${tx.json({ ...definition, version: next } as never)}, 'draft', ${actor})
          returning cadence_id, version, status, definition, created_at, created_by, activated_at`;
        return toView(row!);
      });
    },

    /** Every cadence: its latest version and which version is active. */
    async list() {
      const rows = await sql<{ cadence_id: string; name: string; version: number; status: VersionStatus; active_version: number | null }[]>`
        select distinct on (v.cadence_id) v.cadence_id, v.definition->>'name' as name, v.version, v.status,
               (select a.version from cadence_versions a
                where a.tenant_id = v.tenant_id and a.cadence_id = v.cadence_id and a.status = 'active') as active_version
        from cadence_versions v
        where v.tenant_id = ${tenantId}
        order by v.cadence_id, v.version desc`;
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
     * version may be activated again (a rollback); activating the active version changes nothing. A version
     * naming a template that no longer exists is refused.
     */
    async activate(cadenceId: string, version: number, actor: string): Promise<CadenceVersionView> {
      return sql.begin(async (tx) => {
        await lockCadence(tx, cadenceId);
        const [target] = await tx<{ status: VersionStatus; definition: Cadence }[]>`
          select status, definition from cadence_versions where tenant_id = ${tenantId} and cadence_id = ${cadenceId} and version = ${version}`;
        if (!target) throw notFound(`cadence ${cadenceId} version ${version}`);
        // Templates are configuration: one may have gone since the version was saved.
        const issues = referenceIssues(target.definition, ['definition']);
        if (issues.length) throw new DomainError('activation_blocked', `cannot activate: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
        if (target.status !== 'active') {
          const [previous] = await tx<{ version: number }[]>`
            update cadence_versions set status = 'retired'
            where tenant_id = ${tenantId} and cadence_id = ${cadenceId} and status = 'active' returning version`;
          await tx`
            update cadence_versions set status = 'active', activated_at = now()
            where tenant_id = ${tenantId} and cadence_id = ${cadenceId} and version = ${version}`;
          await audit(tx, `cadence-activated:${tenantId}:${cadenceId}:${version}:${randomUUID()}`, actor, 'cadence_activated', {
            cadenceId,
            version,
            previousVersion: previous?.version ?? null,
          });
        }
        const [row] = await tx<VersionRow[]>`
          select cadence_id, version, status, definition, created_at, created_by, activated_at
          from cadence_versions where tenant_id = ${tenantId} and cadence_id = ${cadenceId} and version = ${version}`;
        return toView(row!);
      });
    },

    async listAssignments() {
      const rows = await sql<{ segment: Segment; cadence_id: string }[]>`
        select segment, cadence_id from cadence_assignments where tenant_id = ${tenantId} order by segment`;
      return { items: rows.map((r) => ({ segment: r.segment, cadenceId: r.cadence_id })) };
    },

    /** Gives a segment its cadence; it takes precedence over selection rules. The cadence must have an active version. */
    async assignSegment(segment: Segment, cadenceId: string, actor: string) {
      await activeVersion(cadenceId);
      await sql.begin(async (tx) => {
        await tx`
          insert into cadence_assignments (tenant_id, segment, cadence_id) values (${tenantId}, ${segment}, ${cadenceId})
          on conflict (tenant_id, segment) do update set cadence_id = excluded.cadence_id, updated_at = now()`;
        await audit(tx, `cadence-assigned:${tenantId}:${segment}:${randomUUID()}`, actor, 'cadence_assigned', { segment, cadenceId });
      });
      return { segment, cadenceId };
    },

    /** Removes a segment's assignment, if any: its invoices then follow the selection rules. */
    async unassignSegment(segment: Segment, actor: string): Promise<void> {
      await sql.begin(async (tx) => {
        const removed = await tx`delete from cadence_assignments where tenant_id = ${tenantId} and segment = ${segment} returning cadence_id`;
        if (removed.length) await audit(tx, `cadence-unassigned:${tenantId}:${segment}:${randomUUID()}`, actor, 'cadence_unassigned', { segment });
      });
    },

    /** Pins a customer to a cadence (its active version at each enrollment), or removes the override with null. */
    async setCustomerOverride(customerId: string, cadenceId: string | null, actor: string) {
      const [customer] = await sql`select 1 from customers where tenant_id = ${tenantId} and customer_id = ${customerId}`;
      if (!customer) throw notFound(`customer ${customerId}`);
      if (cadenceId !== null) await activeVersion(cadenceId);
      await sql.begin(async (tx) => {
        await tx`update customers set cadence_override = ${cadenceId}, updated_at = now() where tenant_id = ${tenantId} and customer_id = ${customerId}`;
        await audit(tx, `cadence-override:${tenantId}:${customerId}:${randomUUID()}`, actor, 'customer_cadence_set', { customerId, cadenceId });
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
          const [known] = await tx`select 1 from cadence_versions where tenant_id = ${tenantId} and cadence_id = ${cadence.id} limit 1`;
          if (known) return;
          await tx`
            insert into cadence_versions (tenant_id, cadence_id, version, definition, status, created_by, activated_at)
            values (${tenantId}, ${cadence.id}, ${cadence.version}, ${tx.json(cadence as never)}, 'active', ${SEED_ACTOR}, now())`;
          await audit(tx, `cadence-seeded:${tenantId}:${cadence.id}`, SEED_ACTOR, 'cadence_activated', { cadenceId: cadence.id, version: cadence.version, previousVersion: null });
          seeded.push({ id: cadence.id, version: cadence.version });
        });
      }
      return seeded;
    },
  };
}

export type CadenceService = ReturnType<typeof createCadenceService>;
