-- Bulk imports of AR exports (issue 12, section 3): the jobs, their per-row report, the customers the files name,
-- and ledger mode's own record of what it did to balances (ERP_KIND=ledger: the imported ledger is the system of record).

-- One import of one file: progress while it runs, counts and the outcome once done.
create table import_jobs (
  id                bigserial primary key,
  tenant_id         text not null,
  file_name         text not null,
  format            text not null check (format in ('csv', 'xlsx')),
  -- The preset asked for, or null: detected from the header (then the one found is written here), 'custom' for a mapping.
  preset            text,
  -- dry_run: nothing stored; all_or_nothing: any rejected row stores nothing; keep_good: the good rows stored, the rejected reported.
  mode              text not null check (mode in ('dry_run', 'all_or_nothing', 'keep_good')),
  status            text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
  phase             text not null default 'queued' check (phase in ('queued', 'reading', 'writing', 'done')),
  requested_by      text not null,
  -- The ERP connection in force: with an ERP connected (not 'ledger'), rows the ERP wrote are not overwritten.
  erp_kind          text not null,
  -- The file's header cells (for the reject file: same columns plus a reason).
  header            jsonb,
  bytes_total       bigint not null default 0,
  bytes_read        bigint not null default 0,
  rows_read         int not null default 0,
  rows_per_second   real not null default 0,
  created           int not null default 0,
  updated           int not null default 0,
  unchanged         int not null default 0,
  rejected          int not null default 0,
  skipped           int not null default 0,
  customers_written int not null default 0,
  -- Whether the ledger now holds this file's rows (false for a dry run and a refused all-or-nothing file).
  stored            boolean not null default false,
  error             text,
  created_at        timestamptz not null default now(),
  started_at        timestamptz,
  finished_at       timestamptz
);
create index import_jobs_tenant on import_jobs (tenant_id, id desc);

-- Per data row of the file: what the import did (or would do) with it, and why a row was rejected or skipped.
create table import_rows (
  import_id       bigint not null references import_jobs (id) on delete cascade,
  row_number      int not null,
  outcome         text not null check (outcome in ('created', 'updated', 'unchanged', 'rejected', 'skipped')),
  invoice_number  text,
  -- [{ "column": "...", "reason": "..." }]
  issues          jsonb not null default '[]',
  -- The file's cells of a rejected row, for the reject file.
  cells           jsonb,
  primary key (import_id, row_number)
);
create index import_rows_outcome on import_rows (import_id, outcome, row_number);

-- The customers the ledger's invoices name, as far as files (or the ERP) tell: exports often lack what dunning needs,
-- so every field but the id may be missing; an import never blanks a field it does not have.
create table ledger_customers (
  tenant_id    text not null,
  customer_id  text not null,
  name         text,
  email        text,
  country      char(2) check (country ~ '^[A-Z]{2}$'),
  source       text not null check (source in ('erp', 'import')),
  import_id    bigint,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  primary key (tenant_id, customer_id)
);

-- Ledger mode's postings (payments applied, credit memos, write-offs, rebills): one row per idempotency key, with the
-- answer given, so that a retry gets the first answer and changes nothing.
create table ledger_adjustments (
  tenant_id        text not null,
  kind             text not null check (kind in ('payment', 'credit_memo', 'write_off', 'rebill')),
  idempotency_key  text not null,
  -- The payment id, credit memo id, journal id or the rebill's invoice number.
  document_id      text not null,
  invoice_number   text not null,
  amount_minor     bigint not null check (amount_minor >= 0),
  currency         char(3) not null,
  answer           jsonb not null,
  created_at       timestamptz not null default now(),
  primary key (tenant_id, kind, idempotency_key)
);
create index ledger_adjustments_invoice on ledger_adjustments (tenant_id, invoice_number);
