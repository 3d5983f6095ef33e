import { randomUUID } from 'node:crypto';
import { pauseUpdate, resumeUpdate } from '../workflows/messages';
import { assertCustomerAccess, invoiceForUser, type AuthUser } from './auth';
import type { CollectorWork, WorkflowHandle } from './collector-work';
import { DomainError } from './errors';

/** With an Idempotency-Key (the request's key), the workflow update is deduplicated by an id from it: a request run again pauses nothing twice. */
const updateId = (kind: string, key: string | undefined) => (key ? { updateId: `${kind}-${key}` } : {});

/**
 * Pauses and resumes of dunning, for one invoice (its workflow) or a whole customer (every open invoice,
 * and those enrolled meanwhile). The history and audit entries are keyed by the request's Idempotency-Key
 * when it has one; without, each request is a pause (or resume) of its own.
 */
export function createPausesService(work: CollectorWork) {
  const { sql, tenantId } = work;

  /** Runs an update on each open invoice of the customer; one that closed or refuses meanwhile is left out, other failures propagate. */
  async function updateOpenInvoices<R>(customerId: string, run: (handle: WorkflowHandle) => Promise<R>) {
    const done: { invoiceNumber: string; result: R }[] = [];
    for (const inv of await work.openInvoices(customerId)) {
      const result = await work.update(inv.workflow_id, run).catch((err: unknown) => {
        if (err instanceof DomainError) return undefined;
        throw err;
      });
      if (result) done.push({ invoiceNumber: inv.invoice_number, result });
    }
    return done;
  }

  return {
    async pauseInvoice(user: AuthUser, invoiceNumber: string, body: { reason: string; until: string | null }, key?: string) {
      const inv = await invoiceForUser(sql, user, invoiceNumber);
      const r = await work.update(inv.workflow_id, (h) => h.executeUpdate(pauseUpdate, { ...updateId('pause', key), args: [{ reason: body.reason, until: body.until, actor: user.userId, scope: 'invoice' }] }));
      if (!r) throw new DomainError('invoice_closed', `invoice ${invoiceNumber} is no longer in dunning`);
      const eventKey = `pause:${tenantId}:${invoiceNumber}:${key ?? randomUUID()}`;
      await work.history({ eventKey, customerId: inv.customer_id, invoiceNumber, actor: user.userId, kind: 'pause', note: body.reason, details: { until: body.until } });
      await work.audit({ eventKey, actor: user.userId, type: 'pause_requested', invoiceNumber, workflowId: inv.workflow_id, details: body });
      return { invoiceNumber, ...r };
    },

    async resumeInvoice(user: AuthUser, invoiceNumber: string, body: { note: string }, key?: string) {
      const inv = await invoiceForUser(sql, user, invoiceNumber);
      const r = await work.update(inv.workflow_id, (h) => h.executeUpdate(resumeUpdate, { ...updateId('resume', key), args: [{ actor: user.userId, note: body.note, scope: 'invoice' }] }));
      if (!r) throw new DomainError('invoice_closed', `invoice ${invoiceNumber} is no longer in dunning`);
      if (!r.changed) throw new DomainError('not_paused', `invoice ${invoiceNumber} is not paused (stage ${r.stage})`);
      const eventKey = `resume:${tenantId}:${invoiceNumber}:${key ?? randomUUID()}`;
      await work.history({ eventKey, customerId: inv.customer_id, invoiceNumber, actor: user.userId, kind: 'resume', note: body.note });
      await work.audit({ eventKey, actor: user.userId, type: 'resume_requested', invoiceNumber, workflowId: inv.workflow_id, details: body });
      return { invoiceNumber, ...r };
    },

    /** Pauses every open invoice of the customer, and invoices enrolled while the pause lasts. */
    async pauseCustomer(user: AuthUser, customerId: string, body: { reason: string; until: string | null }, key?: string) {
      await assertCustomerAccess(sql, user, customerId);
      await sql`update customers set paused = true, paused_until = ${body.until}, pause_reason = ${body.reason}, updated_at = now() where tenant_id = ${tenantId} and customer_id = ${customerId}`;
      const results = (await updateOpenInvoices(customerId, (h) => h.executeUpdate(pauseUpdate, { ...updateId('customer-pause', key), args: [{ reason: body.reason, until: body.until, actor: user.userId, scope: 'customer' }] })))
        .map(({ invoiceNumber, result }) => ({ invoiceNumber, stage: result.stage }));
      const eventKey = `pause:${tenantId}:${customerId}:${key ?? randomUUID()}`;
      await work.history({ eventKey, customerId, actor: user.userId, kind: 'pause', note: body.reason, details: { until: body.until, scope: 'customer', invoices: results.map((r) => r.invoiceNumber) } });
      await work.audit({ eventKey, actor: user.userId, type: 'customer_paused', details: { customerId, ...body, invoices: results.map((r) => r.invoiceNumber) } });
      return { customerId, paused: true, until: body.until, invoices: results };
    },

    async resumeCustomer(user: AuthUser, customerId: string, body: { note: string }, key?: string) {
      await assertCustomerAccess(sql, user, customerId);
      await sql`update customers set paused = false, paused_until = null, pause_reason = null, updated_at = now() where tenant_id = ${tenantId} and customer_id = ${customerId}`;
      const results = (await updateOpenInvoices(customerId, (h) => h.executeUpdate(resumeUpdate, { ...updateId('customer-resume', key), args: [{ actor: user.userId, note: body.note, scope: 'customer' }] })))
        .map(({ invoiceNumber, result }) => ({ invoiceNumber, stage: result.stage, resumed: result.changed }));
      const eventKey = `resume:${tenantId}:${customerId}:${key ?? randomUUID()}`;
      await work.history({ eventKey, customerId, actor: user.userId, kind: 'resume', note: body.note, details: { scope: 'customer' } });
      await work.audit({ eventKey, actor: user.userId, type: 'customer_resumed', details: { customerId, ...body } });
      return { customerId, paused: false, invoices: results };
    },
  };
}

export type PausesService = ReturnType<typeof createPausesService>;
