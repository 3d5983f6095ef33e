import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Sql } from '../db/sql';
import { convertMinor, type FxTable } from '../domain/fx';
import type { CadenceService } from './cadence-service';
import { invoiceWorkflowId } from '../domain/ids';
import { appendAuditEvent, latestAuditEventOfInvoice, stepEventsOfInvoice, type AuditEvent } from '../db/audit-events';
import { activeCustomerPause, upsertEnrolledCustomer } from '../db/customers';
import { writeInvoiceMirror, insertInvoiceOnce, invoiceExists, invoicesToMigrate, invoiceWithDays, countOfInvoices, openAmountsOfInvoices, pageOfInvoices, type InvoiceCursor, type InvoiceDays, type InvoiceSort, type InvoiceWhere } from '../db/invoices';
import { isIsoDate } from '../domain/aging';
import { pausedUntil, TERMINAL_STAGES } from '../domain/invoice-state';
import { ErpInvoiceNotFoundError, type ErpAdapter } from '../integrations/erp/adapter';
import {
  collectorIdKey,
  customerIdKey,
  dunningStageKey,
  cadenceChangedSignal,
  dunningStateQuery,
  pauseUpdate,
  type InvoiceDunningInput,
} from '../workflows/messages';
import { DomainError, notFound, unavailableDependency, UpdateNotCompleted } from './errors';
import { cursorParts, encodeCursor, invalidCursor } from './list-cursors';
import { isWorkflowClosed, runUpdate } from './workflow-updates';
import type { Enrollment, InvoiceView } from './schemas';
import { createInvoicePayments, type InvoiceAuditEvent } from './invoice-payments';
import { createTotalsCache, type TotalsCache } from './totals-cache';

export interface InvoiceServiceDeps {
  sql: Sql;
  temporal: Client;
  tenantId: string;
  taskQueue: string;
  /** Chooses the cadence version each new invoice pins. */
  cadences: Pick<CadenceService, 'resolveFor' | 'getVersion'>;
  /** The reporting currency's rates: an invoice in a currency without one could not be prioritized or totalled. */
  fx?: FxTable;
  /**
   * The ERP, asked at enrollment whether it knows the invoice (api/server.ts always gives one). Without
   * it (tests of other concerns) enrollment trusts the request and the workflow finds out at its first balance read.
   */
  erp?: Pick<ErpAdapter, 'getInvoiceBalance'>;
  /** The list's totals, held a few seconds (api/totals-cache.ts); default: counted on every request. */
  totals?: TotalsCache;
}

type InvoiceRow = InvoiceDays;

/** An opaque cursor of the invoice list: base64url of [due date, invoice number]. */
export const encodeInvoiceCursor = (c: InvoiceCursor): string => encodeCursor([c.dueDate, c.invoiceNumber]);

export function decodeInvoiceCursor(text: string): InvoiceCursor {
  const [dueDate, invoiceNumber] = cursorParts(text);
  if (typeof dueDate !== 'string' || !isIsoDate(dueDate) || typeof invoiceNumber !== 'string' || invoiceNumber.length === 0 || invoiceNumber.length > 200) throw invalidCursor();
  return { dueDate, invoiceNumber };
}


const sameInvoice = (row: InvoiceRow, inv: Enrollment['invoice'], customerId: string) =>
  row.customer_id === customerId &&
  row.currency === inv.currency &&
  row.amount_minor === inv.amountMinor &&
  row.issue_date === inv.issueDate &&
  row.due_date === inv.dueDate;

export function createInvoiceService(deps: InvoiceServiceDeps) {
  const { sql, temporal, tenantId } = deps;
  const totals = deps.totals ?? createTotalsCache({ maxAgeMs: 0 });

  /** The list's open amounts: each currency's sum converted once, then added; 422 for a currency without a rate. */
  function amountsInReporting(byCurrency: { currency: string; count: number; open_minor: string }[]) {
    const fx = deps.fx ?? { reportingCurrency: 'EUR', rates: {} };
    const missing = byCurrency.filter((c) => c.currency !== fx.reportingCurrency && fx.rates[c.currency] === undefined).map((c) => c.currency);
    if (missing.length > 0)
      throw new DomainError('no_exchange_rate', `no exchange rate from ${missing.join(', ')} to the reporting currency ${fx.reportingCurrency}: add it to config/reporting.json`);
    return {
      reportingCurrency: fx.reportingCurrency,
      openAmountReportingMinor: byCurrency.reduce((sum, c) => sum + convertMinor(Number(c.open_minor), c.currency, fx), 0),
      byCurrency: byCurrency.map((c) => ({ currency: c.currency, count: c.count, openAmountMinor: Number(c.open_minor) })),
    };
  }

  const findInvoice = (invoiceNumber: string): Promise<InvoiceRow | undefined> => invoiceWithDays(sql, tenantId, invoiceNumber);

  /** Appends an event of the invoice to the audit trail once per key (every key here is deterministic). */
  async function audit(eventKey: string, actor: string, invoiceNumber: string, workflowId: string, event: InvoiceAuditEvent) {
    await appendAuditEvent(sql, { ...event, eventKey, tenantId, actor, invoiceNumber, workflowId } as AuditEvent);
  }

  /**
   * The invoice's workflow as Temporal has it (the database mirror cannot say that a workflow failed or was
   * terminated): RUNNING, COMPLETED, FAILED, TERMINATED, CANCELED, TIMED_OUT, CONTINUED_AS_NEW; NOT_FOUND when
   * Temporal has none, UNKNOWN when Temporal cannot be asked now (the rest of the view comes from the mirror).
   */
  async function workflowStatusOf(workflowId: string): Promise<string> {
    try {
      return (await temporal.workflow.getHandle(workflowId).describe()).status.name;
    } catch (err) {
      if (isWorkflowClosed(err)) return 'NOT_FOUND';
      if (unavailableDependency(err)) return 'UNKNOWN';
      throw err;
    }
  }

  /**
   * The ERP is the system of record: an invoice it does not know, or knows with another customer, currency
   * or amount, is refused (422) before anything is stored. When the ERP cannot answer (down, too slow, an
   * answer that is not its contract), nothing is stored either: 503 dependency_unavailable with Retry-After,
   * and the caller enrolls again later. An invoice the ERP shows closed is enrolled: its workflow closes it at
   * its first balance read, without contacting anyone.
   */
  /**
   * A workflow that ran before its invoice row was committed (its enrollment was cut off between the start and the
   * commit, and completed by a retry) wrote its first events to a mirror that did not exist yet: the row is brought
   * up to the workflow's own state now, instead of at its next event. Bounded: the worker may be down, and then the
   * mirror catches up at that next event as before.
   */
  async function catchUpMirror(invoiceNumber: string, workflowId: string): Promise<void> {
    const query = temporal.workflow.getHandle(workflowId).query(dunningStateQuery);
    const s = await Promise.race([query, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3_000).unref())]).catch(() => undefined);
    if (!s) return;
    const closed = TERMINAL_STAGES.includes(s.stage);
    const nextStep = !closed && s.nextStep ? { stepId: s.nextStep.stepId, action: s.nextStep.action, at: s.nextStep.at } : null;
    const promiseDate = closed ? null : (s.promise?.installments.find((i) => i.status === 'pending')?.dueDate ?? null);
    await writeInvoiceMirror(sql, { tenantId, invoiceNumber }, { stage: s.stage, openAmountMinor: s.openAmountMinor, nextStep, pausedUntil: closed ? null : (pausedUntil(s) ?? null), promiseDate }, s.eventSeq);
  }

  async function checkWithErp(invoice: Enrollment['invoice'], customerId: string): Promise<void> {
    if (!deps.erp) return;
    let balance;
    try {
      balance = await deps.erp.getInvoiceBalance(invoice.number);
    } catch (err) {
      if (err instanceof ErpInvoiceNotFoundError)
        throw new DomainError('unknown_to_erp', `the ERP does not know invoice ${invoice.number}: an invoice is enrolled once the ERP has it`);
      throw new DomainError('dependency_unavailable', `the ERP could not confirm invoice ${invoice.number} (${(err as Error).message}); nothing was stored, enroll it again later`, { dependency: 'erp' });
    }
    const erp = { customerId: balance.customerId, currency: balance.currency, amountMinor: balance.amountMinor };
    const differ = (Object.keys(erp) as (keyof typeof erp)[]).filter((k) => erp[k] !== (k === 'customerId' ? customerId : invoice[k]));
    if (differ.length)
      throw new DomainError('erp_mismatch', `the ERP knows invoice ${invoice.number} with another ${differ.join(', ')}`, { erp });
  }

  /**
   * The steps of the view, each with its action. Workflows recorded before the step_superseded audit event
   * carried the action left it out: such a step takes the action of its id in the invoice's pinned cadence
   * version ('unknown' when that version has no such step, or is gone).
   */
  async function withActions(
    steps: { step_id: string; action: string; at: Date; outcome: string }[],
    row: Pick<InvoiceRow, 'cadence_id' | 'cadence_version'>,
  ): Promise<InvoiceView['steps']> {
    let pinned: Map<string, string> | undefined;
    if (steps.some((s) => s.action === '')) {
      const definition = await deps.cadences.getVersion(row.cadence_id, row.cadence_version).then((v) => v.definition, () => undefined);
      pinned = new Map((definition?.steps ?? []).map((step) => [step.id, step.action.type]));
    }
    return steps.map((s) => ({ stepId: s.step_id, action: s.action || (pinned?.get(s.step_id) ?? 'unknown'), at: s.at.toISOString(), outcome: s.outcome }));
  }

  return {
    ...createInvoicePayments(deps, { findInvoice, audit }),

    /**
     * Stores customer and invoice and starts the invoice's one workflow, both or neither; a second
     * enrollment gets 409.
     */
    async enroll(body: Enrollment, actor: string, extra: Pick<InvoiceDunningInput, 'carriedFrom'> = {}): Promise<{ workflowId: string; runId: string }> {
      const { customer, invoice } = body;
      const workflowId = invoiceWorkflowId(tenantId, invoice.number);
      if (deps.fx && invoice.currency !== deps.fx.reportingCurrency && deps.fx.rates[invoice.currency] === undefined)
        throw new DomainError('no_exchange_rate', `no exchange rate from ${invoice.currency} to the reporting currency ${deps.fx.reportingCurrency}: add it to config/reporting.json`);
      // A rejected enrollment changes nothing: the customer is only written with a new invoice.
      const known = await findInvoice(invoice.number);
      // A new invoice must be the ERP's; a stored one was checked when it was first enrolled.
      if (!known) await checkWithErp(invoice, customer.id);
      // A new invoice pins the cadence version chosen now; a retried enrollment keeps the one it pinned.
      const cadence = known
        ? (await deps.cadences.getVersion(known.cadence_id, known.cadence_version)).definition
        : await deps.cadences.resolveFor({ customerId: customer.id, segment: customer.segment, currency: invoice.currency, amountMinor: invoice.amountMinor });
      const input: InvoiceDunningInput = {
        tenantId,
        invoice: { ...invoice, customerId: customer.id },
        customer: {
          id: customer.id,
          name: customer.name,
          email: customer.email,
          timeZone: customer.timeZone,
          locale: customer.locale,
          ...(customer.collectorId ? { collectorId: customer.collectorId } : {}),
          ...(customer.country ? { country: customer.country } : {}),
          ...(customer.region ? { region: customer.region } : {}),
          ...(customer.contactName ? { contactName: customer.contactName } : {}),
        },
        cadence,
        // The ERP sync's rebill or split part: the original's steps go on counting (api/erp-sync-service.ts).
        ...(extra.carriedFrom ? { carriedFrom: extra.carriedFrom } : {}),
      };
      const start = () =>
        temporal.workflow.start('invoiceDunning', {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          workflowIdConflictPolicy: 'FAIL',
          // The workflow starts inside the enrollment's transaction (below), whose commit follows the start by
          // milliseconds; its first task waits a second so that its first mirror write finds the committed row.
          startDelay: '1s',
          typedSearchAttributes: [
            { key: customerIdKey, value: customer.id },
            { key: collectorIdKey, value: customer.collectorId ?? 'unassigned' },
            { key: dunningStageKey, value: 'active' },
          ],
        });
      const alreadyEnrolled = () => new DomainError('already_enrolled', `invoice ${invoice.number} is already enrolled`, { workflowId });
      // Both or neither: customer, invoice and its audit row are written in one transaction, and the workflow
      // starts inside it. When Temporal refuses or cannot be reached, the transaction rolls back and nothing
      // is stored (503 when Temporal is down: api/errors.ts); when the start succeeded, the commit follows.
      let recovered = false;
      const enrolled = await sql.begin(async (tx): Promise<{ runId: string } | 'existing'> => {
        if (await invoiceExists(tx, tenantId, invoice.number)) return 'existing';
        // The customer's portfolio and do-not-contact flag are filled in when unknown, never moved or lifted (db/customers.ts).
        await upsertEnrolledCustomer(tx, {
          tenantId, customerId: customer.id, name: customer.name, email: customer.email, timeZone: customer.timeZone, locale: customer.locale,
          collectorId: customer.collectorId ?? null, segment: customer.segment, country: customer.country ?? null, region: customer.region ?? null,
          doNotContact: customer.doNotContact, contactName: customer.contactName ?? null,
        });
        const inserted = await insertInvoiceOnce(tx, {
          tenantId, invoiceNumber: invoice.number, customerId: customer.id, currency: invoice.currency, amountMinor: invoice.amountMinor,
          issueDate: invoice.issueDate, dueDate: invoice.dueDate, workflowId, cadence: { id: cadence.id, version: cadence.version },
        });
        if (!inserted) return 'existing';
        await appendAuditEvent(tx, {
          eventKey: `${workflowId}:enrolled`, tenantId, actor, invoiceNumber: invoice.number, workflowId,
          type: 'invoice_enrolled', details: { cadence: { id: cadence.id, version: cadence.version } },
        });
        try {
          return { runId: (await start()).firstExecutionRunId };
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          // The workflow exists but its row does not: an earlier enrollment started it and then lost its commit
          // (PostgreSQL went away in between). Its retry completes it: the row is kept for the running workflow.
          const running = await temporal.workflow.getHandle(workflowId).describe();
          if (running.status.name !== 'RUNNING' || running.typedSearchAttributes.get(customerIdKey) !== customer.id) throw alreadyEnrolled();
          recovered = true;
          return { runId: running.runId };
        }
      });
      let runId: string;
      if (enrolled === 'existing') {
        const row = (await findInvoice(invoice.number))!;
        if (!sameInvoice(row, invoice, customer.id))
          throw new DomainError('invoice_conflict', `invoice ${invoice.number} is already enrolled with different data`, { workflowId });
        // A row without its workflow (stored before enrollment was all or nothing): the retry starts it.
        try {
          runId = (await start()).firstExecutionRunId;
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) throw alreadyEnrolled();
          throw err;
        }
        await audit(`${workflowId}:enrolled`, actor, invoice.number, workflowId, { type: 'invoice_enrolled', details: { cadence: { id: cadence.id, version: cadence.version } } });
      } else {
        runId = enrolled.runId;
        if (recovered) await catchUpMirror(invoice.number, workflowId);
      }
      // A customer paused as a whole pauses the invoices enrolled meanwhile too.
      const pause = await activeCustomerPause(sql, tenantId, customer.id);
      if (pause) {
        try {
          await runUpdate(temporal, workflowId, (h) =>
            h.executeUpdate(pauseUpdate, {
              updateId: 'customer-pause-at-enrollment',
              args: [{ reason: pause.pause_reason ?? 'customer paused', until: pause.paused_until?.toISOString() ?? null, actor, scope: 'customer' }],
            }),
          );
        } catch (err) {
          // Held by Temporal (the worker is down): the workflow takes the pause before anything else when it runs.
          if (!(err instanceof UpdateNotCompleted && err.admitted)) throw err;
        }
      }
      return { workflowId, runId };
    },

    /** Enrolled invoices, most overdue first, with the dunning state mirrored from the workflows. */
    /** `collectorId` narrows the list to that collector's portfolio (customers.collector_id). */
    async list(filter: InvoiceWhere & { limit: number; offset: number; cursor?: string; sort?: InvoiceSort; amounts?: boolean }) {
      const { cursor, limit, offset, sort: sortAsked, amounts, ...where } = filter;
      // The default order (due date ascending) pages by keyset; any other by offset.
      const sort = sortAsked && !(sortAsked.by === 'dueDate' && sortAsked.order === 'asc') ? sortAsked : undefined;
      if (sort && cursor !== undefined) throw invalidCursor();
      const after = cursor !== undefined ? decodeInvoiceCursor(cursor) : undefined;
      const key = `${tenantId}|${JSON.stringify(Object.entries(where).sort(([a], [b]) => a.localeCompare(b)))}`;
      const [{ rows, more }, total, byCurrency] = await Promise.all([
        pageOfInvoices(sql, tenantId, { ...where, limit, offset, ...(after ? { after } : {}), ...(sort ? { sort } : {}) }),
        totals.get(`invoices|${key}`, () => countOfInvoices(sql, tenantId, where)),
        amounts ? totals.get(`invoice-amounts|${key}`, () => openAmountsOfInvoices(sql, tenantId, where)) : undefined,
      ]);
      const last = rows.at(-1);
      return {
        total,
        ...(byCurrency ? { amounts: amountsInReporting(byCurrency) } : {}),
        nextCursor: !sort && more && last ? encodeInvoiceCursor({ dueDate: last.due_date, invoiceNumber: last.invoice_number }) : null,
        items: rows.map((r) => ({
          number: r.invoice_number,
          customerId: r.customer_id,
          currency: r.currency,
          amountMinor: r.amount_minor,
          openAmountMinor: r.open_amount_minor,
          dueDate: r.due_date,
          stage: r.stage,
          nextStep: r.next_step_id ? { stepId: r.next_step_id, action: r.next_step_action ?? 'unknown', at: r.next_step_at!.toISOString() } : null,
          pausedUntil: r.paused_until?.toISOString() ?? null,
          promiseDate: r.promise_date,
        })),
      };
    },

    /** The invoice's customer (for access checks), or undefined for an unknown invoice. */
    async customerOf(invoiceNumber: string): Promise<string | undefined> {
      return (await findInvoice(invoiceNumber))?.customer_id;
    },

    async view(invoiceNumber: string): Promise<InvoiceView> {
      const row = await findInvoice(invoiceNumber);
      if (!row) throw notFound(`invoice ${invoiceNumber}`);
      const steps = await stepEventsOfInvoice(sql, tenantId, invoiceNumber);
      // What parked the invoice, as its workflow recorded it when it parked.
      const needsAttention = row.stage === 'needs_attention' ? await latestAuditEventOfInvoice(sql, tenantId, invoiceNumber, ['needs_attention']) : undefined;
      const parked = needsAttention && {
        details: needsAttention.details as { code: string; reason: string; stepId: string | null; attempts: number; retryAt: string },
        at: needsAttention.occurred_at,
      };
      // Paused by a person's payment claim: the latest pause event is the claim.
      const lastPause = row.stage === 'paused' ? await latestAuditEventOfInvoice(sql, tenantId, invoiceNumber, ['payment_claimed', 'paused', 'resumed']) : undefined;
      const claim = lastPause?.event_type === 'payment_claimed' ? (lastPause.details as { paymentId: string; amountMinor: number; currency: string; checkAt: string }) : undefined;
      return {
        workflowId: row.workflow_id,
        workflowStatus: await workflowStatusOf(row.workflow_id),
        invoice: {
          number: row.invoice_number,
          customerId: row.customer_id,
          currency: row.currency,
          amountMinor: row.amount_minor,
          openAmountMinor: row.open_amount_minor,
          issueDate: row.issue_date,
          dueDate: row.due_date,
        },
        cadence: { id: row.cadence_id, version: row.cadence_version },
        stage: row.stage,
        nextStep: row.next_step_id
          ? { stepId: row.next_step_id, action: row.next_step_action ?? 'unknown', at: row.next_step_at!.toISOString() }
          : null,
        pausedUntil: row.paused_until?.toISOString() ?? null,
        promiseDate: row.promise_date,
        disputedAmountMinor: row.disputed_amount_minor,
        steps: await withActions(steps, row),
        attention: parked
          ? {
              code: parked.details.code,
              reason: parked.details.reason,
              stepId: parked.details.stepId,
              since: parked.at.toISOString(),
              attempts: parked.details.attempts,
              retryAt: parked.details.retryAt,
            }
          : null,
        claim: claim ? { paymentId: claim.paymentId, amountMinor: claim.amountMinor, currency: claim.currency, checkAt: claim.checkAt } : null,
      };
    },

    /**
     * Moves running invoices of a cadence to one of its versions. Each workflow switches at its next
     * step boundary (steps already done keep counting by id) and records the switch itself.
     */
    async migrateCadence(cadenceId: string, version: number, filter: { invoiceNumbers?: string[] }, actor: string) {
      const target = await deps.cadences.getVersion(cadenceId, version);
      if (target.status !== 'active') throw new DomainError('cadence_not_active', `version ${version} of cadence ${cadenceId} is ${target.status}; activate it first`);
      const rows = await invoicesToMigrate(sql, tenantId, { cadenceId, version }, filter.invoiceNumbers);
      const migrating: string[] = [];
      for (const row of rows) {
        try {
          await temporal.workflow.getHandle(row.workflow_id).signal(cadenceChangedSignal, target.definition);
        } catch (err) {
          if (isWorkflowClosed(err)) continue; // closed meanwhile: nothing to migrate
          throw err;
        }
        await audit(`${row.workflow_id}:migrate:${cadenceId}:${version}`, actor, row.invoice_number, row.workflow_id, {
          type: 'cadence_migration_requested',
          details: { from: { id: cadenceId, version: row.cadence_version }, to: { id: cadenceId, version } },
        });
        migrating.push(row.invoice_number);
      }
      return { cadence: { id: cadenceId, version }, migrating };
    },
  };
}

export type InvoiceService = ReturnType<typeof createInvoiceService>;
