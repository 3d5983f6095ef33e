import { condition, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { system } from '../activity-proxies';
import { refuseIf } from '../refuse';
import { collectionPolicyOf, promiseRulesOf } from '../../domain/collection-policy';
import { daysPastDue } from '../../domain/schedule';
import { localDate } from '../../domain/promises';
import type { Cadence } from '../../domain/cadence';
import type { CustomerMessageResult } from '../../domain/customer-messages';
import type { FollowUpTask } from '../../domain/call-outcomes';
import { invoiceRefusal, type InvoiceRequest } from '../../domain/invoice-refusals';
import { applyBalance, changeCourse, describeNext, isClosed, pausedUntil, withStage, type DunningStage, type DunningState, type PlanContext } from '../../domain/invoice-state';
import { wantsMessage } from '../../domain/invoice-transitions';
import { dunningStageKey, type InvoiceDunningInput } from '../messages';

export type MessageWish = { kind: 'step' } | { kind: 'courtesy'; promiseId: string };

/**
 * One run of an invoice's workflow: its state and the few things every handler needs (the audit trail,
 * the ERP re-read, tasks, notifications, the customer's messages, and waiting). Handlers and the cadence
 * loop commit every state change through `commit`, which keeps the DunningStage search attribute in step.
 */
export class InvoiceRun {
  readonly tenantId: string;
  readonly invoice: InvoiceDunningInput['invoice'];
  readonly customer: InvoiceDunningInput['customer'];
  readonly workflowId: string;
  state: DunningState;
  cadence: Cadence;
  /** A new cadence version, applied at the next step boundary. */
  pendingCadence: Cadence | undefined;
  /** The customer contact workflow's answers, by request id. */
  readonly messageResults = new Map<string, CustomerMessageResult>();
  /** The messages this run queued, and what each is for: the contact workflow asks whether they are still wanted. */
  readonly queuedMessages = new Map<string, MessageWish>();
  /** People change the invoice's course (a promise, a pause, a dispute): the main loop looks again when this moves. */
  wake = 0;
  /** Payments recorded in the audit trail so far (they arrive by signal or update, and are audited by the loop). */
  auditedPayments: number;

  constructor(input: InvoiceDunningInput) {
    this.tenantId = input.tenantId;
    this.invoice = input.invoice;
    this.customer = input.customer;
    this.cadence = input.cadence;
    this.pendingCadence = undefined;
    this.workflowId = workflowInfo().workflowId;
    this.state = input.state ?? {
      stage: 'active',
      openAmountMinor: input.invoice.amountMinor,
      currency: input.invoice.currency,
      cadence: { id: input.cadence.id, version: input.cadence.version },
      nextStep: null,
      // A rebill or split part goes on with the original's cadence: its steps count here as done.
      steps: input.carriedFrom ? [...input.carriedFrom.steps] : [],
      payments: [],
      eventSeq: 0,
      ...(input.carriedFrom ? { carriedFrom: input.carriedFrom.invoiceNumber } : {}),
    };
    this.auditedPayments = this.state.payments.length;
  }

  isClosed(): boolean {
    return isClosed(this.state);
  }

  /** The next state; the stage's search attribute follows it. */
  commit(next: DunningState): void {
    const stageChanged = next.stage !== this.state.stage;
    this.state = next;
    if (stageChanged) upsertSearchAttributes([{ key: dunningStageKey, value: next.stage }]);
  }

  setStage(stage: DunningStage): void {
    this.commit(withStage(this.state, stage));
  }

  /** Applies a change of the state's fields (never held across an await). */
  update(fields: Partial<DunningState>): void {
    this.commit({ ...this.state, ...fields });
  }

  scheduleCtx() {
    return { dueDate: this.invoice.dueDate, timeZone: this.customer.timeZone, calendar: this.state.calendar };
  }

  planContext(): PlanContext {
    return { cadence: this.cadence, schedule: this.scheduleCtx(), now: new Date() };
  }

  policy() {
    return collectionPolicyOf(this.cadence);
  }

  today(): string {
    return localDate(Date.now(), this.customer.timeZone);
  }

  pastDue(): number {
    return daysPastDue(this.scheduleCtx(), new Date());
  }

  promiseRules() {
    return promiseRulesOf(this.policy());
  }

  /** An update validator: refuses the request with a typed code when the invoice's state does not allow it. */
  validate(request: InvoiceRequest): void {
    refuseIf(invoiceRefusal(this.state, request, { invoice: this.invoice, nowMs: Date.now(), today: this.today(), promiseRules: this.promiseRules() }));
  }

  /** People's work changed what holds the invoice: derive the stage, re-describe the next step, wake the loop. */
  changeCourse(): void {
    this.commit(changeCourse(this.state, this.planContext()));
    this.wake++;
  }

  describeNext(): DunningState['nextStep'] {
    return describeNext(this.state, this.planContext());
  }

  /** Records an event in the audit trail (and the database mirror), keyed by the run's event sequence. */
  audit(type: string, details: Record<string, unknown> = {}) {
    const eventSeq = this.state.eventSeq + 1;
    this.update({ eventSeq });
    const s = this.state;
    const closed = isClosed(s);
    return system.recordDunningEvent({
      eventKey: `${this.workflowId}:event:${eventSeq}`,
      tenantId: this.tenantId,
      invoiceNumber: this.invoice.number,
      workflowId: this.workflowId,
      type,
      stage: s.stage,
      openAmountMinor: s.openAmountMinor,
      nextStep: closed ? null : s.nextStep, // a closed invoice has no next step, whatever the loop last planned
      hold: {
        pausedUntil: closed ? null : (pausedUntil(s) ?? null),
        promiseDate: closed ? null : (s.promise?.installments.find((i) => i.status === 'pending')?.dueDate ?? null),
      },
      details,
    });
  }

  /** Re-reads the ERP balance (the system of record); false when the invoice is closed, the ERP's closure applied. */
  async rereadBalance(): Promise<boolean> {
    const balance = await system.getInvoiceBalance(this.invoice.number);
    const { state, open } = applyBalance(this.state, balance);
    this.commit(state);
    return open;
  }

  /** Writes off what is open through the ERP (a journal entry); the caller closes the invoice as written off. */
  async writeOffOpen(reason: string, idempotencyKey: string): Promise<{ journalId: string; writtenOffMinor: number }> {
    const writtenOffMinor = this.state.openAmountMinor;
    const off = await system.postWriteOff({ invoiceNumber: this.invoice.number, amountMinor: writtenOffMinor, currency: this.invoice.currency, reason, idempotencyKey });
    this.update({ openAmountMinor: off.invoice.openAmountMinor });
    return { journalId: off.journalId, writtenOffMinor };
  }

  async auditNewPayments(): Promise<void> {
    while (this.auditedPayments < this.state.payments.length) {
      const { paymentId, amountMinor, currency, source } = this.state.payments[this.auditedPayments++]!;
      await this.audit('payment_received', { paymentId, amountMinor, currency, source });
    }
  }

  /** Sleeps until `deadline` (epoch ms), closure, a new cadence version or a change of course, recording payments as they arrive. */
  async waitUntil(deadline: number): Promise<void> {
    const since = this.wake;
    while (!this.isClosed()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      if (this.pendingCadence || this.wake !== since) break;
      const woken = () => this.isClosed() || this.state.payments.length > this.auditedPayments || this.pendingCadence !== undefined || this.wake !== since;
      await (Number.isFinite(remaining) ? condition(woken, remaining) : condition(woken));
      await this.auditNewPayments();
    }
  }

  async createTask(kind: FollowUpTask['kind'], key: string, dueAt: string, attempt: number, note: string, parentTaskId?: number): Promise<FollowUpTask> {
    const task = await system.createCallTask({
      idempotencyKey: key,
      tenantId: this.tenantId,
      invoiceNumber: this.invoice.number,
      customerId: this.customer.id,
      collectorId: this.customer.collectorId ?? null,
      dueAt,
      note,
      kind,
      attempt,
      workflowId: this.workflowId,
      ...(parentTaskId !== undefined ? { parentTaskId } : {}),
    });
    return { taskId: task.taskId, kind, dueAt: task.dueAt, attempt };
  }

  notifyInternal(idempotencyKey: string, role: 'team_lead' | 'ar_manager', note: string, daysPastDue = this.pastDue()) {
    return system.notifyInternal({
      idempotencyKey,
      tenantId: this.tenantId,
      invoiceNumber: this.invoice.number,
      customerId: this.customer.id,
      role,
      note,
      openAmountMinor: this.state.openAmountMinor,
      currency: this.invoice.currency,
      daysPastDue,
    });
  }

  /** Whether the invoice still wants a message it queued (asked right before the contact workflow sends it). */
  wantsMessage(requestId: string): boolean {
    const wish = this.queuedMessages.get(requestId);
    return wish !== undefined && wantsMessage(this.state, wish);
  }

  /** Hands a customer-facing message to the customer's contact workflow (consolidation, cap, window, ERP re-check). */
  queueMessage(m: { requestId: string; stepId: string; kind: 'email' | 'statement'; template: string; daysPastDue: number; requestedAt: string }, wish: MessageWish) {
    this.queuedMessages.set(m.requestId, wish);
    return system.queueCustomerMessage({
      ...m,
      tenantId: this.tenantId,
      invoiceWorkflowId: this.workflowId,
      invoice: this.invoice,
      customer: this.customer,
      contactCap: this.cadence.contactCap,
      sendWindow: this.cadence.sendWindow,
      ...(this.state.calendar ? { calendar: this.state.calendar } : {}),
      ...(this.state.dispute ? { disputedAmountMinor: this.state.dispute.amountMinor } : {}),
    });
  }
}
