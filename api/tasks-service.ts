import { DateTime } from 'luxon';
import { completeOpenCallTask, countCallTasks, insertManualTaskOnce } from '../db/call-tasks';
import { lockCustomer } from '../db/customers';
import { REACHED_OUTCOMES, type CallOutcome, type CallOutcomeResult } from '../domain/call-outcomes';
import { TERMINAL_STAGES } from '../domain/invoice-state';
import { recordCallOutcomeUpdate } from '../workflows/messages';
import { assertCustomerAccess, invoiceForUser, type AuthUser } from './auth';
import type { CollectorWork } from './collector-work';
import type { ContactsService } from './contacts-service';
import { DomainError } from './errors';
import type { TaskReader, TaskRow, TaskView } from './worklist-service';

/**
 * Call tasks: one task with its priority, a task made by hand, and a call's outcome, which the
 * invoice workflow applies first (a validated update) before the task closes and the history records it.
 */
export function createTasksService(work: CollectorWork, tasks: TaskReader, contacts: Pick<ContactsService, 'flagForUpdate'>) {
  const { sql, tenantId } = work;
  const { view, loadTask } = tasks;

  return {
    async task(user: AuthUser, taskId: number): Promise<TaskView> {
      const row = await loadTask(taskId);
      await assertCustomerAccess(sql, user, row.customer_id);
      return view(row);
    },

    /**
     * A task made by a person (an agreed call, a follow-up the cadence does not know about); with an
     * Idempotency-Key, once per key. Without one, every request is a new task, keyed by its number among
     * the invoice's manual tasks (counted under the customer's lock).
     */
    async createTask(user: AuthUser, body: { invoiceNumber: string; dueAt: string; note: string }, key?: string): Promise<TaskView> {
      const inv = await invoiceForUser(sql, user, body.invoiceNumber);
      if ((TERMINAL_STAGES as readonly string[]).includes(inv.stage)) throw new DomainError('invoice_closed', `invoice ${body.invoiceNumber} is ${inv.stage}`);
      const id = await sql.begin(async (tx) => {
        await lockCustomer(tx, tenantId, inv.customer_id);
        const taskKey = key ? `manual:${tenantId}:${key}` : `manual:${tenantId}:${body.invoiceNumber}:n${(await countCallTasks(tx, tenantId, body.invoiceNumber, 'manual')) + 1}`;
        const taskId = await insertManualTaskOnce(tx, {
          idempotencyKey: taskKey, tenantId, invoiceNumber: body.invoiceNumber, customerId: inv.customer_id, workflowId: inv.workflow_id,
          dueAt: body.dueAt, note: body.note, createdBy: user.userId,
        });
        await work.audit({ eventKey: `task:${tenantId}:${taskId}:created`, actor: user.userId, type: 'task_created', invoiceNumber: body.invoiceNumber, workflowId: inv.workflow_id, details: { taskId, dueAt: body.dueAt, note: body.note } }, tx);
        return taskId;
      });
      return view(await loadTask(id));
    },

    /**
     * Records a call's outcome: the invoice workflow applies it first (a validated update, deduplicated
     * by task id), then the task is closed with the outcome and the customer's history gets the entry.
     * A task completes once: a second completion is a 409 naming the first outcome, and changes nothing.
     */
    async completeTask(user: AuthUser, taskId: number, body: { outcome: CallOutcomeBody; note: string }) {
      const row = await loadTask(taskId);
      await assertCustomerAccess(sql, user, row.customer_id);
      const alreadyDone = (r: TaskRow) =>
        new DomainError('task_already_completed', r.status === 'cancelled'
          ? `task ${taskId} was cancelled (${r.cancelled_reason ?? 'no reason'}); nothing to complete`
          : `task ${taskId} was already completed by ${r.completed_by} at ${r.completed_at?.toISOString()} with outcome ${r.outcome}`, {
          task: { taskId, status: r.status, outcome: r.outcome, completedBy: r.completed_by, completedAt: r.completed_at?.toISOString() ?? null },
        });
      if (row.status !== 'open') throw alreadyDone(row);
      const outcome: CallOutcome = toCallOutcome(body.outcome, row.time_zone, taskId);
      if (outcome.code === 'wrong_contact')
        await contacts.flagForUpdate(row.customer_id, outcome.contactId, `wrong contact on call task ${taskId}: ${body.note}`.trim(), user.userId, { eventKey: `task:${tenantId}:${taskId}:wrong-contact` });
      const result: CallOutcomeResult | undefined = await work.update(row.workflow_id, (h) =>
        h.executeUpdate(recordCallOutcomeUpdate, { updateId: `task-${taskId}-outcome`, args: [{ taskId, attempt: row.attempt, outcome, note: body.note, actor: user.userId }] }),
      );
      const reached = REACHED_OUTCOMES.includes(outcome.code);
      const closed = await sql.begin(async (tx) => {
        if (!(await completeOpenCallTask(tx, tenantId, taskId, { outcome, note: body.note, completedBy: user.userId }))) return false;
        await work.history(
          {
            eventKey: `task:${tenantId}:${taskId}:outcome`, customerId: row.customer_id, invoiceNumber: row.invoice_number, taskId, actor: user.userId,
            kind: 'call_outcome', outcome: outcome.code, reached, note: body.note, details: { outcome, followUpTask: result?.followUpTask ?? null, effects: result?.effects ?? [] },
          },
          tx,
        );
        await work.audit(
          { eventKey: `task:${tenantId}:${taskId}:completed`, actor: user.userId, type: 'task_completed', invoiceNumber: row.invoice_number, workflowId: row.workflow_id, details: { taskId, outcome, note: body.note } },
          tx,
        );
        return true;
      });
      if (!closed) throw alreadyDone(await loadTask(taskId));
      return {
        task: view(await loadTask(taskId)),
        workflow: result
          ? { applied: true, stage: result.stage, openAmountMinor: result.openAmountMinor, nextStep: result.nextStep, followUpTask: result.followUpTask, effects: result.effects }
          : { applied: false, stage: row.stage, openAmountMinor: row.open_amount_minor, nextStep: null, followUpTask: null, effects: [`invoice ${row.invoice_number} is no longer in dunning: outcome recorded only`] },
      };
    },
  };
}

export type TasksService = ReturnType<typeof createTasksService>;

/** The outcome as the API takes it: a callback is a local date and time in the customer's zone. */
export type CallOutcomeBody =
  | Exclude<CallOutcome, { code: 'callback_requested' } | { code: 'promise_to_pay' }>
  | { code: 'promise_to_pay'; amountMinor: number; promisedDate: string; madeBy: string }
  | { code: 'callback_requested'; callbackDate: string; callbackTime: string };

function toCallOutcome(body: CallOutcomeBody, timeZone: string, taskId: number): CallOutcome {
  // A task completes once, so its promise is named by the task: a retried completion cannot make a second one.
  if (body.code === 'promise_to_pay') return { ...body, promiseId: `PTP-T${taskId}` };
  if (body.code === 'callback_requested') {
    const at = DateTime.fromISO(`${body.callbackDate}T${body.callbackTime}`, { zone: timeZone });
    if (!at.isValid) throw new DomainError('invalid_callback_time', `${body.callbackDate} ${body.callbackTime} is not a time in ${timeZone}`);
    return { code: 'callback_requested', callbackAt: at.toUTC().toISO()! };
  }
  return body;
}
