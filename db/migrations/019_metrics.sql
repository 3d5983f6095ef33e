-- The dunning's state for GET /metrics (db/metrics.ts readDunningState), read at most every 5 s by each API replica:
-- the parts that scanned a whole table at 200,000 invoices (issue 15's bench) get an index each.
-- The next steps due by time: an overdue step is found in the range next_step_at < now() - grace, not by a scan.
create index invoices_next_step_at on invoices (tenant_id, next_step_at) where next_step_at is not null;
-- Messages marked uncertain (a crash mid-send): a handful among all the messages ever sent.
create index outbound_messages_uncertain on outbound_messages (tenant_id) where status = 'uncertain';
-- The newest ERP change the sync applied (the sync lag): the top of an index instead of a max over the ledger.
create index ledger_invoices_erp_changed on ledger_invoices (tenant_id, erp_changed_at) where erp_changed_at is not null;
