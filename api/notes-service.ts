import { randomUUID } from 'node:crypto';
import { assertCustomerAccess, invoiceForUser, type AuthUser } from './auth';
import type { CollectorWork } from './collector-work';
import { DomainError } from './errors';

/** Notes and the customer's activity history: call outcomes, notes, promises and verdicts, pauses, reassignments. */
export function createNotesService(work: CollectorWork) {
  const { sql, tenantId } = work;

  return {
    /** Adds a note; with an Idempotency-Key, a retry finds the note it made (without one, every request is a new note). */
    async addNote(user: AuthUser, customerId: string, body: { note: string; invoiceNumber?: string }, key?: string) {
      await assertCustomerAccess(sql, user, customerId);
      if (body.invoiceNumber) {
        const inv = await invoiceForUser(sql, user, body.invoiceNumber);
        if (inv.customer_id !== customerId) throw new DomainError('invoice_of_other_customer', `invoice ${body.invoiceNumber} belongs to customer ${inv.customer_id}`);
      }
      const eventKey = `note:${tenantId}:${key ?? randomUUID()}`;
      const entry =
        (await work.history({ eventKey, customerId, invoiceNumber: body.invoiceNumber ?? null, actor: user.userId, kind: 'note', note: body.note })) ??
        (await sql<{ id: number; occurred_at: Date }[]>`select id, occurred_at from customer_activities where event_key = ${eventKey}`)[0]!;
      await work.audit({ eventKey, actor: user.userId, type: 'note_added', invoiceNumber: body.invoiceNumber ?? null, details: { customerId, note: body.note } });
      return { id: entry.id, customerId, invoiceNumber: body.invoiceNumber ?? null, note: body.note, actor: user.userId, occurredAt: entry.occurred_at.toISOString() };
    },

    async activities(user: AuthUser, customerId: string, page: { limit: number; offset: number }) {
      await assertCustomerAccess(sql, user, customerId);
      const rows = await sql<{ id: number; occurred_at: Date; actor: string; kind: string; outcome: string | null; reached: boolean; note: string; invoice_number: string | null; task_id: number | null; details: unknown; total: number }[]>`
        select id, occurred_at, actor, kind, outcome, reached, note, invoice_number, task_id, details, count(*) over ()::int as total
        from customer_activities where tenant_id = ${tenantId} and customer_id = ${customerId}
        order by occurred_at desc, id desc limit ${page.limit} offset ${page.offset}`;
      return {
        total: rows[0]?.total ?? 0,
        items: rows.map((r) => ({ id: r.id, occurredAt: r.occurred_at.toISOString(), actor: r.actor, kind: r.kind, outcome: r.outcome, reached: r.reached, note: r.note, invoiceNumber: r.invoice_number, taskId: r.task_id, details: r.details })),
      };
    },
  };
}

export type NotesService = ReturnType<typeof createNotesService>;
