-- The invoice mirror (stage, open amount, next step, holds) is written by the invoice workflow's
-- audit events. mirror_seq is the sequence number of the event it shows: an event older than that
-- (a late or retried activity) is kept in the audit trail but leaves the mirror alone.
alter table invoices add column mirror_seq bigint check (mirror_seq > 0);
