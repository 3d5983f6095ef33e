import type { Db, Sql } from './sql';
import { TERMINAL_STAGES } from '../domain/stages';
import { appendAuditEvent } from './audit-events';
import { contactsOfCustomer } from './customers';

/**
 * The portfolio views (issue 13): the customer list with its open amounts, one customer at a glance, and the
 * timelines (audit trail + customer activities). Open amounts come from ar_items (migration 017: open now is
 * `settled_on is null`), so that a customer's ledger-only invoices count as well as the enrolled ones.
 */

declare module './audit-events' {
  interface AuditDetailsByType {
    /** The customer's account went on credit hold in the ERP (placed: true) or came off it (placed: false). */
    customer_credit_hold: { customerId: string; placed: boolean; reason: string; idempotencyKey: string };
  }
}

/**
 * Per currency, the factor that turns a sum of minor units into reporting minor units before rounding (rate x
 * 10^(digits(reporting) - digits(currency)), exactly as domain/fx.ts convertMinor), as SQL reads it.
 */
export type FxFactors = Record<string, { rate: string; shift: number }>;

export type CustomerSort = 'openAmount' | 'oldestPastDue' | 'priority' | 'name';

export interface CustomerFilter {
  /** The portfolio (a collector's) or a manager's collector filter. */
  collectorId?: string;
  segment?: string;
  country?: string;
  creditHold?: boolean;
  doNotContact?: boolean;
  hasOpenDispute?: boolean;
  hasActivePromise?: boolean;
  /** Open amount in reporting minor units at least this. */
  minOpenMinor?: number;
  /** The oldest open invoice due on or before this day (today - minDaysPastDue). */
  oldestDueOnOrBefore?: string;
}

export interface CustomerListRow {
  customer_id: string;
  name: string;
  segment: string;
  country: string | null;
  time_zone: string;
  collector_id: string | null;
  collector_name: string | null;
  credit_hold: boolean;
  do_not_contact: boolean;
  paused: boolean;
  open_count: number;
  open_reporting_minor: string;
  oldest_due: string | null;
  by_currency: { currency: string; count: number; openAmountMinor: number }[];
  priority: number | null;
  has_open_dispute: boolean;
  has_active_promise: boolean;
}

/** The currencies of the open items (in the scope) that have no factor: the caller refuses them. */
export async function openCurrencies(db: Db, tenantId: string, collectorId: string | undefined, customerId?: string): Promise<string[]> {
  const rows = await db<{ currency: string }[]>`
    select distinct a.currency from ar_items a
    ${collectorId !== undefined || customerId !== undefined ? db`join customers c on c.tenant_id = a.tenant_id and c.customer_id = a.customer_id` : db``}
    where a.tenant_id = ${tenantId} and a.settled_on is null
      ${collectorId !== undefined ? db`and c.collector_id = ${collectorId}` : db``}
      ${customerId !== undefined ? db`and c.customer_id = ${customerId}` : db``}`;
  return rows.map((r) => r.currency);
}

/** The filtered customers with their open figures, as a CTE `filtered` (the list and its totals read it). */
function filteredCustomers(db: Db, tenantId: string, fx: FxFactors, f: CustomerFilter) {
  return db`
    fx as (select key as currency, (value->>'rate')::numeric * (10::numeric ^ (value->>'shift')::int) as factor
           from jsonb_each(${db.json(fx as never)}::jsonb)),
    open_cur as (
      select a.customer_id, a.currency, count(*)::int as n, sum(a.open_amount_minor) as open_minor, min(a.due_date) as oldest_due
      from ar_items a
      where a.tenant_id = ${tenantId} and a.settled_on is null
        ${f.collectorId !== undefined ? db`and a.customer_id in (select customer_id from customers where tenant_id = ${tenantId} and collector_id = ${f.collectorId})` : db``}
      group by a.customer_id, a.currency
    ),
    per_customer as (
      select o.customer_id, sum(o.n)::int as open_count, sum(dunning_round_half_even(o.open_minor * fx.factor)) as open_reporting,
             min(o.oldest_due) as oldest_due,
             jsonb_agg(jsonb_build_object('currency', o.currency, 'count', o.n, 'openAmountMinor', o.open_minor) order by o.currency) as by_currency
      from open_cur o join fx on fx.currency = o.currency
      group by o.customer_id
    ),
    filtered as (
      select c.customer_id, c.name, c.segment, c.country, c.time_zone, c.collector_id, u.name as collector_name,
             c.credit_hold, c.do_not_contact, c.paused,
             coalesce(p.open_count, 0) as open_count, coalesce(p.open_reporting, 0) as open_reporting, p.oldest_due,
             coalesce(p.by_currency, '[]'::jsonb) as by_currency,
             t.priority, d.customer_id is not null as has_open_dispute, pr.customer_id is not null as has_active_promise
      from customers c
      left join per_customer p on p.customer_id = c.customer_id
      left join users u on u.tenant_id = c.tenant_id and u.user_id = c.collector_id
      left join (select customer_id, max(priority_score) as priority from call_tasks
                 where tenant_id = ${tenantId} and status = 'open' group by customer_id) t on t.customer_id = c.customer_id
      left join (select distinct customer_id from disputes where tenant_id = ${tenantId} and status in ('open', 'escalated')) d on d.customer_id = c.customer_id
      left join (select distinct customer_id from promises where tenant_id = ${tenantId} and status = 'open') pr on pr.customer_id = c.customer_id
      where c.tenant_id = ${tenantId}
        ${f.collectorId !== undefined ? db`and c.collector_id = ${f.collectorId}` : db``}
        ${f.segment !== undefined ? db`and c.segment = ${f.segment}` : db``}
        ${f.country !== undefined ? db`and c.country = ${f.country}` : db``}
        ${f.creditHold !== undefined ? db`and c.credit_hold = ${f.creditHold}` : db``}
        ${f.doNotContact !== undefined ? db`and c.do_not_contact = ${f.doNotContact}` : db``}
        ${f.minOpenMinor !== undefined ? db`and coalesce(p.open_reporting, 0) >= ${f.minOpenMinor}` : db``}
        ${f.oldestDueOnOrBefore !== undefined ? db`and p.oldest_due <= ${f.oldestDueOnOrBefore}::date` : db``}
    ),
    selected as (
      select * from filtered
      where true
        ${f.hasOpenDispute !== undefined ? db`and has_open_dispute = ${f.hasOpenDispute}` : db``}
        ${f.hasActivePromise !== undefined ? db`and has_active_promise = ${f.hasActivePromise}` : db``}
    )`;
}

const ORDER: Record<CustomerSort, { asc: string; desc: string }> = {
  // Ties: by customer id, so that offset paging is stable.
  openAmount: { asc: 'open_reporting asc, customer_id asc', desc: 'open_reporting desc, customer_id asc' },
  // Oldest past due = the earliest due date of an open invoice; customers with nothing open last either way.
  oldestPastDue: { asc: 'oldest_due desc nulls last, customer_id asc', desc: 'oldest_due asc nulls last, customer_id asc' },
  priority: { asc: 'priority asc nulls last, customer_id asc', desc: 'priority desc nulls last, customer_id asc' },
  name: { asc: 'name asc, customer_id asc', desc: 'name desc, customer_id asc' },
};

/** A page of the customer list. */
export async function pageOfCustomers(
  db: Db,
  tenantId: string,
  fx: FxFactors,
  f: CustomerFilter,
  page: { sort: CustomerSort; order: 'asc' | 'desc'; limit: number; offset: number },
): Promise<CustomerListRow[]> {
  return db<CustomerListRow[]>`
    with ${filteredCustomers(db, tenantId, fx, f)}
    select customer_id, name, segment, country, time_zone, collector_id, collector_name, credit_hold, do_not_contact, paused,
           open_count, open_reporting::text as open_reporting_minor, to_char(oldest_due, 'YYYY-MM-DD') as oldest_due, by_currency,
           priority, has_open_dispute, has_active_promise
    from selected
    order by ${db.unsafe(ORDER[page.sort][page.order])}
    limit ${page.limit} offset ${page.offset}`;
}

/** The totals of the filtered customers: how many, and their open amounts per currency (each currency's sum). */
export async function totalsOfCustomers(
  db: Db,
  tenantId: string,
  fx: FxFactors,
  f: CustomerFilter,
): Promise<{ count: number; byCurrency: { currency: string; count: number; openMinor: number }[] }> {
  const rows = await db<{ customers: number; currency: string | null; n: number | null; open_minor: string | null }[]>`
    with ${filteredCustomers(db, tenantId, fx, f)},
    by_currency as (
      select o.currency, sum(o.n)::int as n, sum(o.open_minor)::text as open_minor
      from open_cur o join selected s on s.customer_id = o.customer_id
      group by o.currency
    )
    select (select count(*)::int from selected) as customers, b.currency, b.n, b.open_minor
    from (select 1) one left join by_currency b on true
    order by b.currency`;
  return {
    count: rows[0]?.customers ?? 0,
    byCurrency: rows.filter((r) => r.currency !== null).map((r) => ({ currency: r.currency!, count: r.n ?? 0, openMinor: Number(r.open_minor) })),
  };
}

// ------------------------------------------------------------------------------------------------ one customer

export interface CustomerRow {
  customer_id: string;
  name: string;
  email: string;
  segment: string;
  country: string | null;
  region: string | null;
  time_zone: string;
  locale: string;
  do_not_contact: boolean;
  credit_hold: boolean;
  paused: boolean;
  paused_until: Date | null;
  pause_reason: string | null;
  collector_id: string | null;
  collector_name: string | null;
  cadence_override: string | null;
}

export async function customerAtAGlance(db: Db, tenantId: string, customerId: string) {
  const [customer] = await db<CustomerRow[]>`
    select c.customer_id, c.name, c.email, c.segment, c.country, c.region, c.time_zone, c.locale, c.do_not_contact, c.credit_hold,
           c.paused, c.paused_until, c.pause_reason, c.collector_id, u.name as collector_name, c.cadence_override
    from customers c left join users u on u.tenant_id = c.tenant_id and u.user_id = c.collector_id
    where c.tenant_id = ${tenantId} and c.customer_id = ${customerId}`;
  if (!customer) return undefined;
  const [contacts, openInvoices, promises, plans, disputes, activities, nextStep, tasks] = await Promise.all([
    contactsOfCustomer(db, tenantId, customerId),
    db<{ invoice_number: string; currency: string; amount_minor: number; open_amount_minor: number; issue_date: string; due_date: string; origin: string; stage: string | null }[]>`
      select a.invoice_number, a.currency, a.amount_minor, a.open_amount_minor, to_char(a.issue_date, 'YYYY-MM-DD') as issue_date,
             to_char(a.due_date, 'YYYY-MM-DD') as due_date, a.origin, i.stage
      from ar_items a left join invoices i on i.tenant_id = a.tenant_id and i.invoice_number = a.invoice_number
      where a.tenant_id = ${tenantId} and a.customer_id = ${customerId} and a.settled_on is null
      order by a.due_date, a.invoice_number`,
    db<{ promise_id: string; invoice_number: string; plan_id: string | null; installment_no: number | null; amount_minor: number; currency: string; promised_date: string; made_by: string; recorded_by: string }[]>`
      select promise_id, invoice_number, plan_id, installment_no, amount_minor, currency, to_char(promised_date, 'YYYY-MM-DD') as promised_date, made_by, recorded_by
      from promises where tenant_id = ${tenantId} and customer_id = ${customerId} and status = 'open'
      order by promised_date, promise_id, invoice_number`,
    db<{ plan_id: string; currency: string; total_minor: number; max_missed: number; created_by: string; created_at: Date }[]>`
      select plan_id, currency, total_minor, max_missed, created_by, created_at
      from payment_plans where tenant_id = ${tenantId} and customer_id = ${customerId} and status = 'active'
      order by created_at, plan_id`,
    db<{ dispute_id: string; invoice_number: string; disputed_amount_minor: number; currency: string; reason_code: string; status: string; owner_team: string; opened_at: Date; deadline_date: string }[]>`
      select dispute_id, invoice_number, disputed_amount_minor, currency, reason_code, status, owner_team, opened_at, to_char(deadline_date, 'YYYY-MM-DD') as deadline_date
      from disputes where tenant_id = ${tenantId} and customer_id = ${customerId} and status in ('open', 'escalated')
      order by opened_at, dispute_id`,
    db<{ id: number; occurred_at: Date; actor: string; kind: string; invoice_number: string | null; outcome: string | null; reached: boolean; note: string }[]>`
      select id, occurred_at, actor, kind, invoice_number, outcome, reached, note
      from customer_activities where tenant_id = ${tenantId} and customer_id = ${customerId}
      order by occurred_at desc, id desc limit 10`,
    db<{ invoice_number: string; next_step_id: string; next_step_action: string | null; next_step_at: Date }[]>`
      select invoice_number, next_step_id, next_step_action, next_step_at
      from invoices where tenant_id = ${tenantId} and customer_id = ${customerId} and next_step_at is not null
        and stage <> all(${TERMINAL_STAGES as string[]})
      order by next_step_at, invoice_number limit 1`,
    db<{ id: number; invoice_number: string; collector_id: string | null; due_at: Date; kind: string; note: string; priority_score: number }[]>`
      select id, invoice_number, collector_id, due_at, kind, note, priority_score
      from call_tasks where tenant_id = ${tenantId} and customer_id = ${customerId} and status = 'open'
      order by due_at, id`,
  ]);
  return { customer, contacts, openInvoices, promises, plans, disputes, activities, nextStep: nextStep[0], tasks };
}

// ------------------------------------------------------------------------------------------------ timelines

export interface TimelineRow {
  source: 'audit' | 'activity';
  id: number;
  at: Date;
  actor: string;
  type: string;
  invoice_number: string | null;
  details: Record<string, unknown>;
}

export type TimelineOf = { invoiceNumber: string } | { customerId: string };

function timelineRows(db: Db, tenantId: string, of: TimelineOf) {
  if ('invoiceNumber' in of)
    return db`
      select 'audit' as source, e.id, e.occurred_at as at, e.actor, e.event_type as type, e.invoice_number, e.details
      from audit_events e where e.tenant_id = ${tenantId} and e.invoice_number = ${of.invoiceNumber}
      union all
      select 'activity', a.id, a.occurred_at, a.actor, a.kind, a.invoice_number,
             a.details || jsonb_build_object('outcome', a.outcome, 'reached', a.reached, 'note', a.note, 'taskId', a.task_id)
      from customer_activities a where a.tenant_id = ${tenantId} and a.invoice_number = ${of.invoiceNumber}`;
  return db`
    select 'audit' as source, e.id, e.occurred_at as at, e.actor, e.event_type as type, e.invoice_number, e.details
    from audit_events e
    where e.tenant_id = ${tenantId}
      and e.invoice_number in (select invoice_number from invoices where tenant_id = ${tenantId} and customer_id = ${of.customerId}
                               union select invoice_number from ar_items where tenant_id = ${tenantId} and customer_id = ${of.customerId})
    union all
    select 'audit', e.id, e.occurred_at, e.actor, e.event_type, e.invoice_number, e.details
    from audit_events e
    where e.tenant_id = ${tenantId} and e.invoice_number is null and e.details->>'customerId' = ${of.customerId}
    union all
    select 'activity', a.id, a.occurred_at, a.actor, a.kind, a.invoice_number,
           a.details || jsonb_build_object('outcome', a.outcome, 'reached', a.reached, 'note', a.note, 'taskId', a.task_id)
    from customer_activities a where a.tenant_id = ${tenantId} and a.customer_id = ${of.customerId}`;
}

/** A page of the timeline, oldest first (or newest first), and how many entries it has in all. */
export async function pageOfTimeline(
  db: Db,
  tenantId: string,
  of: TimelineOf,
  page: { order: 'asc' | 'desc'; limit: number; offset: number },
): Promise<{ rows: TimelineRow[]; total: number }> {
  const order = page.order === 'desc' ? db`order by at desc, source desc, id desc` : db`order by at, source, id`;
  const [rows, [count]] = await Promise.all([
    // A step's mail: its outbound message (message id, status, recipient, subject), found by (invoice, step) for the page's rows only.
    db<TimelineRow[]>`
      select p.source, p.id, p.at, p.actor, p.type, p.invoice_number,
             case when m.message_id is null then p.details
                  else p.details || jsonb_build_object('messageId', m.message_id, 'messageStatus', m.status, 'recipient', m.recipient, 'subject', m.subject) end as details
      from (select * from (${timelineRows(db, tenantId, of)}) t ${order} limit ${page.limit} offset ${page.offset}) p
      left join lateral (
        select o.message_id, o.status, o.recipient, o.subject from outbound_messages o
        where p.type = 'step_done' and p.source = 'audit' and o.tenant_id = ${tenantId} and o.invoice_numbers @> array[p.invoice_number]
          and exists (select 1 from unnest(o.invoice_numbers, o.step_ids) as u(inv, step) where u.inv = p.invoice_number and u.step = p.details->>'stepId')
        order by o.created_at limit 1
      ) m on true
      ${page.order === 'desc' ? db`order by p.at desc, p.source desc, p.id desc` : db`order by p.at, p.source, p.id`}`,
    db<{ n: number }[]>`select count(*)::int as n from (${timelineRows(db, tenantId, of)}) t`,
  ]);
  return { rows, total: count!.n };
}

/** The customer of an enrolled or ledger invoice, undefined when the tenant has neither. */
export async function customerOfAnyInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<string | undefined> {
  const [row] = await db<{ customer_id: string }[]>`
    select customer_id from invoices where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}
    union all
    select customer_id from ar_items where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}
    limit 1`;
  return row?.customer_id;
}

// ------------------------------------------------------------------------------------------------ credit hold

/**
 * The ERP placed or lifted the customer's credit hold: the flag follows, and the trail says so once per request
 * key (a retried activity writes nothing twice). A customer the product does not know (ledger-only) has no row: nothing
 * to flag. Returns whether the flag changed.
 */
export async function setCustomerCreditHold(
  db: Sql,
  change: { tenantId: string; customerId: string; placed: boolean; reason: string; idempotencyKey: string; actor?: string },
): Promise<boolean> {
  return db.begin(async (tx) => {
    const rows = await tx`
      update customers set credit_hold = ${change.placed}, updated_at = now()
      where tenant_id = ${change.tenantId} and customer_id = ${change.customerId} and credit_hold <> ${change.placed}
      returning customer_id`;
    await appendAuditEvent(tx, {
      eventKey: `credit-hold:${change.placed ? 'placed' : 'released'}:${change.idempotencyKey}`,
      tenantId: change.tenantId,
      actor: change.actor ?? 'workflow',
      type: 'customer_credit_hold',
      details: { customerId: change.customerId, placed: change.placed, reason: change.reason, idempotencyKey: change.idempotencyKey },
    });
    return rows.length > 0;
  });
}
