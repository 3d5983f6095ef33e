import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { appendAuditEvent, type AuditEvent } from '../db/audit-events';
import { appendCustomerActivity, type CustomerActivity } from '../db/customer-activities';
import type { Db, Sql } from '../db/sql';
import { openInvoicesOfCustomer } from '../db/invoices';
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

/** An entry of the customer's history, of this tenant (db/customer-activities.ts). */
export type HistoryEntry = Omit<CustomerActivity, 'tenantId'>;

export function collectorWork(deps: CollectorDeps) {
  const { sql, temporal, tenantId } = deps;
  return {
    ...deps,
    now: deps.now ?? (() => new Date()),

    /**
     * Runs an update on the workflow, bounded (api/workflow-updates.ts): a refusal is thrown with its status, a
     * closed workflow is `undefined`, one not completed in time is answered 202 (held by Temporal) or 504.
     */
    update<R>(workflowId: string, run: (handle: WorkflowHandle) => Promise<R>): Promise<R | undefined> {
      return runUpdate(temporal, workflowId, run);
    },

    /** Appends to the customer's activity history once per key (in the caller's transaction when one is given); the row written, or undefined when the key was there. */
    history(entry: HistoryEntry, db: Db = sql) {
      return appendCustomerActivity(db, { ...entry, tenantId });
    },

    /** Appends to the audit trail once per key (in the caller's transaction when one is given). */
    audit(event: TenantAuditEvent, db: Db = sql): Promise<boolean> {
      return appendAuditEvent(db, { ...event, tenantId } as AuditEvent);
    },

    /** The customer's invoices still in dunning, by number. */
    openInvoices(customerId: string) {
      return openInvoicesOfCustomer(sql, tenantId, customerId);
    },
  };
}

export type CollectorWork = ReturnType<typeof collectorWork>;

/** A short id from what identifies it (a request's key, or the request itself): the same parts, the same id. */
export function derivedId(prefix: string, ...parts: unknown[]): string {
  return `${prefix}-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12)}`;
}
