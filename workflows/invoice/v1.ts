import { ApplicationFailure } from '@temporalio/workflow';
import { contact, system } from '../activity-proxies';
import type { CadenceStep } from '../../domain/cadence';
import type { StepRecord } from '../../domain/invoice-state';
import type { InvoiceRun } from './run';

/**
 * Version 1 of the step runner: what workflows started before cadence v2 (no `patched('cadence-v2')`
 * marker in their history) keep doing on replay. Email and call tasks only, sent straight, no conditions.
 */
export async function runStepV1(run: InvoiceRun, step: CadenceStep, key: string, pastDue: number): Promise<Pick<StepRecord, 'outcome'>> {
  if (step.action.type === 'email') {
    const sent = await contact.sendDunningEmail({
      idempotencyKey: key,
      tenantId: run.tenantId,
      invoice: run.invoice,
      customer: run.customer,
      template: step.action.template,
      openAmountMinor: run.state.openAmountMinor,
      daysPastDue: pastDue,
      stepId: step.id,
    });
    return { outcome: sent.status };
  }
  if (step.action.type === 'call_task') {
    await system.createCallTask({
      idempotencyKey: key,
      tenantId: run.tenantId,
      invoiceNumber: run.invoice.number,
      customerId: run.customer.id,
      collectorId: run.customer.collectorId ?? null,
      dueAt: new Date().toISOString(),
      note: step.action.note,
    });
    return { outcome: 'task_created' };
  }
  throw ApplicationFailure.nonRetryable(`action ${step.action.type} needs the cadence-v2 worker code`, 'UnsupportedAction');
}
