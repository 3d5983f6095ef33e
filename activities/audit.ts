import { appendAuditEvent, type AuditEvent } from '../db/audit-events';
import { cancelOpenCallTasks } from '../db/call-tasks';
import { setInvoiceCadence, setInvoiceDueDate, writeInvoiceMirror } from '../db/invoices';
import type { Sql } from '../db/sql';
import { TERMINAL_STAGES, type DunningState, type DunningStage } from '../domain/invoice-state';
import type { WorkerMetrics } from '../telemetry/metrics';

export interface DunningEvent {
  /** `${workflowId}:event:${n}`: n is the workflow's event sequence number (state.eventSeq). */
  eventKey: string;
  /**
   * The event's sequence number; when absent (histories recorded before it existed) it is read
   * from the end of eventKey.
   */
  eventSeq?: number;
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

/** The event's place in its workflow's sequence: the explicit field, else the `:event:<n>` ending of the key. */
export function eventSeqOf(event: Pick<DunningEvent, 'eventKey' | 'eventSeq'>): number | undefined {
  if (event.eventSeq !== undefined) return event.eventSeq;
  const match = /:event:(\d+)$/.exec(event.eventKey);
  return match ? Number(match[1]) : undefined;
}

export function createAuditActivities(deps: { sql: Sql; metrics?: Pick<WorkerMetrics, 'steps' | 'messages'> }) {
  return {
    /**
     * Appends the event to the audit trail and mirrors the invoice's dunning state for lists and
     * reports, in one transaction; a retried call finds its event_key and changes nothing. An event
     * older than the one the mirror shows (its activity ran late) stays in the trail only.
     */
    async recordDunningEvent(event: DunningEvent): Promise<void> {
      const invoice = { tenantId: event.tenantId, invoiceNumber: event.invoiceNumber };
      const inserted = await deps.sql.begin(async (tx) => {
        // The workflow names its event types as strings (db/audit-events.ts lists them all).
        const inserted = await appendAuditEvent(tx, {
          eventKey: event.eventKey,
          tenantId: event.tenantId,
          actor: 'workflow',
          invoiceNumber: event.invoiceNumber,
          workflowId: event.workflowId,
          type: event.type,
          details: event.details,
        } as AuditEvent);
        if (!inserted) return false;
        // Not guarded by the sequence: migrations run one after the other in the workflow's main loop,
        // so they arrive in order, though a handler's event may have moved the mirror on meanwhile.
        if (event.type === 'cadence_migrated') await setInvoiceCadence(tx, invoice, (event.details as { to: { id: string; version: number } }).to);
        // The ERP extended (or moved) the due date: the invoice lists and aging read it from the mirror.
        const moved = event.type === 'ledger_changed' ? (event.details as { dueDate?: { to: string } }).dueDate : undefined;
        if (moved) await setInvoiceDueDate(tx, invoice, moved.to);
        // A closed invoice needs no more calls: its open tasks leave the worklist, saying why.
        if (TERMINAL_STAGES.includes(event.stage)) await cancelOpenCallTasks(tx, invoice, `invoice ${event.stage}`);
        await writeInvoiceMirror(
          tx,
          invoice,
          {
            stage: event.stage,
            openAmountMinor: event.openAmountMinor,
            nextStep: event.nextStep,
            pausedUntil: event.hold?.pausedUntil ?? null,
            promiseDate: event.hold?.promiseDate ?? null,
          },
          eventSeqOf(event),
        );
        return true;
      });
      // Counted once per event, when its row was inserted (committed): a retried activity finds the row and counts nothing.
      if (!inserted) return;
      if (event.type === 'step_done') deps.metrics?.steps.inc({ action: String((event.details as { action?: unknown }).action ?? 'unknown') });
      // A customer-facing step moved to a later time (send window, contact cap): its message is deferred, sent later.
      if (event.type === 'step_deferred') deps.metrics?.messages.inc({ channel: 'email', outcome: 'deferred' });
    },
  };
}
