import type { Sql } from '../db/sql';
import { TERMINAL_STAGES, type DunningState, type DunningStage } from '../domain/invoice-state';

export interface DunningEvent {
  eventKey: string;
  tenantId: string;
  invoiceNumber: string;
  workflowId: string;
  type: string;
  stage: DunningStage;
  openAmountMinor: number;
  nextStep: DunningState['nextStep'];
  /** What an open invoice waits for besides its cadence (mirrored for lists). */
  hold?: { pausedUntil: string | null; promiseDate: string | null };
  details: Record<string, unknown>;
}

export function createAuditActivities(deps: { sql: Sql }) {
  return {
    /**
     * Appends the event to the audit trail and mirrors the invoice's dunning state for lists and
     * reports, in one transaction; a retried call finds its event_key and changes nothing.
     */
    async recordDunningEvent(event: DunningEvent): Promise<void> {
      await deps.sql.begin(async (tx) => {
        const [inserted] = await tx`
          insert into audit_events (event_key, tenant_id, actor, invoice_number, workflow_id, event_type, details)
          values (${event.eventKey}, ${event.tenantId}, 'workflow', ${event.invoiceNumber}, ${event.workflowId}, ${event.type}, ${tx.json(event.details as never)})
          on conflict (event_key) do nothing
          returning id`;
        if (!inserted) return;
        const migratedTo = event.type === 'cadence_migrated' ? (event.details.to as { id: string; version: number }) : undefined;
        if (migratedTo)
          await tx`update invoices set cadence_id = ${migratedTo.id}, cadence_version = ${migratedTo.version}
                   where tenant_id = ${event.tenantId} and invoice_number = ${event.invoiceNumber}`;
        if (TERMINAL_STAGES.includes(event.stage))
          // A closed invoice needs no more calls: its open tasks leave the worklist, saying why.
          await tx`update call_tasks set status = 'cancelled', cancelled_reason = ${`invoice ${event.stage}`}
                   where tenant_id = ${event.tenantId} and invoice_number = ${event.invoiceNumber} and status = 'open'`;
        await tx`
          update invoices set stage = ${event.stage}, open_amount_minor = ${event.openAmountMinor},
            next_step_id = ${event.nextStep?.stepId ?? null}, next_step_action = ${event.nextStep?.action ?? null}, next_step_at = ${event.nextStep?.at ?? null},
            paused_until = ${event.hold?.pausedUntil ?? null}, promise_date = ${event.hold?.promiseDate ?? null}, updated_at = now()
          where tenant_id = ${event.tenantId} and invoice_number = ${event.invoiceNumber}`;
      });
    },
  };
}
