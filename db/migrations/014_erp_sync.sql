-- The ERP sync (issue 12, workflows/erp-sync.ts): per tenant and ERP connection, where the change feed stands
-- (the cursor moves only in the transaction that applies its page), the interval set through the API, each
-- run's record with its counters and errors, the customers the ERP named, what was last signalled to each
-- enrolled invoice, and the rebills/split parts linked to the invoice they replace.
create table erp_sync_state (
  tenant_id         text not null,
  connection        text not null,
  -- The feed's opaque cursor after the last applied page; null before the first.
  cursor            text,
  -- Set through PUT /erp-sync/interval; null: config/erp-sync.json or ERP_SYNC_INTERVAL_MINUTES.
  interval_seconds  integer check (interval_seconds is null or interval_seconds >= 60),
  updated_at        timestamptz not null default now(),
  primary key (tenant_id, connection)
);

create table erp_sync_runs (
  id                 bigserial primary key,
  tenant_id          text not null,
  connection         text not null,
  -- The sync workflow's id and first run id: a retried start activity finds its row.
  run_key            text not null unique,
  workflow_id        text not null,
  started_at         timestamptz not null default now(),
  finished_at        timestamptz,
  status             text not null default 'running' check (status in ('running', 'completed', 'failed')),
  cursor_from        text,
  cursor_to          text,
  pages              integer not null default 0,
  received           integer not null default 0,
  created            integer not null default 0,
  updated            integer not null default 0,
  unchanged          integer not null default 0,
  enrolled           integer not null default 0,
  signalled          integer not null default 0,
  closed             integer not null default 0,
  linked             integer not null default 0,
  skipped            integer not null default 0,
  customers          integer not null default 0,
  unapplied_payments integer not null default 0,
  errors             integer not null default 0,
  failure            text
);
create index erp_sync_runs_recent on erp_sync_runs (tenant_id, connection, id desc);

create table erp_sync_errors (
  id              bigserial primary key,
  run_id          bigint not null references erp_sync_runs (id),
  -- The ERP's id of the record (invoice or customer) and our number for it when it has one.
  erp_id          text not null,
  invoice_number  text,
  customer_id     text,
  code            text not null,
  reason          text not null,
  at              timestamptz not null default now(),
  unique (run_id, erp_id, code)
);

-- The ERP's customer accounts as the feed gave them, mapped (config/erp-sync.json): what an invoice admitted by a
-- later run is enrolled with.
create table erp_sync_customers (
  tenant_id     text not null,
  customer_id   text not null,
  erp           jsonb not null,
  updated_at    timestamptz not null default now(),
  primary key (tenant_id, customer_id)
);

-- What the sync last told an enrolled invoice's workflow (ledgerChanged): a page run again signals nothing new.
create table erp_sync_signals (
  tenant_id          text not null,
  invoice_number     text not null,
  due_date           date not null,
  open_amount_minor  bigint not null,
  status             text not null,
  changed_at         timestamptz not null,
  signalled_at       timestamptz not null default now(),
  primary key (tenant_id, invoice_number)
);

-- A rebill or split part enrolled with the dunning of the invoice it replaces.
create table erp_sync_links (
  tenant_id         text not null,
  invoice_number    text not null,
  original_number   text not null,
  carried_steps     integer not null,
  linked_at         timestamptz not null default now(),
  primary key (tenant_id, invoice_number)
);
