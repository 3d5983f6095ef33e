import { defineQuery } from '@temporalio/workflow';
import type { MappedCustomer } from '../domain/erp-sync';
import type { StepRecord } from '../domain/invoice-state';

/** The ERP sync workflow's messages, shared by the workflow, its activities, the API and the tests. */

/** The Temporal Schedule of a tenant's ERP connection; each action starts erpSync with this id and its time. */
export const erpSyncScheduleId = (tenantId: string, connection: string): string => `erp-sync:${tenantId}:${connection}`;

/**
 * The sync's own task queue (the worker polls it beside TEMPORAL_TASK_QUEUE): a run's workflow tasks never wait
 * behind the thousands of invoice workflows' first tasks its own enrollments just queued.
 */
export const erpSyncTaskQueue = (taskQueue: string): string => `${taskQueue}-erp-sync`;

export interface ErpSyncInput {
  tenantId: string;
  connection: string;
  /** Receivables per page of the feed. */
  pageSize: number;
  /** Pages per workflow run before it continues as new (history stays small at any ledger size). */
  pagesPerRun: number;
  /** Ledger invoices per admission batch (those that came within the enrollment window). */
  admitBatch?: number;
  /** Carried across continue-as-new: the run's record, where it is, pages so far. */
  carried?: { runId: number; phase: 'pages' | 'admit'; after: string; pages: number };
}

export interface ErpSyncPageResult {
  hasMore: boolean;
  /** false: another call applied this page first (the cursor had moved); nothing was counted here. */
  applied: boolean;
  received: number;
  enrolled: number;
  signalled: number;
  errors: number;
}

export interface ErpSyncAdmitResult {
  /** The last invoice number of the batch when another may follow; null when done. */
  next: string | null;
  enrolled: number;
}

export interface ErpSyncProgress {
  runId: number | null;
  phase: 'starting' | 'pages' | 'admit' | 'done' | 'failed';
  pages: number;
}

export interface ErpSyncSummary {
  runId: number;
  status: 'completed' | 'failed';
  pages: number;
  failure?: string;
}

export const erpSyncProgressQuery = defineQuery<ErpSyncProgress>('erpSyncProgress');

/** What the sync asks to enroll: the same enrollment as POST /invoices (api/invoice-service.ts enroll). */
export interface SyncEnrollRequest {
  customer: MappedCustomer;
  invoice: { number: string; currency: string; amountMinor: number; issueDate: string; dueDate: string };
  carriedFrom?: { invoiceNumber: string; steps: StepRecord[] };
}

/**
 * Enrolls through the API's enrollment (customer + invoice + audit row + workflow start, all or nothing); built by
 * the worker with api/erp-sync-service.ts createSyncEnroller (activities do not import the API) and given to the
 * sync's activities. Refusals of the invoice itself (bad data, no exchange rate...) come back as { ok: false };
 * anything transient throws, and the activity is retried.
 */
export type SyncEnroller = (req: SyncEnrollRequest, actor: string) => Promise<{ ok: true; workflowId: string; enrolled: boolean } | { ok: false; code: string; reason: string }>;
