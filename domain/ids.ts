/**
 * Business ids everywhere: the workflow id comes from tenant and invoice, so enrolling an invoice
 * twice can never start a second workflow; side-effect keys come from the workflow and the step.
 */
export function invoiceWorkflowId(tenantId: string, invoiceNumber: string): string {
  return `invoice-dunning:${tenantId}:${invoiceNumber}`;
}

export function stepIdempotencyKey(workflowId: string, stepId: string): string {
  return `${workflowId}:step:${stepId}`;
}
