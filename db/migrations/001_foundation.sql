-- Read models and the collectors' work. The ERP stays the system of record for balances and payments.
create table customers (
  tenant_id     text not null,
  customer_id   text not null,
  name          text not null,
  email         text not null,
  time_zone     text not null,
  locale        text not null,
  collector_id  text,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  primary key (tenant_id, customer_id)
);

create table invoices (
  tenant_id          text not null,
  invoice_number     text not null,
  customer_id        text not null,
  currency           char(3) not null check (currency ~ '^[A-Z]{3}$'),
  amount_minor       bigint not null check (amount_minor > 0),
  open_amount_minor  bigint not null check (open_amount_minor >= 0),
  issue_date         date not null,
  due_date           date not null check (due_date >= issue_date),
  workflow_id        text not null unique,
  cadence_id         text not null,
  cadence_version    int not null,
  stage              text not null default 'active',
  next_step_id       text,
  next_step_at       timestamptz,
  enrolled_at        timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  primary key (tenant_id, invoice_number),
  foreign key (tenant_id, customer_id) references customers (tenant_id, customer_id)
);
create index invoices_customer on invoices (tenant_id, customer_id);
create index invoices_stage on invoices (tenant_id, stage);

-- Outbox of customer-facing messages: the idempotency key (workflow + step) makes a send happen at most once.
create table outbound_messages (
  idempotency_key  text primary key,
  tenant_id        text not null,
  invoice_number   text not null,
  channel          text not null check (channel in ('email')),
  recipient        text not null,
  subject          text not null,
  status           text not null check (status in ('sending', 'sent', 'uncertain')),
  message_id       text not null,
  created_at       timestamptz not null default now(),
  sent_at          timestamptz
);

create table call_tasks (
  id               bigserial primary key,
  idempotency_key  text unique,
  tenant_id        text not null,
  invoice_number   text not null,
  customer_id      text not null,
  collector_id     text,
  due_at           timestamptz not null,
  status           text not null default 'open' check (status in ('open', 'done', 'cancelled')),
  note             text not null,
  created_at       timestamptz not null default now()
);
create index call_tasks_worklist on call_tasks (tenant_id, collector_id, status, due_at);

create table payments (
  tenant_id       text not null,
  payment_id      text not null,
  invoice_number  text not null,
  amount_minor    bigint not null check (amount_minor > 0),
  currency        char(3) not null,
  received_at     timestamptz not null,
  source          text not null check (source in ('api', 'erp_webhook')),
  recorded_at     timestamptz not null default now(),
  primary key (tenant_id, payment_id)
);

-- Append-only audit trail: every step, state change and user action. event_key deduplicates retried writes.
create table audit_events (
  id              bigserial primary key,
  event_key       text not null unique,
  tenant_id       text not null,
  occurred_at     timestamptz not null default now(),
  actor           text not null,
  invoice_number  text,
  workflow_id     text,
  event_type      text not null,
  details         jsonb not null default '{}'
);
create index audit_events_invoice on audit_events (tenant_id, invoice_number, id);
