/**
 * Dispute reason codes, as AR teams record them (DESIGN.md section 1): the resolution matrix maps
 * each to the team that owns it.
 */
export const DISPUTE_REASONS = [
  'pricing',
  'quantity_short_shipment',
  'damaged_goods',
  'not_received',
  'po_missing_mismatch',
  'duplicate_billing',
  'tax',
  'credit_not_applied',
  'service_quality',
  'other',
] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];
