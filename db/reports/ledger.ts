import type { Db } from '../sql';

/**
 * The SQL of the ledger reports (issue 13: aging, DSO, CEI) over ar_items and ar_postings (migration 017).
 *
 * An item is OPEN at D when `issue_date <= D and (settled_on is null or settled_on > D)`; its open amount at D is
 * `amount_minor - sum(postings posted on or before D)`, computed as the equal `open_amount_minor + sum(postings posted
 * after D)` (ar_items.open_amount_minor is the amount minus all its postings): the postings after D are few for a
 * recent D (an index range on ar_postings_posted, hashed by invoice), where reading each open item's postings up to D
 * costs an index probe per open item (measured: about twice the time over 1,000,000 invoices). The open set is found
 * from ar_items alone, and every answer is grouped in SQL: per currency, bucket and group key, never one row per
 * invoice.
 *
 * Scope: `collectorId` set keeps the customers whose customers.collector_id is that user (ledger-only customers,
 * absent from customers, belong to no collector's portfolio).
 */
export interface LedgerScope {
  tenantId: string;
  collectorId: string | undefined;
}

export type AgingGroupBy = 'customer' | 'collector' | 'segment' | 'currency' | 'none';

export interface AgingCellRow {
  key: string;
  name: string | null;
  currency: string;
  /** 0 = current (days past due <= 0), i = the i-th past-due bucket (bounds[i-1] is its upper bound), last = over the last bound. */
  bucket: number;
  count: number;
  openMinor: number;
}

/** The open items at `asOf` summed per group key, currency and aging bucket (upper bounds `bounds`, days past due). */
export async function agingCells(
  db: Db,
  scope: LedgerScope,
  q: { asOf: string; bounds: readonly number[]; groupBy: AgingGroupBy; currency?: string | undefined },
): Promise<AgingCellRow[]> {
  const { tenantId, collectorId } = scope;
  // Per customer first (a few thousand rows at most), then the group key from the customer's row.
  const key =
    q.groupBy === 'customer'
      ? db`s.customer_id`
      : q.groupBy === 'collector'
        ? db`coalesce(c.collector_id, 'unassigned')`
        : q.groupBy === 'segment'
          ? db`coalesce(c.segment, 'unassigned')`
          : q.groupBy === 'currency'
            ? db`s.currency`
            : db`'all'`;
  const name =
    q.groupBy === 'customer'
      ? db`max(coalesce(c.name, lc.name))`
      : q.groupBy === 'collector'
        ? db`max(u.name)`
        : db`null::text`;
  return db<AgingCellRow[]>`
    with open_items as (
      select i.invoice_number, i.customer_id, i.currency, i.due_date, i.open_amount_minor
      from ar_items i
      ${collectorId !== undefined ? db`join customers sc on sc.tenant_id = i.tenant_id and sc.customer_id = i.customer_id and sc.collector_id = ${collectorId}` : db``}
      where i.tenant_id = ${tenantId} and i.issue_date <= ${q.asOf}::date and (i.settled_on is null or i.settled_on > ${q.asOf}::date)
        ${q.currency !== undefined ? db`and i.currency = ${q.currency}` : db``}
    ), later as (
      -- Only the open items' postings after D (at an old D, every posting after it would be most of the table).
      select p.invoice_number, sum(p.amount_minor) as later_minor
      from ar_postings p join open_items o on o.invoice_number = p.invoice_number
      where p.tenant_id = ${tenantId} and p.posted_on > ${q.asOf}::date
      group by p.invoice_number
    ), per_customer as (
      select o.customer_id, o.currency,
             case when ${q.asOf}::date - o.due_date <= 0 then 0
                  else 1 + width_bucket(${q.asOf}::date - o.due_date - 1, ${q.bounds as number[]}::int[]) end as bucket,
             count(*) as n,
             sum(o.open_amount_minor + coalesce(l.later_minor, 0)) as open_minor
      from open_items o
      left join later l on l.invoice_number = o.invoice_number
      group by 1, 2, 3
    )
    select ${key} as key, ${name} as name, s.currency, s.bucket::int as bucket, sum(s.n)::int as count, sum(s.open_minor)::bigint as "openMinor"
    from per_customer s
    left join customers c on c.tenant_id = ${tenantId} and c.customer_id = s.customer_id
    ${q.groupBy === 'customer' ? db`left join ledger_customers lc on lc.tenant_id = ${tenantId} and lc.customer_id = s.customer_id` : db``}
    ${q.groupBy === 'collector' ? db`left join users u on u.tenant_id = ${tenantId} and u.user_id = c.collector_id` : db``}
    group by 1, s.currency, s.bucket`;
}

export interface OpenArRow {
  /** The day (YYYY-MM-DD). */
  day: string;
  currency: string;
  count: number;
  openMinor: number;
  /** Of which not yet due at that day (due_date >= day: the aging's current bucket). */
  currentMinor: number;
}

/**
 * The open AR at each of `dates`, per currency, with its current (not past due) part. One or two days: a query per day,
 * each finding its open set through the settled_on / open-due indexes. More (a CEI over months): one query reading
 * the items open at any of the days and the postings after the first once, then matching them to each day (over
 * 1,000,000 invoices, 13 month ends took 1.7 s this way against 6.6 s as 13 queries; a single query over two days is
 * slower than two, as it scans every item issued before each day).
 */
export async function openArAt(db: Db, scope: LedgerScope, dates: readonly string[]): Promise<OpenArRow[]> {
  const days = [...new Set(dates)].sort();
  if (days.length > 2) return openArAcross(db, scope, days);
  const perDay = await Promise.all(days.map((day) => openArOn(db, scope, day)));
  return perDay.flat();
}

async function openArAcross(db: Db, scope: LedgerScope, days: readonly string[]): Promise<OpenArRow[]> {
  const { tenantId, collectorId } = scope;
  const first = days[0]!;
  const last = days[days.length - 1]!;
  return db<OpenArRow[]>`
    with days as (
      select unnest(${days as string[]}::date[]) as day
    ), items as (
      select i.invoice_number, i.currency, i.issue_date, i.due_date, i.settled_on, i.open_amount_minor
      from ar_items i
      ${collectorId !== undefined ? db`join customers sc on sc.tenant_id = i.tenant_id and sc.customer_id = i.customer_id and sc.collector_id = ${collectorId}` : db``}
      where i.tenant_id = ${tenantId} and i.issue_date <= ${last}::date and (i.settled_on is null or i.settled_on > ${first}::date)
    ), now_open as (
      select d.day, i.currency, count(*) as n, sum(i.open_amount_minor) as open_minor,
             coalesce(sum(i.open_amount_minor) filter (where i.due_date >= d.day), 0) as current_minor
      from days d
      join items i on i.issue_date <= d.day and (i.settled_on is null or i.settled_on > d.day)
      group by d.day, i.currency
    ), later as (
      select d.day, i.currency, sum(p.amount_minor) as later_minor,
             coalesce(sum(p.amount_minor) filter (where i.due_date >= d.day), 0) as later_current_minor
      from ar_postings p
      join items i on i.invoice_number = p.invoice_number
      join days d on p.posted_on > d.day and i.issue_date <= d.day and (i.settled_on is null or i.settled_on > d.day)
      where p.tenant_id = ${tenantId} and p.posted_on > ${first}::date
      group by d.day, i.currency
    )
    select to_char(o.day, 'YYYY-MM-DD') as day, o.currency, o.n::int as count,
           (o.open_minor + coalesce(l.later_minor, 0))::bigint as "openMinor",
           (o.current_minor + coalesce(l.later_current_minor, 0))::bigint as "currentMinor"
    from now_open o
    left join later l on l.day = o.day and l.currency = o.currency
    order by 1, 2`;
}

async function openArOn(db: Db, scope: LedgerScope, day: string): Promise<OpenArRow[]> {
  const { tenantId, collectorId } = scope;
  return db<OpenArRow[]>`
    with later as (
      select p.invoice_number, sum(p.amount_minor) as later_minor from ar_postings p
      where p.tenant_id = ${tenantId} and p.posted_on > ${day}::date
      group by p.invoice_number
    )
    select ${day}::text as day, i.currency, count(*)::int as count,
           sum(i.open_amount_minor + coalesce(l.later_minor, 0))::bigint as "openMinor",
           coalesce(sum(i.open_amount_minor + coalesce(l.later_minor, 0)) filter (where i.due_date >= ${day}::date), 0)::bigint as "currentMinor"
    from ar_items i
    ${collectorId !== undefined ? db`join customers sc on sc.tenant_id = i.tenant_id and sc.customer_id = i.customer_id and sc.collector_id = ${collectorId}` : db``}
    left join later l on l.invoice_number = i.invoice_number
    where i.tenant_id = ${tenantId} and i.issue_date <= ${day}::date and (i.settled_on is null or i.settled_on > ${day}::date)
    group by i.currency
    order by i.currency`;
}

export interface SalesRow {
  /** YYYY-MM */
  month: string;
  currency: string;
  salesMinor: number;
}

/** Credit sales (amount_minor of the items issued) per month and currency, from `from` to `to` (days, inclusive). */
export async function salesByMonth(db: Db, scope: LedgerScope, from: string, to: string): Promise<SalesRow[]> {
  const { tenantId, collectorId } = scope;
  return db<SalesRow[]>`
    select to_char(date_trunc('month', i.issue_date), 'YYYY-MM') as month, i.currency, sum(i.amount_minor)::bigint as "salesMinor"
    from ar_items i
    ${collectorId !== undefined ? db`join customers sc on sc.tenant_id = i.tenant_id and sc.customer_id = i.customer_id and sc.collector_id = ${collectorId}` : db``}
    where i.tenant_id = ${tenantId} and i.issue_date between ${from}::date and ${to}::date
    group by 1, 2
    order by 1, 2`;
}
