-- Which cadence step of each listed invoice an outbound message carried (audit, and the crash tests tie every
-- mail to its (invoice, step) pairs by it): step_ids[i] is the step of invoice_numbers[i]. Null for rows written
-- before this migration and for messages that belong to no cadence step (an invoice copy asked for on a call,
-- a dispute's rejection).
alter table outbound_messages add column step_ids text[];
alter table outbound_messages add constraint outbound_messages_step_ids_aligned
  check (step_ids is null or cardinality(step_ids) = cardinality(invoice_numbers));
