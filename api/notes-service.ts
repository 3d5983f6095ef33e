import { countCustomerActivities, customerActivityByKey, pageOfCustomerActivities } from '../db/customer-activities';
import { lockCustomer } from '../db/customers';
import { assertCustomerAccess, invoiceForUser, type AuthUser } from './auth';
import type { CollectorWork } from './collector-work';
import { DomainError } from './errors';

/** Notes and the customer's activity history: call outcomes, notes, promises and verdicts, pauses, reassignments. */
export function createNotesService(work: CollectorWork) {
  const { sql, tenantId } = work;

  return {
    /**
     * Adds a note; with an Idempotency-Key, a retry finds the note it made. Without one, every request is a
     * new note, keyed by its number among the customer's notes (counted under the customer's lock).
     */
    async addNote(user: AuthUser, customerId: string, body: { note: string; invoiceNumber?: string }, key?: string) {
      await assertCustomerAccess(sql, user, customerId);
      if (body.invoiceNumber) {
        const inv = await invoiceForUser(sql, user, body.invoiceNumber);
        if (inv.customer_id !== customerId) throw new DomainError('invoice_of_other_customer', `invoice ${body.invoiceNumber} belongs to customer ${inv.customer_id}`);
      }
      const entry = await sql.begin(async (tx) => {
        await lockCustomer(tx, tenantId, customerId);
        const eventKey = key ? `note:${tenantId}:${key}` : `note:${tenantId}:${customerId}:n${(await countCustomerActivities(tx, tenantId, customerId, 'note')) + 1}`;
        const written =
          (await work.history({ eventKey, customerId, invoiceNumber: body.invoiceNumber ?? null, actor: user.userId, kind: 'note', note: body.note }, tx)) ??
          (await customerActivityByKey(tx, eventKey))!;
        await work.audit({ eventKey, actor: user.userId, type: 'note_added', invoiceNumber: body.invoiceNumber ?? null, details: { customerId, note: body.note } }, tx);
        return written;
      });
      return { id: entry.id, customerId, invoiceNumber: body.invoiceNumber ?? null, note: body.note, actor: user.userId, occurredAt: entry.occurred_at.toISOString() };
    },

    async activities(user: AuthUser, customerId: string, page: { limit: number; offset: number }) {
      await assertCustomerAccess(sql, user, customerId);
      const { total, rows } = await pageOfCustomerActivities(sql, tenantId, customerId, page);
      return {
        total,
        items: rows.map((r) => ({ id: r.id, occurredAt: r.occurred_at.toISOString(), actor: r.actor, kind: r.kind, outcome: r.outcome, reached: r.reached, note: r.note, invoiceNumber: r.invoice_number, taskId: r.task_id, details: r.details })),
      };
    },
  };
}

export type NotesService = ReturnType<typeof createNotesService>;
