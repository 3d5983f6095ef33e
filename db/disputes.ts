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
