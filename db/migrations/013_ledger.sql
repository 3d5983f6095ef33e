-- The receivables ledger as we know it (issue 12): every customer invoice the ERP sync or a file import has
-- seen, enrolled in dunning or not (not due yet, below the policy's minimum, paid long ago). It is the read
-- model the sync enrolls from when an invoice comes within the enrollment window, the system of record itself
-- in ledger mode (ERP_KIND=ledger: a team without an ERP API), and the history reports and backtests read.
create table ledger_invoices (
  tenant_id          text not null,
  invoice_number     text not null,
  customer_id        text not null,
  currency           char(3) not null check (currency ~ '^[A-Z]{3}$'),
  amount_minor       bigint not null check (amount_minor >= 0),
  open_amount_minor  bigint not null check (open_amount_minor >= 0),
  status             text not null check (status in ('open', 'paid', 'credited', 'written_off', 'cancelled')),
  issue_date         date not null,
  due_date           date not null check (due_date >= issue_date),
  settled_date       date,
  -- A rebill or split part: the invoice it replaces (its dunning carries over).
  rebill_of          text,
  disputed           boolean not null default false,
  -- Who last wrote the row: the ERP sync ('erp') or an import ('import'); with an ERP connected, the ERP's word wins.
  source             text not null check (source in ('erp', 'import')),
  -- The ERP's own id of the record and when the ERP last changed it (sync only).
  erp_id             text,
  erp_changed_at     timestamptz,
  -- The import job that last wrote it (imports only).
  import_id          bigint,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  -- Moves on every change of the row: ledger mode's change feed pages by it.
  change_seq         bigint not null,
  primary key (tenant_id, invoice_number),
  check (status <> 'open' or open_amount_minor > 0 or amount_minor = 0)
);
create sequence ledger_change_seq;
alter table ledger_invoices alter column change_seq set default nextval('ledger_change_seq');
create index ledger_invoices_changes on ledger_invoices (tenant_id, change_seq);
create index ledger_invoices_customer on ledger_invoices (tenant_id, customer_id);
-- The open items by due date: what the sync enrolls as they come within the enrollment window.
create index ledger_invoices_open_due on ledger_invoices (tenant_id, due_date) where status = 'open';

-- A row whose data changed takes the next change number (an unchanged upsert keeps its own: the feed stays quiet).
create function ledger_invoices_change_seq() returns trigger language plpgsql as $$
begin
  if (new.customer_id, new.currency, new.amount_minor, new.open_amount_minor, new.status, new.issue_date, new.due_date,
      new.settled_date, new.rebill_of, new.disputed)
     is distinct from
     (old.customer_id, old.currency, old.amount_minor, old.open_amount_minor, old.status, old.issue_date, old.due_date,
      old.settled_date, old.rebill_of, old.disputed) then
    new.change_seq := nextval('ledger_change_seq');
    new.updated_at := now();
  else
    new.change_seq := old.change_seq;
  end if;
  return new;
end $$;
create trigger ledger_invoices_change_seq before update on ledger_invoices
  for each row execute function ledger_invoices_change_seq();
