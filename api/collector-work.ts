import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { appendAuditEvent, type AuditEvent } from '../db/audit-events';
import type { Db, Sql } from '../db/sql';
import { TERMINAL_STAGES } from '../domain/invoice-state';
import { runUpdate } from './workflow-updates';

/**
 * What the collectors' services (worklist, tasks, promises and plans, pauses, notes) share: their
 * dependencies, a workflow update answered as the API answers refusals, the customer's history and
 * the audit trail (both once per deterministic key), and the customer's open invoices. Every change to
 * an invoice's course goes through its workflow (a validated update); the database keeps the tasks,
 * the history and the audit trail.
 */
export interface CollectorDeps {
  sql: Sql;
  temporal: Client;
  tenantId: string;
  /** The clock, for tests of day counts; the workflows keep their own. */
  now?: () => Date;
}

export type WorkflowHandle = ReturnType<Client['workflow']['getHandle']>;

/** An audit event of this tenant (the tenant is filled in). */
export type TenantAuditEvent = AuditEvent extends infer E ? (E extends unknown ? Omit<E, 'tenantId'> : never) : never;

export interface HistoryEntry {
  /** Deterministic: a repeat with the same key writes nothing. */
  eventKey: string;
  customerId: string;
  invoiceNumber?: string | null;
  taskId?: number | null;
  actor: string;
  kind: string;
  outcome?: string | null;
  reached?: boolean;
  note: string;
  details?: object;
}

export function collectorWork(deps: CollectorDeps) {
  const { sql, temporal, tenantId } = deps;
  return {
    ...deps,
    now: deps.now ?? (() => new Date()),

    /** Runs an update on the workflow; a refusal is thrown with its status (api/workflow-updates.ts), a closed workflow is `undefined`. */
    update<R>(workflowId: string, run: (handle: WorkflowHandle) => Promise<R>): Promise<R | undefined> {
      return runUpdate(() => run(temporal.workflow.getHandle(workflowId)));
    },

    /** Appends to the customer's activity history once per key; the row written, or undefined when the key was there. */
    async history(entry: HistoryEntry, db: Db = sql): Promise<{ id: number; occurred_at: Date } | undefined> {
      const [row] = await db<{ id: number; occurred_at: Date }[]>`
        insert into customer_activities (event_key, tenant_id, customer_id, invoice_number, task_id, actor, kind, outcome, reached, note, details)
        values (${entry.eventKey}, ${tenantId}, ${entry.customerId}, ${entry.invoiceNumber ?? null}, ${entry.taskId ?? null}, ${entry.actor},
                ${entry.kind}, ${entry.outcome ?? null}, ${entry.reached ?? false}, ${entry.note}, ${db.json((entry.details ?? {}) as never)})
        on conflict (event_key) do nothing returning id, occurred_at`;
      return row;
    },

    /** Appends to the audit trail once per key (in `db`'s transaction when given). */
    audit(event: TenantAuditEvent, db: Db = sql): Promise<boolean> {
      return appendAuditEvent(db, { ...event, tenantId } as AuditEvent);
    },

    /** The customer's invoices still in dunning, by number. */
    openInvoices(customerId: string) {
      return sql<{ invoice_number: string; workflow_id: string }[]>`
        select invoice_number, workflow_id from invoices where tenant_id = ${tenantId} and customer_id = ${customerId}
          and stage <> all(${TERMINAL_STAGES as string[]}) order by invoice_number`;
    },
  };
}

export type CollectorWork = ReturnType<typeof collectorWork>;

/** A short id from what identifies it (a request's key, or the request itself): the same parts, the same id. */
export function derivedId(prefix: string, ...parts: unknown[]): string {
  return `${prefix}-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12)}`;
}
