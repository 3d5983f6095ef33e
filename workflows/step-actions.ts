import { system } from './activity-proxies';
import type { CadenceStep } from '../domain/cadence';
import type { CustomerContact, InvoiceRef, StepRecord } from './messages';

export interface InternalStepContext {
  idempotencyKey: string;
  tenantId: string;
  invoice: InvoiceRef;
  customer: CustomerContact;
  openAmountMinor: number;
  daysPastDue: number;
}

/** The steps that do not speak to the customer: work for people inside, the ERP, other systems. */
export async function runInternalAction(step: CadenceStep, ctx: InternalStepContext): Promise<Pick<StepRecord, 'outcome' | 'detail'>> {
  const { action } = step;
  const base = { idempotencyKey: ctx.idempotencyKey, tenantId: ctx.tenantId, invoiceNumber: ctx.invoice.number, customerId: ctx.customer.id };
  switch (action.type) {
    case 'call_task':
      await system.createCallTask({ ...base, collectorId: ctx.customer.collectorId ?? null, dueAt: new Date().toISOString(), note: action.note });
      return { outcome: 'task_created' };
    case 'escalate':
      await system.notifyInternal({ ...base, role: action.role, note: action.note, openAmountMinor: ctx.openAmountMinor, currency: ctx.invoice.currency, daysPastDue: ctx.daysPastDue });
      return { outcome: 'notified', detail: action.role };
    case 'credit_hold':
      await system.placeCreditHold({ idempotencyKey: ctx.idempotencyKey, tenantId: ctx.tenantId, customerId: ctx.customer.id, reason: action.reason });
      return { outcome: 'hold_placed' };
    case 'webhook':
      await system.postWebhook({
        ...base,
        endpoint: action.endpoint,
        event: action.event,
        data: { invoiceNumber: ctx.invoice.number, customerId: ctx.customer.id, currency: ctx.invoice.currency, openAmountMinor: ctx.openAmountMinor, daysPastDue: ctx.daysPastDue, stepId: step.id },
      });
      return { outcome: 'webhook_sent', detail: action.endpoint };
    case 'request_write_off':
      // Until approvals exist the request is recorded for a manager to see; nothing is written off.
      return { outcome: 'requested', detail: action.reason };
    case 'handoff':
      return { outcome: 'requested', detail: `${action.to}: ${action.note}` };
    case 'email':
    case 'statement':
      throw new TypeError(`${action.type} is customer-facing`);
  }
}
