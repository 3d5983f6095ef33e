import { countCustomerActivities } from '../db/customer-activities';
import { lockCustomer, setCustomerPause } from '../db/customers';
import type { TransactionSql } from '../db/sql';
import { pauseUpdate, resumeUpdate } from '../workflows/messages';
import { assertCustomerAccess, invoiceForUser, type AuthUser } from './auth';
import type { CollectorWork, WorkflowHandle } from './collector-work';
import { DomainError, UpdateNotCompleted } from './errors';

/** With an Idempotency-Key (the request's key), the workflow update is deduplicated by an id from it: a request run again pauses nothing twice. */
const updateId = (kind: string, key: string | undefined) => (key ? { updateId: `${kind}-${key}` } : {});

/**
 * Pauses and resumes of dunning, for one invoice (its workflow) or a whole customer (every open invoice,
 * and those enrolled meanwhile). The history and audit entries are keyed by the request's Idempotency-Key
 * when it has one; without, each request is a pause (or resume) of its own, keyed by its number among the
 * invoice's (or the customer's own) pauses or resumes.
 */
export function createPausesService(work: CollectorWork) {
  const { sql, tenantId } = work;

  /**
   * Writes a pause's or resume's history entry and audit event (`write`) in one transaction, with their
   * key: from the Idempotency-Key, else numbered under the customer's lock, so that two never share one.
   */
  async function record(
    kind: 'pause' | 'resume',
    target: { customerId: string; invoiceNumber: string | null },
    key: string | undefined,
    write: (eventKey: string, tx: TransactionSql) => Promise<void>,
  ): Promise<void> {
    await sql.begin(async (tx) => {
      await lockCustomer(tx, tenantId, target.customerId);
      const { customerId, invoiceNumber } = target;
      const eventKey = key
        ? `${kind}:${tenantId}:${invoiceNumber ?? customerId}:${key}`
        : `${kind}:${tenantId}:${invoiceNumber === null ? `customer:${customerId}` : `invoice:${invoiceNumber}`}:n${(await countCustomerActivities(tx, tenantId, customerId, kind, { invoiceNumber })) + 1}`;
      await write(eventKey, tx);
    });
  }

  /**
   * Runs an update on each open invoice of the customer, all at once (with the worker down, each waits for the
   * bound at the same time, not one after the other); one that closed or refuses meanwhile is left out, one
   * held by Temporal (api/workflow-updates.ts) is listed with its pending update's id, other failures propagate.
   */
  async function updateOpenInvoices<R>(customerId: string, run: (handle: WorkflowHandle) => Promise<R>) {
    const outcomes = await Promise.all(
      (await work.openInvoices(customerId)).map(async (inv) => {
        try {
          const result = await work.update(inv.workflow_id, run);
          return result === undefined ? undefined : { invoiceNumber: inv.invoice_number, result };
        } catch (err) {
          if (err instanceof DomainError) return undefined;
          if (err instanceof UpdateNotCompleted && err.admitted) return { invoiceNumber: inv.invoice_number, pendingUpdateId: err.updateId };
          throw err;
        }
      }),
    );
    return outcomes.filter((o) => o !== undefined);
  }
  /** An invoice's line in a customer-wide answer: its stage, or `pending` with the update Temporal holds for it. */
  const line = <R extends { stage: string }>(o: { invoiceNumber: string; result?: R; pendingUpdateId?: string }) =>
    o.result ? { invoiceNumber: o.invoiceNumber, stage: o.result.stage } : { invoiceNumber: o.invoiceNumber, stage: 'pending', pendingUpdateId: o.pendingUpdateId! };

  return {
    async pauseInvoice(user: AuthUser, invoiceNumber: string, body: { reason: string; until: string | null }, key?: string) {
      const inv = await invoiceForUser(sql, user, invoiceNumber);
      const r = await work.update(inv.workflow_id, (h) => h.executeUpdate(pauseUpdate, { ...updateId('pause', key), args: [{ reason: body.reason, until: body.until, actor: user.userId, scope: 'invoice' }] }));
      if (!r) throw new DomainError('invoice_closed', `invoice ${invoiceNumber} is no longer in dunning`);
      await record('pause', { customerId: inv.customer_id, invoiceNumber }, key, async (eventKey, tx) => {
        await work.history({ eventKey, customerId: inv.customer_id, invoiceNumber, actor: user.userId, kind: 'pause', note: body.reason, details: { until: body.until } }, tx);
        await work.audit({ eventKey, actor: user.userId, type: 'pause_requested', invoiceNumber, workflowId: inv.workflow_id, details: body }, tx);
      });
      return { invoiceNumber, ...r };
    },

    async resumeInvoice(user: AuthUser, invoiceNumber: string, body: { note: string }, key?: string) {
      const inv = await invoiceForUser(sql, user, invoiceNumber);
      const r = await work.update(inv.workflow_id, (h) => h.executeUpdate(resumeUpdate, { ...updateId('resume', key), args: [{ actor: user.userId, note: body.note, scope: 'invoice' }] }));
      if (!r) throw new DomainError('invoice_closed', `invoice ${invoiceNumber} is no longer in dunning`);
      if (!r.changed) throw new DomainError('not_paused', `invoice ${invoiceNumber} is not paused (stage ${r.stage})`);
      await record('resume', { customerId: inv.customer_id, invoiceNumber }, key, async (eventKey, tx) => {
        await work.history({ eventKey, customerId: inv.customer_id, invoiceNumber, actor: user.userId, kind: 'resume', note: body.note }, tx);
        await work.audit({ eventKey, actor: user.userId, type: 'resume_requested', invoiceNumber, workflowId: inv.workflow_id, details: body }, tx);
      });
      return { invoiceNumber, ...r };
    },

    /** Pauses every open invoice of the customer, and invoices enrolled while the pause lasts. */
    async pauseCustomer(user: AuthUser, customerId: string, body: { reason: string; until: string | null }, key?: string) {
      await assertCustomerAccess(sql, user, customerId);
      await setCustomerPause(sql, tenantId, customerId, { reason: body.reason, until: body.until });
      const results = (await updateOpenInvoices(customerId, (h) => h.executeUpdate(pauseUpdate, { ...updateId('customer-pause', key), args: [{ reason: body.reason, until: body.until, actor: user.userId, scope: 'customer' }] })))
        .map(line);
      await record('pause', { customerId, invoiceNumber: null }, key, async (eventKey, tx) => {
        await work.history({ eventKey, customerId, actor: user.userId, kind: 'pause', note: body.reason, details: { until: body.until, scope: 'customer', invoices: results.map((r) => r.invoiceNumber) } }, tx);
        await work.audit({ eventKey, actor: user.userId, type: 'customer_paused', details: { customerId, ...body, invoices: results.map((r) => r.invoiceNumber) } }, tx);
      });
      return { customerId, paused: true, until: body.until, invoices: results };
    },

    async resumeCustomer(user: AuthUser, customerId: string, body: { note: string }, key?: string) {
      await assertCustomerAccess(sql, user, customerId);
      await setCustomerPause(sql, tenantId, customerId, null);
      const results = (await updateOpenInvoices(customerId, (h) => h.executeUpdate(resumeUpdate, { ...updateId('customer-resume', key), args: [{ actor: user.userId, note: body.note, scope: 'customer' }] })))
        .map((o) => ({ ...line(o), resumed: o.result?.changed ?? false }));
      await record('resume', { customerId, invoiceNumber: null }, key, async (eventKey, tx) => {
        await work.history({ eventKey, customerId, actor: user.userId, kind: 'resume', note: body.note, details: { scope: 'customer' } }, tx);
        await work.audit({ eventKey, actor: user.userId, type: 'customer_resumed', details: { customerId, ...body } }, tx);
      });
      return { customerId, paused: false, invoices: results };
    },
  };
}

export type PausesService = ReturnType<typeof createPausesService>;
