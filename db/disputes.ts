import type { DisputeOutcome, DisputeRoute } from '../domain/disputes';
import type { Db } from './sql';

/** Disputes (disputes): who owns them and by when (the resolution matrix's route), and how they ended. */

export type DisputeStatus = 'open' | 'escalated' | DisputeOutcome['status'];

export interface DisputeRow {
  tenant_id: string;
  dispute_id: string;
  invoice_number: string;
  customer_id: string;
  workflow_id: string;
  disputed_amount_minor: number;
  currency: string;
  reason_code: string;
  evidence_note: string;
  source: 'call' | 'api' | 'erp';
  opened_by: string;
  opened_at: Date;
  owner_team: string;
  owner_user: string | null;
  lead_user: string | null;
  deadline_date: Date;
  deadline_at: Date;
  status: DisputeStatus;
  reminded_at: Date | null;
  escalated_at: Date | null;
  credit_amount_minor: number | null;
  credit_memo_id: string | null;
  rebill_invoice_number: string | null;
  root_cause: string | null;
  resolution_note: string | null;
  resolved_by: string | null;
  resolved_at: Date | null;
}

export interface NewDispute {
  tenantId: string;
  disputeId: string;
  invoiceNumber: string;
  customerId: string;
  workflowId: string;
  disputedAmountMinor: number;
  currency: string;
  reasonCode: string;
  note: string;
  source: 'call' | 'api' | 'erp';
  openedBy: string;
  route: DisputeRoute;
}

/** Opens the dispute once; false when it was there already. */
export async function insertDisputeOnce(db: Db, d: NewDispute): Promise<boolean> {
  const { route } = d;
  const rows = await db`
    insert into disputes (tenant_id, dispute_id, invoice_number, customer_id, workflow_id, disputed_amount_minor, currency, reason_code, evidence_note,
                          source, opened_by, owner_team, owner_user, lead_user, deadline_date, deadline_at)
    values (${d.tenantId}, ${d.disputeId}, ${d.invoiceNumber}, ${d.customerId}, ${d.workflowId}, ${d.disputedAmountMinor}, ${d.currency},
            ${d.reasonCode}, ${d.note}, ${d.source}, ${d.openedBy}, ${route.ownerTeam}, ${route.owner}, ${route.lead}, ${route.deadlineDate}, ${route.deadlineAt})
    on conflict (tenant_id, dispute_id) do nothing returning dispute_id`;
  return rows.length > 0;
}

/** The owner was reminded (the first reminder's time is kept). */
export async function markDisputeReminded(db: Db, tenantId: string, disputeId: string): Promise<void> {
  await db`update disputes set reminded_at = coalesce(reminded_at, now()) where tenant_id = ${tenantId} and dispute_id = ${disputeId}`;
}

/** An open dispute missed its deadline. */
export async function escalateDispute(db: Db, tenantId: string, disputeId: string): Promise<void> {
  await db`update disputes set status = 'escalated', escalated_at = coalesce(escalated_at, now())
           where tenant_id = ${tenantId} and dispute_id = ${disputeId} and status = 'open'`;
}

/** Settles an open or escalated dispute; false when it was settled already. */
export async function resolveDispute(db: Db, tenantId: string, outcome: DisputeOutcome, note: string): Promise<boolean> {
  const o = outcome;
  const rows = await db`
    update disputes set status = ${o.status}, credit_amount_minor = ${o.creditAmountMinor}, credit_memo_id = ${o.creditMemoId},
           rebill_invoice_number = ${o.rebillInvoiceNumber}, root_cause = ${o.rootCause}, resolution_note = ${note},
           resolved_by = ${o.resolvedBy}, resolved_at = now()
    where tenant_id = ${tenantId} and dispute_id = ${o.disputeId} and status in ('open', 'escalated') returning dispute_id`;
  return rows.length > 0;
}

export async function disputesOfInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<(DisputeRow & { deadline_day: string })[]> {
  return db<(DisputeRow & { deadline_day: string })[]>`
    select *, to_char(deadline_date, 'YYYY-MM-DD') as deadline_day
    from disputes where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by opened_at, dispute_id`;
}

/** A dispute as the API shows it: its deadline as an ISO day, with its customer's collector (who may see it). */
export type DisputeWithCollector = DisputeRow & { deadline_day: string; collector_id: string | null };

export async function disputeWithCollector(db: Db, tenantId: string, disputeId: string): Promise<DisputeWithCollector | undefined> {
  const [row] = await db<DisputeWithCollector[]>`
    select d.*, to_char(d.deadline_date, 'YYYY-MM-DD') as deadline_day, c.collector_id
    from disputes d join customers c on c.tenant_id = d.tenant_id and c.customer_id = d.customer_id
    where d.tenant_id = ${tenantId} and d.dispute_id = ${disputeId}`;
  return row;
}

export interface DisputeFilter {
  ownerTeam?: string;
  customerId?: string;
  /** open: open or escalated; resolved: settled in any way. */
  status: 'open' | 'resolved' | 'all';
  /** Only open ones past their deadline. */
  overdue?: boolean;
}

/** The disputes the filter selects, the nearest deadline first. */
export async function disputesWithCollector(db: Db, tenantId: string, f: DisputeFilter): Promise<DisputeWithCollector[]> {
  return db<DisputeWithCollector[]>`
    select d.*, to_char(d.deadline_date, 'YYYY-MM-DD') as deadline_day, c.collector_id
    from disputes d join customers c on c.tenant_id = d.tenant_id and c.customer_id = d.customer_id
    where d.tenant_id = ${tenantId}
      ${f.ownerTeam ? db`and d.owner_team = ${f.ownerTeam}` : db``}
      ${f.customerId ? db`and d.customer_id = ${f.customerId}` : db``}
      ${f.status === 'open' ? db`and d.status in ('open', 'escalated')` : f.status === 'resolved' ? db`and d.status not in ('open', 'escalated')` : db``}
      ${f.overdue ? db`and d.status in ('open', 'escalated') and d.deadline_at <= now()` : db``}
    order by d.deadline_at, d.dispute_id`;
}

export interface DisputeReasonFigures {
  reason_code: string;
  opened: number;
  open: number;
  overdue: number;
  valid: number;
  invalid: number;
  withdrawn: number;
  /** Average days to resolve, one decimal, as text; null while none is resolved. */
  avg_days: string | null;
}

export interface DisputeRootCauseFigures {
  root_cause: string;
  currency: string;
  resolved: number;
  credited_minor: number;
}

/** Disputes opened in [from, to): by reason (how many, how they ended, how fast) and by root cause (what they cost, per currency). */
export async function disputeReport(
  db: Db,
  tenantId: string,
  period: { from?: string; to?: string },
): Promise<{ byReason: DisputeReasonFigures[]; byRootCause: DisputeRootCauseFigures[] }> {
  const where = db`d.tenant_id = ${tenantId} ${period.from ? db`and d.opened_at >= ${period.from}` : db``} ${period.to ? db`and d.opened_at < ${period.to}` : db``}`;
  const byReason = await db<DisputeReasonFigures[]>`
    select reason_code, count(*)::int as opened,
           count(*) filter (where status in ('open', 'escalated'))::int as open,
           count(*) filter (where status in ('open', 'escalated') and deadline_at <= now())::int as overdue,
           count(*) filter (where status = 'resolved_valid')::int as valid,
           count(*) filter (where status = 'resolved_invalid')::int as invalid,
           count(*) filter (where status = 'withdrawn')::int as withdrawn,
           round(avg(extract(epoch from resolved_at - opened_at) / 86400) filter (where resolved_at is not null)::numeric, 1)::text as avg_days
    from disputes d where ${where} group by reason_code order by opened desc, reason_code`;
  const byRootCause = await db<DisputeRootCauseFigures[]>`
    select root_cause, currency, count(*)::int as resolved, coalesce(sum(credit_amount_minor), 0)::int8 as credited_minor
    from disputes d where ${where} and root_cause is not null group by root_cause, currency order by resolved desc, root_cause, currency`;
  return { byReason, byRootCause };
}
