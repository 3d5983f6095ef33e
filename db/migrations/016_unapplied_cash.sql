-- Unapplied cash (issue 12): money received that no open invoice claimed, from the ERP's change feed
-- (erp_sync), the ERP's payment webhook naming an invoice we do not know (erp_webhook) or a bank statement
-- upload (bank_statement). Once per payment id and source: a page synced again or a statement uploaded again
-- adds nothing. A person applies it to invoices through the ERP (unapplied_cash_applications), or resolves
-- what is left as a refund or on account.
create table unapplied_cash (
  id               bigint generated always as identity primary key,
  tenant_id        text not null,
  source           text not null check (source in ('erp_sync', 'erp_webhook', 'bank_statement')),
  -- The source's id: the ERP's payment id, or the bank entry's (account:reference, or a digest: integrations/bank/).
  payment_id       text not null check (length(payment_id) between 1 and 300),
  -- The payer when known (the ERP's customer, or a customer whose name is the bank's payer name).
  customer_id      text,
  payer_name       text,
  amount_minor     bigint not null check (amount_minor > 0),
  currency         char(3) not null check (currency ~ '^[A-Z]{3}$'),
  received_at      timestamptz not null,
  remittance       text not null default '',
  -- What the source told besides: bank references and statement, the ERP's invoice of a webhook payment.
  details          jsonb not null default '{}',
  -- open: waiting (nothing or part applied); applied: all of it applied; refund / on_account: the rest resolved so.
  status           text not null default 'open' check (status in ('open', 'applied', 'refund', 'on_account')),
  applied_minor    bigint not null default 0 check (applied_minor >= 0 and applied_minor <= amount_minor),
  resolution_note  text,
  resolved_by      text,
  resolved_at      timestamptz,
  created_at       timestamptz not null default now(),
  unique (tenant_id, source, payment_id),
  check ((status = 'open') = (resolved_at is null)),
  check (status <> 'applied' or applied_minor = amount_minor)
);
create index unapplied_cash_queue on unapplied_cash (tenant_id, status, received_at);
create index unapplied_cash_customer on unapplied_cash (tenant_id, customer_id, status);

-- Each application of a queue item through the ERP, once per idempotency key (the item and its allocation
-- set): a retried request finds its row and neither the ERP nor the invoices see the payment twice.
create table unapplied_cash_applications (
  tenant_id        text not null,
  idempotency_key  text not null,
  cash_id          bigint not null references unapplied_cash (id),
  -- The payment id the ERP was asked to apply.
  erp_payment_id   text not null,
  allocations      jsonb not null,
  applied_minor    bigint not null check (applied_minor > 0),
  -- The ERP's answer: each invoice's applied amount, open amount and status after.
  erp_result       jsonb not null,
  applied_by       text not null,
  applied_at       timestamptz not null default now(),
  primary key (tenant_id, idempotency_key)
);
create index unapplied_cash_applications_item on unapplied_cash_applications (cash_id);

-- Invoice numbers as the matching compares them (domain/cash-matching.ts normalizeInvoiceRef: letters and
-- digits, upper case, no INVOICE/INV prefix, no leading zeros), indexed for the remittance's references.
create function cash_invoice_ref(t text) returns text language sql immutable parallel safe
  return ltrim(regexp_replace(upper(regexp_replace(t, '[^A-Za-z0-9]', '', 'g')), '^(INVOICE|INV)', ''), '0');
create index invoices_cash_ref on invoices (tenant_id, cash_invoice_ref(invoice_number));
create index ledger_invoices_cash_ref on ledger_invoices (tenant_id, cash_invoice_ref(invoice_number)) where status = 'open';
-- Open items of an exact amount.
create index invoices_cash_amount on invoices (tenant_id, currency, open_amount_minor);
create index ledger_invoices_cash_amount on ledger_invoices (tenant_id, currency, open_amount_minor) where status = 'open';
