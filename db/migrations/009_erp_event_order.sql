-- The ERP's newest word on each invoice: the time (its own clock) and sequence number of the latest
-- payment.applied event whose open amount was applied, and its id. An event older than that (delivered
-- late, out of order, or replayed) is recorded (its payment, the audit trail) but never overrides newer state.
alter table invoices
  add column erp_event_at timestamptz,
  add column erp_event_sequence bigint check (erp_event_sequence > 0),
  add column erp_event_id text;
