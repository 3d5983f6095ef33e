import type { Sql } from '../db/sql';
import { convertMinor, type FxTable } from '../domain/fx';
import { minorDigits } from '../domain/money';
import { addDays, daysBetween } from '../domain/aging';
import { bucketOf, type ReportsConfig } from '../domain/reports/config';
import {
  customerAtAGlance,
  customerOfAnyInvoice,
  openCurrencies,
  pageOfCustomers,
  pageOfTimeline,
  totalsOfCustomers,
  type CustomerFilter,
  type CustomerSort,
  type FxFactors,
  type TimelineOf,
  type TimelineRow,
} from '../db/portfolio';
import { DomainError, notFound } from './errors';
import { localDay } from './worklist-service';
import { toView as toContactView } from './contacts-service';

/**
 * The portfolio views (issue 13): the customer list, one customer at a glance and the timelines. Amounts in the
 * reporting currency follow the reports' rule: each currency's sum is converted once (domain/fx.ts, half to even),
 * then the currencies are added; a customer's own open amount is its per-currency sums converted the same way in SQL
 * (migration 018's dunning_round_half_even), so that filters and sorts on it run in PostgreSQL.
 */
export interface PortfolioDeps {
  sql: Sql;
  tenantId: string;
  fx: FxTable;
  config: ReportsConfig;
  /** The clock (tests); default now. */
  now?: () => Date;
}

export interface CustomerListQuery {
  collectorId?: string;
  segment?: string;
  country?: string;
  creditHold?: boolean;
  doNotContact?: boolean;
  hasOpenDispute?: boolean;
  hasActivePromise?: boolean;
  minOpenMinor?: number;
  minDaysPastDue?: number;
  sort: CustomerSort;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

/** What one timeline entry says in a line, from its type and details. */
export function timelineSummary(type: string, d: Record<string, unknown>, invoiceNumber: string | null): string {
  const s = (k: string) => (d[k] === undefined || d[k] === null ? '' : String(d[k] as string | number));
  const money = (amountKey: string, currencyKey = 'currency') => (d[amountKey] !== undefined ? ` ${s(amountKey)} ${s(currencyKey)} (minor units)`.trimEnd() : '');
  const inv = invoiceNumber ? ` on ${invoiceNumber}` : '';
  switch (type) {
    case 'enrolled':
    case 'invoice_enrolled':
      return `Enrolled${inv} in dunning${d.cadence ? ` (cadence ${(d.cadence as { id: string }).id} v${(d.cadence as { version: number }).version})` : ''}`;
    case 'step_done':
      return `Step ${s('stepId')} (${s('action')})${inv}: ${s('outcome') || s('status') || 'done'}${d.messageId ? `, message ${s('messageId')}` : ''}`;
    case 'step_superseded':
      return `Step ${s('stepId')}${inv} superseded`;
    case 'payment_received':
    case 'payment_reported':
      return `${d.claim ? 'Payment claimed' : 'Payment'} ${s('paymentId')}${money('amountMinor')}${inv}`.replace(/\s+/g, ' ');
    case 'payment_claimed':
      return `Payment claimed${money('amountMinor')}${inv}`;
    case 'promise_made':
      return `Promise to pay${money('amountMinor')}${d.promisedDate ? ` by ${s('promisedDate')}` : ''}${inv}`;
    case 'promise_kept':
    case 'promise_partially_kept':
    case 'promise_broken':
      return `Promise ${type.slice('promise_'.length).replace('_', ' ')}${inv}`;
    case 'promise':
      return `Promise recorded${money('amountMinor')}${d.promisedDate ? ` by ${s('promisedDate')}` : ''}${inv}`;
    case 'promise_verdict':
      return `Promise ${s('status') || s('outcome') || 'evaluated'}${inv}`;
    case 'dispute_opened':
      return `Dispute ${s('disputeId')} opened${d.reasonCode ? ` (${s('reasonCode')})` : ''}${money('disputedAmountMinor')}${inv}`;
    case 'dispute_resolved_valid':
    case 'dispute_resolved_invalid':
    case 'dispute_withdrawn':
    case 'dispute_escalated':
    case 'dispute_owner_reminded':
    case 'dispute_settled':
      return `Dispute ${s('disputeId')} ${type.slice('dispute_'.length).replace(/_/g, ' ')}${inv}`;
    case 'approval_requested':
      return `Approval requested: ${s('action')}${money('amountMinor')}${inv}`;
    case 'approval_approved':
    case 'approval_rejected':
    case 'approval_cancelled':
    case 'approval_escalated':
      return `Approval ${s('requestId')} ${type.slice('approval_'.length)}${inv}`;
    case 'call_outcome':
    case 'task_completed':
      return `Call${inv}: ${s('outcome') || 'done'}${d.reached === true ? ' (reached)' : ''}${d.note ? ` - ${s('note')}` : ''}`;
    case 'task_created':
      return `Call task ${s('taskId')} created${inv}, due ${s('dueAt')}`;
    case 'note':
    case 'note_added':
      return `Note: ${s('note')}`;
    case 'paused':
    case 'pause':
    case 'pause_requested':
    case 'customer_paused':
      return `Paused${inv}${d.reason ? `: ${s('reason')}` : ''}${d.until ? ` until ${s('until')}` : ''}`;
    case 'resumed':
    case 'resume':
    case 'resume_requested':
    case 'customer_resumed':
      return `Resumed${inv}`;
    case 'customer_reassigned':
    case 'reassignment':
      return `Reassigned from ${s('from') || 'nobody'} to ${s('to')}`;
    case 'customer_credit_hold':
      return `Credit hold ${d.placed ? 'placed' : 'released'}${d.reason ? `: ${s('reason')}` : ''}`;
    case 'closed':
      return `Closed${inv}${d.reason ? `: ${s('reason')}` : ''}`;
    default:
      return `${type.replace(/_/g, ' ')}${inv}`;
  }
}

export function createPortfolioService(deps: PortfolioDeps) {
  const { sql, tenantId, fx, config } = deps;
  const today = () => localDay((deps.now ?? (() => new Date()))(), config.timeZone);
  const digits = minorDigits(fx.reportingCurrency);
  const factors: FxFactors = { [fx.reportingCurrency]: { rate: '1', shift: 0 } };
  for (const [currency, rate] of Object.entries(fx.rates)) factors[currency] = { rate, shift: digits - minorDigits(currency) };

  /** 422 no_exchange_rate for a currency of the open items that config/reporting.json cannot convert. */
  async function assertRates(collectorId: string | undefined, customerId?: string) {
    const missing = (await openCurrencies(sql, tenantId, collectorId, customerId)).filter((c) => factors[c] === undefined).sort();
    if (missing.length > 0)
      throw new DomainError(
        'no_exchange_rate',
        `no exchange rate from ${missing.join(', ')} to the reporting currency ${fx.reportingCurrency}: add it to config/reporting.json`,
        { currencies: missing },
      );
  }

  const toReporting = (byCurrency: { currency: string; openMinor: number }[]) => byCurrency.reduce((sum, c) => sum + convertMinor(c.openMinor, c.currency, fx), 0);

  function timelineEntry(r: TimelineRow) {
    return {
      at: r.at.toISOString(),
      actor: r.actor,
      source: r.source,
      type: r.type,
      invoiceNumber: r.invoice_number,
      summary: timelineSummary(r.type, r.details, r.invoice_number),
      details: r.details,
    };
  }

  async function timeline(of: TimelineOf, page: { order: 'asc' | 'desc'; limit: number; offset: number }) {
    const { rows, total } = await pageOfTimeline(sql, tenantId, of, page);
    return { total, order: page.order, limit: page.limit, offset: page.offset, items: rows.map(timelineEntry) };
  }

  return {
    today,

    async listCustomers(q: CustomerListQuery) {
      await assertRates(q.collectorId);
      const day = today();
      const filter: CustomerFilter = {
        ...(q.collectorId !== undefined ? { collectorId: q.collectorId } : {}),
        ...(q.segment !== undefined ? { segment: q.segment } : {}),
        ...(q.country !== undefined ? { country: q.country } : {}),
        ...(q.creditHold !== undefined ? { creditHold: q.creditHold } : {}),
        ...(q.doNotContact !== undefined ? { doNotContact: q.doNotContact } : {}),
        ...(q.hasOpenDispute !== undefined ? { hasOpenDispute: q.hasOpenDispute } : {}),
        ...(q.hasActivePromise !== undefined ? { hasActivePromise: q.hasActivePromise } : {}),
        ...(q.minOpenMinor !== undefined ? { minOpenMinor: q.minOpenMinor } : {}),
        // Oldest open invoice at least n days past due: due on or before today - n.
        ...(q.minDaysPastDue !== undefined ? { oldestDueOnOrBefore: addDays(day, -q.minDaysPastDue) } : {}),
      };
      const [rows, totals] = await Promise.all([
        pageOfCustomers(sql, tenantId, factors, filter, { sort: q.sort, order: q.order, limit: q.limit, offset: q.offset }),
        totalsOfCustomers(sql, tenantId, factors, filter),
      ]);
      return {
        asOf: day,
        reportingCurrency: fx.reportingCurrency,
        total: totals.count,
        totals: {
          customers: totals.count,
          openCount: totals.byCurrency.reduce((n, c) => n + c.count, 0),
          openAmountReportingMinor: toReporting(totals.byCurrency),
          byCurrency: totals.byCurrency.map((c) => ({ currency: c.currency, count: c.count, openAmountMinor: c.openMinor })),
        },
        limit: q.limit,
        offset: q.offset,
        items: rows.map((r) => ({
          customerId: r.customer_id,
          name: r.name,
          segment: r.segment,
          country: r.country,
          timeZone: r.time_zone,
          collectorId: r.collector_id,
          collectorName: r.collector_name,
          creditHold: r.credit_hold,
          doNotContact: r.do_not_contact,
          paused: r.paused,
          hasOpenDispute: r.has_open_dispute,
          hasActivePromise: r.has_active_promise,
          openCount: r.open_count,
          openAmountReportingMinor: Number(r.open_reporting_minor),
          byCurrency: r.by_currency.map((c) => ({ currency: c.currency, count: c.count, openAmountMinor: Number(c.openAmountMinor) })),
          oldestDueDate: r.oldest_due,
          oldestDaysPastDue: r.oldest_due === null ? null : daysBetween(r.oldest_due, day),
          priority: r.priority,
        })),
      };
    },

    async customer(customerId: string) {
      await assertRates(undefined, customerId);
      const found = await customerAtAGlance(sql, tenantId, customerId);
      if (!found) throw notFound(`customer ${customerId}`);
      const day = today();
      const { customer: c } = found;
      const byCurrency = new Map<string, { count: number; openMinor: number }>();
      for (const i of found.openInvoices) {
        const t = byCurrency.get(i.currency) ?? { count: 0, openMinor: 0 };
        byCurrency.set(i.currency, { count: t.count + 1, openMinor: t.openMinor + i.open_amount_minor });
      }
      const totals = [...byCurrency].sort(([a], [b]) => a.localeCompare(b)).map(([currency, t]) => ({ currency, ...t }));
      return {
        asOf: day,
        reportingCurrency: fx.reportingCurrency,
        customer: {
          customerId: c.customer_id,
          name: c.name,
          email: c.email,
          segment: c.segment,
          country: c.country,
          region: c.region,
          timeZone: c.time_zone,
          locale: c.locale,
          doNotContact: c.do_not_contact,
          creditHold: c.credit_hold,
          paused: c.paused,
          pausedUntil: c.paused_until?.toISOString() ?? null,
          pauseReason: c.pause_reason,
          cadenceOverride: c.cadence_override,
        },
        collector: c.collector_id === null ? null : { userId: c.collector_id, name: c.collector_name },
        contacts: found.contacts.map(toContactView),
        openInvoices: found.openInvoices.map((i) => {
          const daysPastDue = daysBetween(i.due_date, day);
          return {
            invoiceNumber: i.invoice_number,
            currency: i.currency,
            amountMinor: i.amount_minor,
            openAmountMinor: i.open_amount_minor,
            issueDate: i.issue_date,
            dueDate: i.due_date,
            daysPastDue,
            bucket: bucketOf(daysPastDue, config.agingBuckets),
            enrolled: i.origin === 'invoice',
            stage: i.stage,
          };
        }),
        totals: {
          openCount: found.openInvoices.length,
          openAmountReportingMinor: toReporting(totals),
          byCurrency: totals.map((t) => ({ currency: t.currency, count: t.count, openAmountMinor: t.openMinor })),
        },
        promises: found.promises.map((p) => ({
          promiseId: p.promise_id,
          invoiceNumber: p.invoice_number,
          planId: p.plan_id,
          installmentNo: p.installment_no,
          amountMinor: p.amount_minor,
          currency: p.currency,
          promisedDate: p.promised_date,
          madeBy: p.made_by,
          recordedBy: p.recorded_by,
        })),
        paymentPlans: found.plans.map((p) => ({
          planId: p.plan_id,
          currency: p.currency,
          totalMinor: p.total_minor,
          maxMissed: p.max_missed,
          createdBy: p.created_by,
          createdAt: p.created_at.toISOString(),
        })),
        disputes: found.disputes.map((d) => ({
          disputeId: d.dispute_id,
          invoiceNumber: d.invoice_number,
          disputedAmountMinor: d.disputed_amount_minor,
          currency: d.currency,
          reasonCode: d.reason_code,
          status: d.status,
          ownerTeam: d.owner_team,
          openedAt: d.opened_at.toISOString(),
          deadlineDate: d.deadline_date,
        })),
        lastContacts: found.activities.map((a) => ({
          at: a.occurred_at.toISOString(),
          actor: a.actor,
          kind: a.kind,
          invoiceNumber: a.invoice_number,
          outcome: a.outcome,
          reached: a.reached,
          note: a.note,
        })),
        nextStep: found.nextStep
          ? { invoiceNumber: found.nextStep.invoice_number, stepId: found.nextStep.next_step_id, action: found.nextStep.next_step_action, at: found.nextStep.next_step_at.toISOString() }
          : null,
        openTasks: found.tasks.map((t) => ({
          taskId: t.id,
          invoiceNumber: t.invoice_number,
          collectorId: t.collector_id,
          dueAt: t.due_at.toISOString(),
          kind: t.kind,
          note: t.note,
          priorityScore: t.priority_score,
        })),
      };
    },

    /** The customer of an invoice (enrolled or in the ledger), for access checks; undefined when unknown. */
    customerOfInvoice: (invoiceNumber: string) => customerOfAnyInvoice(sql, tenantId, invoiceNumber),

    timeline,
  };
}
export type PortfolioService = ReturnType<typeof createPortfolioService>;
