import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { invoiceWorkflowId } from '../../domain/ids';
import { customerContactStateQuery, customerContactWorkflowId } from '../../workflows/customer-messages';

/**
 * Waits on the event "nothing can still be sent" instead of a fixed quiet window before a negative check:
 * no activity pending and no workflow task under way (local activities run inside one) in the invoices'
 * workflows, nothing queued or in flight in their customers' contact workflows (a workflow that is gone or
 * closed counts as quiet). Throws, naming what is still busy, at the timeout.
 */
export async function untilNothingCanSend(where: { tenantId: string; invoiceNumbers: string[]; customerIds: string[] }, timeoutMs = 60_000): Promise<void> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const client = new Client({ connection });
  const busy = async (): Promise<string[]> => {
    const found: string[] = [];
    const describe = (id: string) => client.workflow.getHandle(id).describe().catch(() => undefined);
    for (const n of where.invoiceNumbers) {
      const d = await describe(invoiceWorkflowId(where.tenantId, n));
      if (d?.status.name !== 'RUNNING') continue;
      if (d.raw.pendingActivities?.length) found.push(`${n}: ${d.raw.pendingActivities.map((a) => a.activityType?.name).join(',')}`);
      else if (d.raw.pendingWorkflowTask) found.push(`${n}: a workflow task under way`);
    }
    for (const c of where.customerIds) {
      const handle = client.workflow.getHandle(customerContactWorkflowId(where.tenantId, c));
      const d = await describe(handle.workflowId);
      if (d?.status.name !== 'RUNNING') continue;
      const state = await handle.query(customerContactStateQuery);
      if (d.raw.pendingActivities?.length || d.raw.pendingWorkflowTask || state.pending.length || state.inFlight?.length) found.push(`${c}: pending ${state.pending.length}, in flight ${state.inFlight?.length ?? 0}`);
    }
    return found;
  };
  try {
    const deadline = Date.now() + timeoutMs;
    for (let left = await busy(); left.length > 0; left = await busy()) {
      if (Date.now() > deadline) throw new Error(`still able to send after ${timeoutMs} ms: ${left.join('; ')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await connection.close();
  }
}
