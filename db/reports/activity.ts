import type { Db } from '../sql';

/**
 * The SQL of the collection activity reports (issue 13): collector effectiveness, dispute cycle time, write-offs and
 * the cash forecast. Every answer is grouped in SQL (per person, reason, team or currency), never one row per fact.
 *
 * Periods: `start`/`end` are the instants that bound the period's days in the reporting zone (half-open), for
 * timestamps; `from`/`to` are the days themselves (inclusive), for dates (posted_on, promised_date).
 *
 * Scope: `collectorId` set keeps the facts of customers whose customers.collector_id is that user (ledger-only
 * customers, absent from customers, belong to no collector's portfolio).
 */
export interface ActivityScope {
  tenantId: string;
  collectorId: string | undefined;
}

export interface PeriodBounds {
  from: string;
  to: string;
  start: Date;
  end: Date;
}

/** The portfolio filter on a table aliased `alias` with a customer_id column. */
function portfolio(db: Db, scope: ActivityScope, alias: 'a' | 'r' | 'd' | 'w' | 'i') {
  if (scope.collectorId === undefined) return db``;
  return db`join customers sc on sc.tenant_id = ${db(alias)}.tenant_id and sc.customer_id = ${db(alias)}.customer_id and sc.collector_id = ${scope.collectorId}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Collector effectiveness
// ---------------------------------------------------------------------------------------------------------------

export interface TouchRow {
  actor: string;
  calls: number;
  notes: number;
  reached: number;
}

/** Call outcomes and notes people logged in the period (the workflow's own entries left out), per person. */
export async function touchesByActor(db: Db, scope: ActivityScope, p: PeriodBounds): Promise<TouchRow[]> {
  return db<TouchRow[]>`
    select a.actor,
           count(*) filter (where a.kind = 'call_outcome')::int as calls,
           count(*) filter (where a.kind = 'note')::int as notes,
           count(*) filter (where a.kind = 'call_outcome' and a.reached)::int as reached
    from customer_activities a ${portfolio(db, scope, 'a')}
    where a.tenant_id = ${scope.tenantId} and a.occurred_at >= ${p.start} and a.occurred_at < ${p.end}
      and a.kind in ('call_outcome', 'note') and a.actor <> 'workflow'
    group by a.actor`;
}

export interface PromisesTakenRow {
  recordedBy: string;
  currency: string;
  /** Commitments: a promise over several invoices or installments, or a payment plan, counts once. */
  promises: number;
  amountMinor: number;
}

/** Promises and plans recorded in the period (not those taken back: cancelled), per person who recorded them and currency. */
export async function promisesTaken(db: Db, scope: ActivityScope, p: PeriodBounds): Promise<PromisesTakenRow[]> {
  return db<PromisesTakenRow[]>`
    select r.recorded_by as "recordedBy", r.currency,
           count(distinct case when r.plan_id is not null then 'plan:' || r.plan_id
                               when r.installment_no is null then 'promise:' || r.promise_id
                               else 'promise:' || regexp_replace(r.promise_id, '-[0-9]+$', '') end)::int as promises,
           sum(r.amount_minor)::int8 as "amountMinor"
    from promises r ${portfolio(db, scope, 'r')}
    where r.tenant_id = ${scope.tenantId} and r.created_at >= ${p.start} and r.created_at < ${p.end} and r.status <> 'cancelled'
    group by r.recorded_by, r.currency`;
}

export interface PromiseVerdictRow {
  recordedBy: string;
  currency: string;
  kept: number;
  partiallyKept: number;
  broken: number;
  /** The amounts promised of the evaluated rows. */
  promisedMinor: number;
  /** What was paid against them, each row's payment counted up to its amount. */
  paidMinor: number;
}

/** Promise rows (one per installment and invoice) due in the period and evaluated (kept, partially kept, broken). */
export async function promiseVerdicts(db: Db, scope: ActivityScope, p: PeriodBounds): Promise<PromiseVerdictRow[]> {
  return db<PromiseVerdictRow[]>`
    select r.recorded_by as "recordedBy", r.currency,
           count(*) filter (where r.status = 'kept')::int as kept,
           count(*) filter (where r.status = 'partially_kept')::int as "partiallyKept",
           count(*) filter (where r.status = 'broken')::int as broken,
           sum(r.amount_minor)::int8 as "promisedMinor",
           sum(least(coalesce(r.paid_minor, 0), r.amount_minor))::int8 as "paidMinor"
    from promises r ${portfolio(db, scope, 'r')}
    where r.tenant_id = ${scope.tenantId} and r.promised_date between ${p.from}::date and ${p.to}::date
      and r.status in ('kept', 'partially_kept', 'broken')
    group by r.recorded_by, r.currency`;
}

export interface CollectedRow {
  /** customers.collector_id now; null: no collector (or a ledger-only customer). */
  collectorId: string | null;
  currency: string;
  amountMinor: number;
}

/**
 * Money received in the period on the invoices of each portfolio: dated payments (ERP webhook, ledger postings) and
 * the positive observed postings (balance decreases no dated posting explains), posted on a day of the period.
 */
export async function collectedByPortfolio(db: Db, scope: ActivityScope, p: PeriodBounds): Promise<CollectedRow[]> {
  return db<CollectedRow[]>`
    select c.collector_id as "collectorId", i.currency, sum(pp.amount_minor)::int8 as "amountMinor"
    from ar_postings pp
    join ar_items i on i.tenant_id = pp.tenant_id and i.invoice_number = pp.invoice_number
    ${scope.collectorId === undefined ? db`left join` : db`join`} customers c on c.tenant_id = i.tenant_id and c.customer_id = i.customer_id
      ${scope.collectorId === undefined ? db`` : db`and c.collector_id = ${scope.collectorId}`}
    where pp.tenant_id = ${scope.tenantId} and pp.posted_on between ${p.from}::date and ${p.to}::date
      and (pp.kind = 'payment' or (pp.kind = 'observed' and pp.amount_minor > 0))
    group by c.collector_id, i.currency`;
}

/** The names of the tenant's users among `ids` (a person who left keeps their id in the report, without a name). */
export async function userNames(db: Db, tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db<{ userId: string; name: string }[]>`
    select user_id as "userId", name from users where tenant_id = ${tenantId} and user_id = any(${ids as string[]})`;
  return new Map(rows.map((r) => [r.userId, r.name]));
}

// ---------------------------------------------------------------------------------------------------------------
// Disputes
// ---------------------------------------------------------------------------------------------------------------

export interface DisputeCycleRow {
  /** Which grouping the row is: by reason code, by owner team, or all. */
  dimension: 'reason' | 'team' | 'total';
  key: string | null;
  opened: number;
  resolved: number;
  resolvedValid: number;
  resolvedInvalid: number;
  withdrawn: number;
  /** Of the disputes resolved in the period: the sum of their cycle times, and the lower and upper middle ones (microseconds, as text). */
  sumMicros: string | null;
  lowerMedianMicros: string | null;
  upperMedianMicros: string | null;
  openAtEnd: number;
  overdueAtEnd: number;
}

/**
 * Disputes opened in the period, resolved in the period (any outcome: valid, invalid, withdrawn) with their cycle
 * time (resolved_at - opened_at), and those open at `cutoff` (the period's end, or now if earlier) and, of those, the
 * ones past their deadline then; by reason code, by owner team and in all (one grouped query).
 */
export async function disputeCycle(db: Db, scope: ActivityScope, p: PeriodBounds, cutoff: Date): Promise<DisputeCycleRow[]> {
  return db<DisputeCycleRow[]>`
    with x as (
      select d.reason_code, d.owner_team, d.status, d.opened_at, d.resolved_at, d.deadline_at,
             (d.opened_at >= ${p.start} and d.opened_at < ${p.end}) as opened_in,
             coalesce(d.resolved_at >= ${p.start} and d.resolved_at < ${p.end}, false) as resolved_in,
             (extract(epoch from d.resolved_at - d.opened_at) * 1000000)::int8 as micros
      from disputes d ${portfolio(db, scope, 'd')}
      where d.tenant_id = ${scope.tenantId} and d.opened_at < ${p.end} and (d.resolved_at is null or d.resolved_at >= ${p.start})
    )
    select case when grouping(x.reason_code) = 0 then 'reason' when grouping(x.owner_team) = 0 then 'team' else 'total' end as dimension,
           case when grouping(x.reason_code) = 0 then x.reason_code when grouping(x.owner_team) = 0 then x.owner_team end as key,
           count(*) filter (where x.opened_in)::int as opened,
           count(*) filter (where x.resolved_in)::int as resolved,
           count(*) filter (where x.resolved_in and x.status = 'resolved_valid')::int as "resolvedValid",
           count(*) filter (where x.resolved_in and x.status = 'resolved_invalid')::int as "resolvedInvalid",
           count(*) filter (where x.resolved_in and x.status = 'withdrawn')::int as withdrawn,
           (sum(x.micros) filter (where x.resolved_in))::text as "sumMicros",
           (percentile_disc(0.5) within group (order by x.micros) filter (where x.resolved_in))::text as "lowerMedianMicros",
           (percentile_disc(0.5) within group (order by x.micros desc) filter (where x.resolved_in))::text as "upperMedianMicros",
           count(*) filter (where x.opened_at < ${cutoff} and (x.resolved_at is null or x.resolved_at >= ${cutoff}))::int as "openAtEnd",
           count(*) filter (where x.opened_at < ${cutoff} and (x.resolved_at is null or x.resolved_at >= ${cutoff}) and x.deadline_at <= ${cutoff})::int as "overdueAtEnd"
    from x
    group by grouping sets ((x.reason_code), (x.owner_team), ())`;
}

// ---------------------------------------------------------------------------------------------------------------
// Write-offs
// ---------------------------------------------------------------------------------------------------------------

export interface WriteOffRow {
  dimension: 'reason' | 'approver' | 'total';
  key: string | null;
  currency: string;
  count: number;
  amountMinor: number;
  /** The sum of the reporting amounts stored with each request (converted when it was requested). */
  reportingMinor: number;
}

/** Approved write-off requests decided in the period, per currency: by reason, by approver (decided_by) and in all. */
export async function writeOffs(db: Db, scope: ActivityScope, p: PeriodBounds): Promise<WriteOffRow[]> {
  return db<WriteOffRow[]>`
    select case when grouping(w.reason) = 0 then 'reason' when grouping(w.decided_by) = 0 then 'approver' else 'total' end as dimension,
           case when grouping(w.reason) = 0 then w.reason when grouping(w.decided_by) = 0 then w.decided_by end as key,
           w.currency::text as currency, count(*)::int as count,
           sum(w.amount_minor)::int8 as "amountMinor", sum(w.amount_reporting_minor)::int8 as "reportingMinor"
    from approval_requests w ${portfolio(db, scope, 'w')}
    where w.tenant_id = ${scope.tenantId} and w.action = 'write_off' and w.status = 'approved'
      and w.decided_at >= ${p.start} and w.decided_at < ${p.end}
    group by grouping sets ((w.reason, w.currency), (w.decided_by, w.currency), (w.currency))`;
}

// ---------------------------------------------------------------------------------------------------------------
// Cash forecast
// ---------------------------------------------------------------------------------------------------------------

export interface ForecastCellRow {
  /** promised: open promises and plan installments; due: the rest of an item not yet due; overdue: the rest of a past-due item. */
  kind: 'promised' | 'due' | 'overdue';
  /** 0 for overdue; 1..weeks the forecast week; weeks + 1 after the horizon. */
  week: number;
  currency: string;
  amountMinor: number;
}

/**
 * The open items at `asOf` (the open amount at that day) split into what open promises cover and the rest, and summed
 * per week of the horizon (weeks from `monday`, the Monday of asOf's week) and currency.
 *
 * - A promise row is open at asOf when recorded by the end of asOf (`dayEnd`) and open now or evaluated after that.
 *   Its amount counts up to what of the invoice's open amount the invoice's earlier promises left (in promised-date
 *   order), in the week of its promised date; dated before asOf (not yet evaluated), in week 1.
 * - The rest of each item falls on its due date when that is on or after asOf (not yet due), else in the overdue line.
 */
export async function forecastCells(
  db: Db,
  scope: ActivityScope,
  q: { asOf: string; dayEnd: Date; monday: string; weeks: number },
): Promise<ForecastCellRow[]> {
  const after = q.weeks + 1;
  return db<ForecastCellRow[]>`
    with later as (
      select pp.invoice_number, sum(pp.amount_minor) as later_minor from ar_postings pp
      where pp.tenant_id = ${scope.tenantId} and pp.posted_on > ${q.asOf}::date
      group by pp.invoice_number
    ), open_items as (
      -- amount - postings on or before asOf, written as what is open now + the postings after asOf (as the aging does).
      select i.invoice_number, i.currency, i.due_date, i.open_amount_minor + coalesce(l.later_minor, 0) as open_minor
      from ar_items i ${portfolio(db, scope, 'i')}
      left join later l on l.invoice_number = i.invoice_number
      where i.tenant_id = ${scope.tenantId} and i.issue_date <= ${q.asOf}::date and (i.settled_on is null or i.settled_on > ${q.asOf}::date)
    ), promised as (
      select r.invoice_number, r.promised_date, r.amount_minor,
             sum(r.amount_minor) over (partition by r.invoice_number order by r.promised_date, r.promise_id) as through
      from promises r join open_items o on o.invoice_number = r.invoice_number
      where r.tenant_id = ${scope.tenantId} and r.created_at < ${q.dayEnd} and (r.status = 'open' or r.evaluated_at >= ${q.dayEnd})
    ), covered as (
      select p.invoice_number, o.currency, p.promised_date,
             least(p.amount_minor, greatest(o.open_minor - (p.through - p.amount_minor), 0)) as amount
      from promised p join open_items o on o.invoice_number = p.invoice_number
    ), covered_per_invoice as (
      select c.invoice_number, sum(c.amount) as amount from covered c group by c.invoice_number
    ), rest as (
      select o.currency, o.due_date, o.open_minor - coalesce(ci.amount, 0) as amount
      from open_items o left join covered_per_invoice ci on ci.invoice_number = o.invoice_number
    )
    select 'promised' as kind, c.currency::text as currency,
           least(greatest((c.promised_date - ${q.monday}::date) / 7 + 1, 1), ${after}::int) as week,
           sum(c.amount)::int8 as "amountMinor"
    from covered c where c.amount > 0 group by 1, 2, 3
    union all
    select case when r.due_date < ${q.asOf}::date then 'overdue' else 'due' end, r.currency::text,
           case when r.due_date < ${q.asOf}::date then 0 else least((r.due_date - ${q.monday}::date) / 7 + 1, ${after}::int) end,
           sum(r.amount)::int8
    from rest r where r.amount > 0 group by 1, 2, 3`;
}
