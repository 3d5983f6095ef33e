import { describe, expect, it } from 'vitest';
import { invoiceWorkflowId, stepIdempotencyKey } from '../../domain/ids';

// These strings are persisted (Temporal workflow ids, outbox and call-task idempotency keys, audit rows).
// Changing their format would start second workflows for enrolled invoices and re-send reminders:
// if one of these assertions fails, the change needs a migration, not a test update.
describe('invoiceWorkflowId', () => {
  it('is invoice-dunning:<tenant>:<invoice number>', () => {
    expect(invoiceWorkflowId('acme', 'INV-2025-0042')).toBe('invoice-dunning:acme:INV-2025-0042');
    expect(invoiceWorkflowId('default', '10042')).toBe('invoice-dunning:default:10042');
  });

  it('keeps the invoice number verbatim (case, spaces, slashes, colons, unicode)', () => {
    expect(invoiceWorkflowId('acme-eu', 'RE 2025/0042:a-Ü')).toBe('invoice-dunning:acme-eu:RE 2025/0042:a-Ü');
  });

  it('is deterministic and distinct per tenant and per invoice', () => {
    expect(invoiceWorkflowId('acme', 'INV-1')).toBe(invoiceWorkflowId('acme', 'INV-1'));
    expect(invoiceWorkflowId('acme', 'INV-1')).not.toBe(invoiceWorkflowId('globex', 'INV-1'));
    expect(invoiceWorkflowId('acme', 'INV-1')).not.toBe(invoiceWorkflowId('acme', 'INV-2'));
  });
});

describe('stepIdempotencyKey', () => {
  it('is <workflow id>:step:<step id>', () => {
    expect(stepIdempotencyKey('invoice-dunning:acme:INV-2025-0042', 'reminder-1')).toBe('invoice-dunning:acme:INV-2025-0042:step:reminder-1');
    expect(stepIdempotencyKey(invoiceWorkflowId('default', '10042'), 'call-1')).toBe('invoice-dunning:default:10042:step:call-1');
  });

  it('is distinct per step and per workflow', () => {
    const wf = invoiceWorkflowId('acme', 'INV-1');
    expect(stepIdempotencyKey(wf, 'reminder-1')).not.toBe(stepIdempotencyKey(wf, 'reminder-2'));
    expect(stepIdempotencyKey(wf, 'reminder-1')).not.toBe(stepIdempotencyKey(invoiceWorkflowId('acme', 'INV-2'), 'reminder-1'));
  });
});
