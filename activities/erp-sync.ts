import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import type { ErpSyncConfig } from '../config/erp-sync';
import { appendAuditEvent, stepEventsOfInvoice } from '../db/audit-events';
import { upsertEnrolledCustomer } from '../db/customers';
import {
  addToSyncRun,
  admissibleLedgerInvoices,
  
  enrolledFacts,
  finishSyncRun,
  lockSyncState,
  recordLink,
  recordSignalled,
  recordSyncErrors,
  setSyncCursor,
  signalledFacts,
  startSyncRun,
  syncCustomers,
  syncState,
  upsertSyncCustomers,
  zeroCounters,
  type SyncCounters,
  type SyncErrorInput,
} from '../db/erp-sync';
import { upsertLedgerInvoices, type LedgerInvoice } from '../db/ledger';
import type { Sql } from '../db/sql';
import { recordUnappliedPayments } from '../db/unapplied-cash';
import { admissionHorizon, admitReceivable, isClosingStatus, ledgerChanged, mapErpCustomer, type SyncErpCustomer } from '../domain/erp-sync';
import type { ErpAdapter } from '../integrations/erp/adapter';
import type { ErpCustomer, ErpReceivable } from '../integrations/erp/changes';
import { ledgerChangedSignal, type LedgerChange, type StepRecord } from '../workflows/messages';
import type { ErpSyncPageResult, ErpSyncAdmitResult, SyncEnroller } from '../workflows/erp-sync-messages';

/**
 * The ERP sync's I/O (workflows/erp-sync.ts orchestrates): one page of the change feed applied per call, then the
 * ledger's invoices that came within the enrollment window. Each call is idempotent and crash-safe: the page is
 * fetched from the cursor stored in PostgreSQL, its effects are each done at most once (an invoice is enrolled
 * once, an enrolled invoice is told of a change once: erp_sync_signals), and the cursor moves, with the ledger
 * rows and the run's counters, in one transaction at the end. A call killed midway is retried: it fetches the
 * same page and finds what it already did.
 */

export interface ErpSyncActivityDeps {
  sql: Sql;
  temporal: Client;
  erp: ErpAdapter;
  erpSync: ErpSyncConfig;
  /** Absent in a worker built without it: the sync's activities then fail with a message saying so. */
  enrollInvoice?: SyncEnroller;
  now?: () => Date;
}

const ACTOR = 'erp-sync';

/** Tells Temporal the activity is alive (a no-op outside an activity, e.g. in a test calling the function). */
function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // not in an activity
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachBounded<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
      heartbeat(); // alive: a worker killed mid-page is noticed within the heartbeat timeout, and the page retried
    }
  });
  await Promise.all(lanes);
}

export function createErpSyncActivities(deps: ErpSyncActivityDeps) {
  const { sql, temporal, erp } = deps;
  const now = deps.now ?? (() => new Date());
  const config = deps.erpSync;
  const enroller = (): SyncEnroller => {
    if (!deps.enrollInvoice) throw new Error('this worker was built without the sync enrollment (worker/main.ts passes enrollInvoice from api/erp-sync-service.ts)');
    return deps.enrollInvoice;
  };

  /** A step of the original's history as the invoice workflow counts it (the audit trail's step events). */
  async function carriedSteps(tenantId: string, original: string): Promise<StepRecord[]> {
    const events = await stepEventsOfInvoice(sql, tenantId, original);
    return events.filter((e) => e.action !== '' && e.step_id).map((e) => ({ stepId: e.step_id, action: e.action, at: e.at.toISOString(), outcome: e.outcome }) as StepRecord);
  }

  interface Candidate {
    invoiceNumber: string;
    customerId: string;
    currency: string;
    amountMinor: number;
    openAmountMinor: number;
    status: ErpReceivable['status'];
    issueDate: string;
    dueDate: string;
    rebillOf: string | null;
    erpId: string;
  }

  /**
   * Enrolls what the policy admits (a rebill or split part of an enrolled invoice always, carrying its steps);
   * counts and errors go to `tally`. Each candidate is not enrolled yet.
   */
  async function enrollCandidates(
    tenantId: string,
    candidates: Candidate[],
    customers: Map<string, SyncErpCustomer>,
    tally: { counters: SyncCounters; errors: SyncErrorInput[] },
    // Admission batches count no skips: what they pass over was counted when a page brought it.
    countSkips = true,
  ): Promise<void> {
    const skip = () => {
      if (countSkips) tally.counters.skipped++;
    };
    const today = now().toISOString().slice(0, 10);
    const originals = await enrolledFacts(sql, tenantId, [...new Set(candidates.flatMap((c) => (c.rebillOf ? [c.rebillOf] : [])))]);
    const enroll = enroller();
    await eachBounded(candidates, config.enrollConcurrency, async (c) => {
      const refuse = (code: string, reason: string) => {
        skip();
        tally.errors.push({ erpId: c.erpId, invoiceNumber: c.invoiceNumber, customerId: c.customerId, code, reason });
      };
      const erpCustomer = customers.get(c.customerId);
      if (!erpCustomer) return refuse('customer_unknown', `the ERP named no account for customer ${c.customerId}`);
      const mapped = mapErpCustomer(erpCustomer, config.mapping);
      if (!mapped.ok) {
        // An invoice we would not enroll anyway is no error of the customer's.
        if (c.status === 'open' && admitReceivable(c, config.mapping.defaultSegment, config.policy, today).admit) return refuse(mapped.code, mapped.reason);
        return skip();
      }
      const original = c.rebillOf ? originals.get(c.rebillOf) : undefined;
      const carried = original && c.status === 'open' && c.openAmountMinor > 0;
      if (!carried) {
        const admission = admitReceivable(c, mapped.customer.segment, config.policy, today);
        if (!admission.admit) return skip();
      }
      const carriedFrom = carried ? { invoiceNumber: c.rebillOf!, steps: await carriedSteps(tenantId, c.rebillOf!) } : undefined;
      const result = await enroll(
        {
          customer: mapped.customer,
          // The ERP's open amount is what is owed now (a rebill after a partial payment, an imported balance).
          invoice: { number: c.invoiceNumber, currency: c.currency, amountMinor: c.openAmountMinor, issueDate: c.issueDate, dueDate: c.dueDate },
          ...(carriedFrom ? { carriedFrom } : {}),
        },
        ACTOR,
      );
      if (!result.ok) return refuse(result.code, result.reason);
      if (result.enrolled) tally.counters.enrolled++;
      if (carriedFrom) {
        await recordLink(sql, tenantId, { invoiceNumber: c.invoiceNumber, originalNumber: carriedFrom.invoiceNumber, carriedSteps: carriedFrom.steps.length });
        const linked = await appendAuditEvent(sql, {
          eventKey: `erp-sync:${tenantId}:link:${c.invoiceNumber}`,
          tenantId,
          actor: ACTOR,
          type: 'invoice_rebill_linked',
          invoiceNumber: c.invoiceNumber,
          workflowId: result.workflowId,
          details: { original: carriedFrom.invoiceNumber, carriedSteps: carriedFrom.steps.map((s) => s.stepId) },
        });
        if (linked) tally.counters.linked++;
      }
    });
  }

  return {
    /** The run's record, once per run key; and an audit event of its start. */
    async erpSyncStartRun(req: { tenantId: string; connection: string; runKey: string; workflowId: string }): Promise<{ runId: number }> {
      const state = await syncState(sql, req);
      const runId = await startSyncRun(sql, { ...req, cursorFrom: state?.cursor ?? null });
      await appendAuditEvent(sql, {
        eventKey: `erp-sync:${req.tenantId}:run:${runId}:started`,
        tenantId: req.tenantId,
        actor: ACTOR,
        type: 'erp_sync_run_started',
        workflowId: req.workflowId,
        details: { runId, connection: req.connection, erp: erp.kind, cursor: state?.cursor ?? null },
      });
      return { runId };
    },

    /**
     * Applies the page after the stored cursor: ledger rows (created / updated / unchanged), customers (ours through
     * the mapping, the ERP's as seen), enrollment of what the policy admits, ledgerChanged to enrolled invoices whose
     * due date, open amount or status changed, unapplied payments to the unapplied-cash queue; then moves the cursor.
     */
    async erpSyncPage(req: { tenantId: string; connection: string; runId: number; pageSize: number }): Promise<ErpSyncPageResult> {
      const { tenantId } = req;
      const cursor = (await syncState(sql, req))?.cursor ?? null;
      const page = await erp.listChanges({ cursor, limit: req.pageSize });
      heartbeat();
      const counters = zeroCounters();
      const errors: SyncErrorInput[] = [];
      counters.pages = 1;
      counters.received = page.receivables.length;
      counters.customers = page.customers.length;

      // Customers: the ERP's as seen (a later run enrolls from them), ours where the mapping gives a complete one.
      // Pages name the same customers again and again: ours is written only when the ERP's record changed.
      const changed = await upsertSyncCustomers(sql, tenantId, page.customers.map((c) => ({ customerId: c.customerId, erp: c as unknown as Record<string, unknown> })));
      const customers = new Map<string, SyncErpCustomer>(page.customers.map((c) => [c.customerId, c]));
      const missing = [...new Set(page.receivables.map((r) => r.customerId))].filter((id) => !customers.has(id));
      for (const [id, c] of await syncCustomers(sql, tenantId, missing)) customers.set(id, c as unknown as ErpCustomer);
      for (const c of page.customers.filter((c) => changed.has(c.customerId))) {
        const mapped = mapErpCustomer(c, config.mapping);
        if (!mapped.ok) continue; // reported with the invoices it keeps from enrollment
        const m = mapped.customer;
        await upsertEnrolledCustomer(sql, {
          tenantId, customerId: m.id, name: m.name, email: m.email, timeZone: m.timeZone, locale: m.locale, collectorId: m.collectorId ?? null,
          segment: m.segment, country: m.country ?? null, region: m.region ?? null, doNotContact: false, contactName: m.contactName ?? null,
        });
      }

      // Enrolled invoices: told of what changed since they were last told (or since enrollment).
      const numbers = page.receivables.map((r) => r.invoiceNumber);
      const enrolled = await enrolledFacts(sql, tenantId, numbers);
      const told = await signalledFacts(sql, tenantId, numbers);
      const toSignal = page.receivables.filter((r) => {
        const e = enrolled.get(r.invoiceNumber);
        if (!e) return false;
        const t = told.get(r.invoiceNumber);
        const known = t ? { dueDate: t.due_date, openAmountMinor: t.open_amount_minor, status: t.status } : { dueDate: e.due_date, openAmountMinor: e.open_amount_minor, status: 'open' as const };
        return ledgerChanged(r, known);
      });
      await eachBounded(toSignal, config.enrollConcurrency, async (r) => {
        const change: LedgerChange = { dueDate: r.dueDate, openAmountMinor: r.openAmountMinor, status: r.status, changedAt: r.changedAt };
        try {
          await temporal.workflow.getHandle(enrolled.get(r.invoiceNumber)!.workflow_id).signal(ledgerChangedSignal, change);
          counters.signalled++;
          if (isClosingStatus(r.status)) counters.closed++;
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          // Its workflow ended already (paid through the webhook, closed by a person): nothing to tell.
        }
        await recordSignalled(sql, tenantId, { invoiceNumber: r.invoiceNumber, dueDate: r.dueDate, openAmountMinor: r.openAmountMinor, status: r.status, changedAt: r.changedAt });
      });
      heartbeat();

      // Not enrolled: enrolled now when the policy admits them (or they carry an enrolled original's dunning).
      await enrollCandidates(tenantId, page.receivables.filter((r) => !enrolled.has(r.invoiceNumber)), customers, { counters, errors });
      heartbeat();

      // The ledger, the queue of unapplied cash, the run's counters and the cursor: together, or not at all.
      const ledger: LedgerInvoice[] = page.receivables.map((r) => ({
        invoiceNumber: r.invoiceNumber, customerId: r.customerId, currency: r.currency, amountMinor: r.amountMinor, openAmountMinor: r.openAmountMinor,
        status: r.status, issueDate: r.issueDate, dueDate: r.dueDate, settledDate: r.settledDate, rebillOf: r.rebillOf, disputed: false,
      }));
      const moved = await sql.begin(async (tx) => {
        const state = await lockSyncState(tx, req);
        if (state.cursor !== cursor) return false; // another call applied this page meanwhile: counted there
        // In ledger mode the page is the ledger itself: written back, it would turn imported rows into the ERP's and
        // clear what the feed does not carry (disputed). The ERP's rows are the mirror of another system otherwise.
        if (erp.kind !== 'ledger') {
          const outcomes = await upsertLedgerInvoices(tx, tenantId, ledger, { source: 'erp', erp: new Map(page.receivables.map((r) => [r.invoiceNumber, { erpId: r.erpId, changedAt: r.changedAt }])) });
          for (const outcome of outcomes.values()) counters[outcome]++;
        }
        counters.unapplied_payments = await recordUnappliedPayments(tx, tenantId, page.unappliedPayments);
        counters.errors = await recordSyncErrors(tx, req.runId, errors);
        await addToSyncRun(tx, req.runId, counters, page.nextCursor);
        await setSyncCursor(tx, req, page.nextCursor);
        return true;
      });
      return { hasMore: page.hasMore, applied: moved, received: counters.received, enrolled: counters.enrolled, signalled: counters.signalled, errors: counters.errors };
    },

    /**
     * Open ledger invoices that came within the enrollment window since they were synced (the ERP did not change
     * them, so no page brings them again), after `after` in number order; enrolled by the same rules.
     */
    async erpSyncAdmitDue(req: { tenantId: string; connection: string; runId: number; after: string; limit: number }): Promise<ErpSyncAdmitResult> {
      const { tenantId } = req;
      const horizon = admissionHorizon(now().toISOString().slice(0, 10), config.policy);
      const rows = await admissibleLedgerInvoices(sql, tenantId, { horizon, after: req.after, limit: req.limit });
      if (rows.length === 0) return { next: null, enrolled: 0 };
      const stored = await syncCustomers(sql, tenantId, [...new Set(rows.map((r) => r.customer_id))]);
      const customers = new Map([...stored].map(([id, c]) => [id, c as unknown as SyncErpCustomer]));
      const counters = zeroCounters();
      const errors: SyncErrorInput[] = [];
      const candidates = rows.map((r) => ({
        invoiceNumber: r.invoice_number, customerId: r.customer_id, currency: r.currency, amountMinor: r.amount_minor, openAmountMinor: r.open_amount_minor,
        status: r.status, issueDate: r.issue_date, dueDate: r.due_date, rebillOf: r.rebill_of, erpId: r.erp_id ?? r.invoice_number,
      }));
      await enrollCandidates(tenantId, candidates, customers, { counters, errors }, false);
      await sql.begin(async (tx) => {
        counters.errors = await recordSyncErrors(tx, req.runId, errors);
        await addToSyncRun(tx, req.runId, counters);
      });
      return { next: rows.length < req.limit ? null : rows.at(-1)!.invoice_number, enrolled: counters.enrolled };
    },

    async erpSyncFinishRun(req: { tenantId: string; runId: number; workflowId: string; status: 'completed' | 'failed'; failure?: string }): Promise<void> {
      await finishSyncRun(sql, req.runId, { status: req.status, ...(req.failure ? { failure: req.failure } : {}) });
      await appendAuditEvent(sql, {
        eventKey: `erp-sync:${req.tenantId}:run:${req.runId}:finished`,
        tenantId: req.tenantId,
        actor: ACTOR,
        type: 'erp_sync_run_finished',
        workflowId: req.workflowId,
        details: { runId: req.runId, status: req.status, failure: req.failure ?? null },
      });
    },
  };
}

export type ErpSyncActivities = ReturnType<typeof createErpSyncActivities>;
