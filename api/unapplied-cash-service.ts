import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { insertPaymentOnce } from '../db/payments';
import type { Db, Sql } from '../db/sql';
import {
  appendCashAuditEvent,
  applicationsOfCash,
  cashApplication,
  customerByName,
  enrolledInvoices,
  cashIdsOf,
  insertUnappliedCash,
  invoiceKnown,
  knownInvoiceOwners,
  matchingCandidates,
  pageOfUnappliedCash,
  recordCashApplication,
  recordCashNotifications,
  resolveUnappliedCash,
  unappliedCashItem,
  unappliedCashTotals,
  type CashApplicationRow,
  type CashAuditEvent,
  type CashStatus,
  type QueueRow,
} from '../db/unapplied-cash';
import { COMBINATION_POOL, remittanceRefs, suggestMatches, type Allocation, type Suggestion } from '../domain/cash-matching';
import type { PaymentNotice } from '../domain/invoice-state';
import { ErpCapabilityError, ErpInvoiceNotFoundError, ErpRequestRejectedError, ErpUnavailableError, type ErpAdapter, type ErpAppliedPayment } from '../integrations/erp/adapter';
import { BankStatementError, parseBankStatement, type ParsedStatement } from '../integrations/bank';
import type { PaymentAppliedEvent } from '../integrations/erp/payment-applied-event';
import { paymentNotifiedSignal } from '../workflows/messages';
import { portfolioScope, requireRole, type AuthUser } from './auth';
import { DomainError, notFound } from './errors';
import { validationIssue } from '../config/validation-issues';
import { isWorkflowClosed } from './workflow-updates';

/**
 * The unapplied-cash queue (issue 12 §4): money received without an open invoice to apply to, from the ERP's
 * change feed (the sync records a page's unapplied payments: db/unapplied-cash.ts recordUnappliedPayments), the
 * ERP's payment webhook naming an invoice we do not know (queueWebhookPayment), or a bank statement upload
 * (importStatement). Each item shows ranked matching suggestions (domain/cash-matching.ts); a person applies it
 * through the ERP adapter's applyPayment (the ERP is the system of record: it applies, we record what it says,
 * and each enrolled invoice's workflow is told the ERP's open amount after), or resolves what is left as a
 * refund or on account. Every action is audited with its actor.
 *
 * Who sees what: collectors the items whose payer is a customer of their portfolio; team leads, AR managers
 * and admins everything; owner-team members nothing. Uploading a statement (all payers at once) needs a team
 * lead or above.
 *
 * Nothing is auto-applied, not even a statement line whose reference names exactly one open invoice with
 * exactly the amount: it is suggested with confidence 0.98, and a person confirms. Applying moves money in the
 * system of record and closes dunning; a remittance reference can be a customer's typo for another open
 * invoice of the same amount, and undoing a wrong application in the ERP is a manual reversal there.
 */

export type CashAllocation = Allocation;

export interface CashItemView {
  id: number;
  source: string;
  paymentId: string;
  customerId: string | null;
  payerName: string | null;
  amountMinor: number;
  currency: string;
  appliedMinor: number;
  unappliedMinor: number;
  receivedAt: string;
  ageDays: number;
  remittance: string;
  status: CashStatus;
  resolution: { by: string; at: string; note: string | null } | null;
  details: Record<string, unknown>;
  suggestions: Suggestion[];
}

export interface ApplicationView {
  cashId: number;
  erpPaymentId: string;
  allocations: CashAllocation[];
  appliedMinor: number;
  appliedBy: string;
  appliedAt: string;
  /** Each invoice as the ERP left it, and whether its workflow was told. */
  invoices: { invoiceNumber: string; appliedMinor: number; openAmountMinor: number; status: string; workflow: 'notified' | 'closed' | 'not_enrolled' | 'not_reached' }[];
  unappliedMinor: number;
  /** True when this answers a repeated request: the first application, nothing applied again. */
  replayed: boolean;
}

export interface StatementImportResult {
  format: ParsedStatement['format'];
  statementId: string | null;
  account: string | null;
  entries: { position: string; entryId: string; outcome: 'added' | 'duplicate'; id: number | null; amountMinor: number; currency: string; customerId: string | null }[];
  ignored: { position: string; reason: string }[];
  rejected: { position: string; reason: string }[];
  added: number;
  duplicates: number;
}

const sha = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 24);

export function createUnappliedCashService(deps: { sql: Sql; temporal: Client; tenantId: string; erp?: Pick<ErpAdapter, 'kind' | 'applyPayment' | 'getInvoiceBalance'> }) {
  const { sql, temporal, tenantId } = deps;

  const audit = (e: CashAuditEvent, db: Db = sql) => appendCashAuditEvent(db, tenantId, e);

  function mayRead(user: AuthUser) {
    requireRole(user, 'collector');
    return portfolioScope(user);
  }

  /** 404 unknown item; 403 when a collector asks about a payer outside their portfolio (or an unknown payer). */
  async function itemFor(user: AuthUser, id: number): Promise<QueueRow> {
    const scope = mayRead(user);
    const row = await unappliedCashItem(sql, tenantId, id);
    if (!row) throw notFound(`unapplied cash item ${id}`);
    if (scope !== undefined && row.collector_id !== scope)
      throw new DomainError('not_in_portfolio', row.customer_id === null ? `the payer of item ${id} is not known: a team lead assigns it` : `customer ${row.customer_id} is not in the portfolio of ${user.userId}`);
    return row;
  }

  async function suggestionsFor(row: QueueRow): Promise<Suggestion[]> {
    const unapplied = row.amount_minor - row.applied_minor;
    if (row.status !== 'open' || unapplied <= 0) return [];
    const payment = { amountMinor: unapplied, currency: row.currency, customerId: row.customer_id, remittance: row.remittance };
    const candidates = await matchingCandidates(sql, tenantId, { ...payment, refs: remittanceRefs(row.remittance) }, COMBINATION_POOL);
    return suggestMatches(payment, candidates);
  }

  const view = (row: QueueRow, suggestions: Suggestion[]): CashItemView => ({
    id: row.id,
    source: row.source,
    paymentId: row.payment_id,
    customerId: row.customer_id,
    payerName: row.payer_name,
    amountMinor: row.amount_minor,
    currency: row.currency,
    appliedMinor: row.applied_minor,
    unappliedMinor: row.amount_minor - row.applied_minor,
    receivedAt: row.received_at.toISOString(),
    ageDays: row.age_days,
    remittance: row.remittance,
    status: row.status,
    resolution: row.resolved_at ? { by: row.resolved_by ?? '', at: row.resolved_at.toISOString(), note: row.resolution_note } : null,
    details: row.details,
    suggestions,
  });

  function applicationView(a: CashApplicationRow, workflows: Map<string, ApplicationView['invoices'][number]['workflow']>, replayed: boolean): ApplicationView {
    const erp = a.erp_result as unknown as ErpAppliedPayment;
    return {
      cashId: a.cash_id,
      erpPaymentId: a.erp_payment_id,
      allocations: a.allocations,
      appliedMinor: a.applied_minor,
      appliedBy: a.applied_by,
      appliedAt: a.applied_at.toISOString(),
      invoices: erp.invoices.map((i) => ({ invoiceNumber: i.invoiceNumber, appliedMinor: i.appliedMinor, openAmountMinor: i.openAmountMinor, status: i.status, workflow: workflows.get(i.invoiceNumber) ?? 'not_enrolled' })),
      unappliedMinor: erp.unappliedMinor,
      replayed,
    };
  }

  /**
   * Tells each enrolled invoice's workflow what the ERP did, as the ERP's webhook would (api/invoice-payments.ts):
   * the payment stored once by the ERP's record id, paymentNotifiedSignal with the ERP's open amount after. A
   * workflow records a payment once by id, so a retry, or the ERP's own webhook for the same record, changes nothing.
   */
  async function notifyInvoices(a: CashApplicationRow, currency: string, receivedAt: string): Promise<Map<string, ApplicationView['invoices'][number]['workflow']>> {
    const erp = a.erp_result as unknown as ErpAppliedPayment;
    const enrolled = await enrolledInvoices(sql, tenantId, erp.invoices.map((i) => i.invoiceNumber));
    const outcome = new Map<string, ApplicationView['invoices'][number]['workflow']>();
    for (const inv of erp.invoices) {
      const row = enrolled.get(inv.invoiceNumber);
      if (!row) {
        outcome.set(inv.invoiceNumber, 'not_enrolled');
        continue;
      }
      const notice: PaymentNotice = {
        paymentId: inv.paymentId ?? `${a.erp_payment_id}/${inv.invoiceNumber}`,
        amountMinor: inv.appliedMinor,
        currency,
        receivedAt,
        source: 'erp_webhook',
        openAmountMinorAfter: inv.openAmountMinor,
      };
      await insertPaymentOnce(sql, { tenantId, paymentId: notice.paymentId, invoiceNumber: inv.invoiceNumber, amountMinor: notice.amountMinor, currency, receivedAt, source: 'erp_webhook' });
      await audit({
        type: 'unapplied_cash_applied',
        eventKey: `cash-applied:${tenantId}:${a.idempotency_key}:${inv.invoiceNumber}`,
        actor: a.applied_by,
        invoiceNumber: inv.invoiceNumber,
        workflowId: row.workflowId,
        details: { cashId: a.cash_id, erpPaymentId: a.erp_payment_id, allocations: a.allocations, appliedMinor: inv.appliedMinor, openAmountMinorAfter: inv.openAmountMinor, status: inv.status },
      });
      try {
        await temporal.workflow.getHandle(row.workflowId).signal(paymentNotifiedSignal, notice);
        outcome.set(inv.invoiceNumber, 'notified');
      } catch (err) {
        if (isWorkflowClosed(err)) outcome.set(inv.invoiceNumber, 'closed');
        else outcome.set(inv.invoiceNumber, 'not_reached'); // Temporal down: applying again (the same request) tells it; so does the sync
      }
    }
    await recordCashNotifications(sql, tenantId, a.idempotency_key, Object.fromEntries(outcome));
    return outcome;
  }

  function requireErp() {
    if (!deps.erp) throw new DomainError('payment_rejected', 'no ERP connection is configured that can apply payments');
    return deps.erp;
  }

  /** Each invoice once: 422 invalid_request with an issue at each repeat (the request's own positions). */
  function refuseDuplicates(allocations: CashAllocation[]): void {
    const numbers = allocations.map((a) => a.invoiceNumber);
    const twice = numbers.filter((n, i) => numbers.indexOf(n) !== i);
    if (twice.length > 0)
      throw new DomainError('invalid_request', `invoice ${twice[0]} is allocated more than once: give each invoice one allocation`, {
        issues: allocations.flatMap((a, i) => (twice.includes(a.invoiceNumber) && numbers.indexOf(a.invoiceNumber) !== i ? [validationIssue(['body', 'allocations', i, 'invoiceNumber'], 'duplicate', `invoice ${a.invoiceNumber} appears twice`)] : [])),
      });
  }

  /** The allocations checked against the item and the ERP's current balances (the system of record); throws the refusal. */
  async function checkAllocations(user: AuthUser, row: QueueRow, allocations: CashAllocation[]): Promise<void> {
    const numbers = allocations.map((a) => a.invoiceNumber);
    const total = allocations.reduce((s, a) => s + a.amountMinor, 0);
    const unapplied = row.amount_minor - row.applied_minor;
    if (total > unapplied)
      throw new DomainError('invalid_amount', `the allocations add up to ${total}, more than the ${unapplied} ${row.currency} still unapplied of the payment`, { allocatedMinor: total, unappliedMinor: unapplied });
    const owners = await knownInvoiceOwners(sql, tenantId, numbers);
    const scope = portfolioScope(user);
    for (const n of numbers) {
      const owner = owners.get(n);
      if (!owner) throw new DomainError('not_found', `invoice ${n} not found: allocations go to invoices in dunning or in the synced or imported ledger`, { invoiceNumber: n });
      // A collector applies cash to their own portfolio's invoices; whose invoice another customer's money pays is a team lead's call.
      if (scope !== undefined && owner.collectorId !== scope)
        throw new DomainError('not_in_portfolio', `invoice ${n} is of customer ${owner.customerId}, not in the portfolio of ${user.userId}`, { invoiceNumber: n });
    }
    const erp = requireErp();
    for (const a of allocations) {
      let balance;
      try {
        balance = await erp.getInvoiceBalance(a.invoiceNumber);
      } catch (err) {
        throw erpRefusal(err, a.invoiceNumber);
      }
      if (balance.currency !== row.currency)
        throw new DomainError('currency_mismatch', `invoice ${a.invoiceNumber} is in ${balance.currency}, the payment in ${row.currency}`, { invoiceNumber: a.invoiceNumber });
      if (balance.status !== 'open' || balance.openAmountMinor === 0)
        throw new DomainError('invalid_amount', `invoice ${a.invoiceNumber} is ${balance.status} in the ERP: nothing is open to apply to`, { invoiceNumber: a.invoiceNumber });
      if (a.amountMinor > balance.openAmountMinor)
        throw new DomainError('invalid_amount', `${a.amountMinor} exceeds the open amount of invoice ${a.invoiceNumber} in the ERP (${balance.openAmountMinor} ${balance.currency})`, {
          invoiceNumber: a.invoiceNumber,
          openAmountMinor: balance.openAmountMinor,
        });
    }
  }

  /** An ERP failure as the API answers it: unavailable 503 (nothing applied), a refusal 422 with the ERP's words. */
  function erpRefusal(err: unknown, invoiceNumber?: string): unknown {
    if (err instanceof ErpUnavailableError)
      return new DomainError('dependency_unavailable', `the ERP cannot be reached now (${err.message}); nothing was applied, send the same request again later`, { dependency: 'erp' });
    if (err instanceof ErpInvoiceNotFoundError) return new DomainError('unknown_to_erp', err.message, invoiceNumber ? { invoiceNumber } : {});
    if (err instanceof ErpRequestRejectedError) return new DomainError('payment_rejected', `the ERP refused: ${err.message}`, { erpStatus: err.status, ...(err.code ? { erpCode: err.code } : {}) });
    if (err instanceof ErpCapabilityError) return new DomainError('payment_rejected', err.message, { capability: err.capability });
    return err;
  }

  return {
    async list(user: AuthUser, q: { status?: CashStatus; customerId?: string; limit: number; offset: number }) {
      const scope = mayRead(user);
      const filter = { ...(q.status ? { status: q.status } : {}), ...(q.customerId ? { customerId: q.customerId } : {}), ...(scope !== undefined ? { collectorId: scope } : {}) };
      const [rows, totals] = await Promise.all([pageOfUnappliedCash(sql, tenantId, { ...filter, limit: q.limit, offset: q.offset }), unappliedCashTotals(sql, tenantId, filter)]);
      const items: CashItemView[] = [];
      for (const row of rows) items.push(view(row, (await suggestionsFor(row)).slice(0, 3)));
      return {
        total: totals.reduce((s, t) => s + t.count, 0),
        totals: totals.map((t) => ({ currency: t.currency, count: t.count, unappliedMinor: t.unapplied_minor, oldestAgeDays: t.oldest_age_days })),
        oldestAgeDays: totals.length === 0 ? null : Math.max(...totals.map((t) => t.oldest_age_days)),
        items,
      };
    },

    async get(user: AuthUser, id: number) {
      const row = await itemFor(user, id);
      const applications = await applicationsOfCash(sql, tenantId, id);
      // Each invoice's workflow as the application's last attempt to tell it found it.
      const told = (a: CashApplicationRow) => new Map(Object.entries((a.erp_result as { workflows?: Record<string, ApplicationView['invoices'][number]['workflow']> }).workflows ?? {}));
      return { ...view(row, await suggestionsFor(row)), applications: applications.map((a) => applicationView(a, told(a), false)) };
    },

    /**
     * Applies (part of) the item through the ERP. Idempotent per item and allocation set: the same allocations
     * again answer the first application (replayed: true) and apply nothing twice, also at the ERP (the same
     * Idempotency-Key goes to it). Checked first against the ERP's balances; an ERP that refuses anyway is 422
     * payment_rejected with its message; one that cannot be reached is 503 and nothing is recorded as applied.
     */
    async apply(user: AuthUser, id: number, requested: CashAllocation[]): Promise<ApplicationView> {
      const first = await itemFor(user, id);
      refuseDuplicates(requested);
      // One order for one allocation set: the key, the ERP's request (its idempotency compares the body) and the record.
      const allocations = [...requested].sort((a, b) => (a.invoiceNumber < b.invoiceNumber ? -1 : a.invoiceNumber > b.invoiceNumber ? 1 : a.amountMinor - b.amountMinor));
      const key = `cash-${tenantId}-${id}-${sha(allocations.map((a) => [a.invoiceNumber, a.amountMinor]))}`;
      const before = await cashApplication(sql, tenantId, key);
      if (before) return applicationView(before, await notifyInvoices(before, first.currency, first.received_at.toISOString()), true);
      if (first.status !== 'open') throw new DomainError('payment_conflict', `item ${id} is ${first.status === 'applied' ? 'applied in full' : `resolved as ${first.status}`}: nothing is left to apply`);
      await checkAllocations(user, first, allocations);
      const erp = requireErp();

      const recorded = await sql.begin(async (tx) => {
        // One application of an item at a time: the second waits, then sees what the first applied.
        const row = (await unappliedCashItem(tx, tenantId, id, { forUpdate: true }))!;
        const again = await cashApplication(tx, tenantId, key);
        if (again) return again;
        if (row.status !== 'open') throw new DomainError('payment_conflict', `item ${id} is ${row.status === 'applied' ? 'applied in full' : `resolved as ${row.status}`}: nothing is left to apply`);
        const total = allocations.reduce((s, a) => s + a.amountMinor, 0);
        if (total > row.amount_minor - row.applied_minor)
          throw new DomainError('invalid_amount', `the allocations add up to ${total}, more than the ${row.amount_minor - row.applied_minor} ${row.currency} still unapplied of the payment`);
        // The ERP holds an ERP payment as unapplied; a bank line is a new receipt for it, one per application
        // (the simulator's receipt is the allocations' sum), numbered so that a retry names the same one.
        const previous = (await applicationsOfCash(tx, tenantId, id)).length;
        const erpPaymentId = row.source === 'bank_statement' ? `BANK-${tenantId}-${id}-${previous + 1}` : row.payment_id;
        let answer: ErpAppliedPayment;
        try {
          answer = await erp.applyPayment({
            paymentId: erpPaymentId,
            currency: row.currency,
            allocations,
            ...(row.source === 'bank_statement' ? { receivedAt: row.received_at.toISOString() } : {}),
            idempotencyKey: key,
          });
        } catch (err) {
          throw erpRefusal(err);
        }
        const appliedMinor = answer.invoices.reduce((s, i) => s + i.appliedMinor, 0);
        await recordCashApplication(tx, tenantId, { idempotencyKey: key, cashId: id, erpPaymentId, allocations, appliedMinor, erpResult: answer, appliedBy: user.userId });
        await audit(
          { type: 'unapplied_cash_applied', eventKey: `cash-applied:${tenantId}:${key}`, actor: user.userId, details: { cashId: id, erpPaymentId, allocations, appliedMinor } },
          tx,
        );
        return (await cashApplication(tx, tenantId, key))!;
      });
      return applicationView(recorded, await notifyInvoices(recorded, first.currency, first.received_at.toISOString()), false);
    },

    /** Resolves what is left of an open item as a refund or on account; the same resolution again answers the item as it is. */
    async resolve(user: AuthUser, id: number, r: { as: 'refund' | 'on_account'; note: string }) {
      const row = await itemFor(user, id);
      if (row.status === r.as && row.resolution_note === r.note) return this.get(user, id);
      if (row.status !== 'open') throw new DomainError('payment_conflict', `item ${id} is ${row.status === 'applied' ? 'applied in full' : `resolved as ${row.status}`} already`);
      await sql.begin(async (tx) => {
        await resolveUnappliedCash(tx, tenantId, id, { as: r.as, note: r.note, by: user.userId });
        await audit(
          {
            type: 'unapplied_cash_resolved',
            eventKey: `cash-resolved:${tenantId}:${id}`,
            actor: user.userId,
            details: { cashId: id, as: r.as, note: r.note, amountMinor: row.amount_minor - row.applied_minor, currency: row.currency },
          },
          tx,
        );
      });
      return this.get(user, id);
    },

    /**
     * A bank statement (camt.053 or CSV) into the queue: every credit once by its entry id (re-uploading adds
     * nothing), the payer identified when exactly one customer bears the bank's payer name. Answers per entry.
     */
    async importStatement(user: AuthUser, content: Buffer): Promise<StatementImportResult> {
      requireRole(user, 'team_lead');
      let parsed: ParsedStatement;
      try {
        parsed = parseBankStatement(content);
      } catch (err) {
        if (err instanceof BankStatementError) throw new DomainError('validation_failed', `not a bank statement we can read: ${err.message}`, { issues: [validationIssue(['file'], 'invalid_statement', err.message)] });
        throw err;
      }
      const customers = new Map<string, string | null>();
      for (const e of parsed.entries) if (e.payerName && !customers.has(e.payerName)) customers.set(e.payerName, (await customerByName(sql, tenantId, e.payerName)) ?? null);
      const items = parsed.entries.map((e) => ({
        paymentId: e.entryId,
        customerId: e.payerName ? (customers.get(e.payerName) ?? null) : null,
        payerName: e.payerName,
        amountMinor: e.amountMinor,
        currency: e.currency,
        receivedAt: e.receivedAt,
        remittance: e.remittance,
        details: { format: parsed.format, statementId: parsed.statementId, account: parsed.account, position: e.position, bookingDate: e.bookingDate, endToEndId: e.endToEndId, bankRef: e.bankRef },
      }));
      const added = await sql.begin(async (tx) => {
        const fresh = await insertUnappliedCash(tx, tenantId, 'bank_statement', items, user.userId);
        if (fresh.size > 0)
          await audit(
            {
              type: 'bank_statement_imported',
              eventKey: `bank-statement:${tenantId}:${sha(items.map((i) => i.paymentId))}`,
              actor: user.userId,
              details: { format: parsed.format, statementId: parsed.statementId, account: parsed.account, added: fresh.size, duplicates: items.length - fresh.size, ignored: parsed.ignored.length, rejected: parsed.rejected.length },
            },
            tx,
          );
        return fresh;
      });
      const known = await cashIdsOf(sql, tenantId, 'bank_statement', items.map((i) => i.paymentId));
      const entries = items.map((i, n) => ({
        position: parsed.entries[n]!.position,
        entryId: i.paymentId,
        outcome: added.has(i.paymentId) ? ('added' as const) : ('duplicate' as const),
        id: known.get(i.paymentId) ?? null,
        amountMinor: i.amountMinor,
        currency: i.currency,
        customerId: i.customerId,
      }));
      return {
        format: parsed.format,
        statementId: parsed.statementId,
        account: parsed.account,
        entries,
        ignored: parsed.ignored,
        rejected: parsed.rejected,
        added: added.size,
        duplicates: entries.length - added.size,
      };
    },

    /**
     * A payment the ERP's webhook reports for an invoice not in dunning here (the invoice service answered it
     * 'ignored'): when the invoice is not in the ledger either, the payment is queued (source erp_webhook, once by
     * the ERP's payment id, the payer being the ERP's customer of that invoice) instead of lost: 'queued'. An
     * invoice of the ledger is the sync's to reconcile: 'ignored'.
     */
    async takeWebhookPayment(event: PaymentAppliedEvent): Promise<'queued' | 'ignored'> {
      if (await invoiceKnown(sql, tenantId, event.payment.invoiceNumber)) return 'ignored';
      const item = {
        paymentId: event.payment.paymentId,
        customerId: event.invoice.customerId,
        payerName: null,
        amountMinor: event.payment.amountMinor,
        currency: event.payment.currency,
        receivedAt: event.payment.receivedAt,
        remittance: `the ERP applied it to invoice ${event.payment.invoiceNumber}, which is neither in dunning nor in the ledger here`,
        details: { eventId: event.eventId, erpInvoiceNumber: event.payment.invoiceNumber, erpOpenAmountMinorAfter: event.invoice.openAmountMinor, erpInvoiceStatus: event.invoice.status },
      };
      await sql.begin((tx) => insertUnappliedCash(tx, tenantId, 'erp_webhook', [item], 'erp'));
      return 'queued';
    },
  };
}

export type UnappliedCashService = ReturnType<typeof createUnappliedCashService>;

/** The ERP connection when it can apply payments (the app's is typed for enrollment's balance check only). */
export function cashApplyingErp(erp: Pick<ErpAdapter, 'getInvoiceBalance'> | undefined): Pick<ErpAdapter, 'kind' | 'applyPayment' | 'getInvoiceBalance'> | undefined {
  return erp !== undefined && 'applyPayment' in erp && typeof erp.applyPayment === 'function' ? (erp as ErpAdapter) : undefined;
}
