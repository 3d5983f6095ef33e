-- People, their access, and their work: users and API tokens, portfolios, call tasks with outcomes,
-- the customer's activity history, contacts and their preferences, promises to pay, payment plans, pauses.

-- A user acts with one role. A collector's portfolio is the customers whose collector_id is their user_id.
create table users (
  tenant_id             text not null,
  user_id               text not null check (user_id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  name                  text not null,
  role                  text not null check (role in ('collector', 'team_lead', 'ar_manager', 'admin')),
  -- Largest amount (reporting currency, minor units) this user may approve; null = the role's default (authority matrix).
  approval_limit_minor  bigint check (approval_limit_minor >= 0),
  active                boolean not null default true,
  created_at            timestamptz not null default now(),
  primary key (tenant_id, user_id)
);

-- A token is "dun_<token_id>_<secret>": token_id finds the row, only SHA-256(secret) is stored.
create table api_tokens (
  token_id      text primary key,
  tenant_id     text not null,
  user_id       text not null,
  secret_sha256 text not null check (secret_sha256 ~ '^[0-9a-f]{64}$'),
  label         text not null default '',
  created_at    timestamptz not null default now(),
  expires_at    timestamptz,
  revoked_at    timestamptz,
  last_used_at  timestamptz,
  foreign key (tenant_id, user_id) references users (tenant_id, user_id)
);
create index api_tokens_user on api_tokens (tenant_id, user_id);

-- Call tasks: where they came from, which attempt, and how they ended.
alter table call_tasks drop constraint call_tasks_status_check;
alter table call_tasks
  add constraint call_tasks_status_check check (status in ('open', 'done', 'cancelled')),
  add column kind            text not null default 'cadence'
    check (kind in ('cadence', 'manual', 'follow_up', 'callback', 'broken_promise', 'dispute_rejected')),
  add column attempt         int not null default 1 check (attempt >= 1),
  add column parent_task_id  bigint references call_tasks (id),
  add column workflow_id     text,
  add column created_by      text not null default 'workflow',
  add column outcome         text,
  add column outcome_note    text,
  add column outcome_details jsonb,
  add column completed_at    timestamptz,
  add column completed_by    text,
  add column cancelled_reason text;
create index call_tasks_invoice on call_tasks (tenant_id, invoice_number, status);
create index call_tasks_customer on call_tasks (tenant_id, customer_id, status);

-- Everything that happened with a customer, newest first: call outcomes, notes, promises and their verdicts, pauses.
create table customer_activities (
  id              bigserial primary key,
  event_key       text unique,
  tenant_id       text not null,
  customer_id     text not null,
  invoice_number  text,
  task_id         bigint references call_tasks (id),
  occurred_at     timestamptz not null default now(),
  actor           text not null,
  kind            text not null check (kind in ('call_outcome', 'note', 'promise', 'promise_verdict', 'payment_plan', 'pause', 'resume', 'contact_update', 'reassignment')),
  outcome         text,
  -- A reached call is a successful contact: the worklist's "last successful contact" reads this flag.
  reached         boolean not null default false,
  note            text not null default '',
  details         jsonb not null default '{}'
);
create index customer_activities_customer on customer_activities (tenant_id, customer_id, occurred_at desc);

-- The people at a customer: who to write to or call, and how they want to be reached.
create table customer_contacts (
  tenant_id           text not null,
  customer_id         text not null,
  contact_id          text not null check (contact_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  name                text not null,
  email               text,
  phone               text,
  role                text,
  preferred_channel   text not null default 'email' check (preferred_channel in ('email', 'phone', 'letter')),
  do_not_contact      boolean not null default false,
  is_primary          boolean not null default false,
  needs_update        boolean not null default false,
  needs_update_reason text,
  updated_at          timestamptz not null default now(),
  primary key (tenant_id, customer_id, contact_id),
  foreign key (tenant_id, customer_id) references customers (tenant_id, customer_id)
);
create unique index customer_contacts_one_primary on customer_contacts (tenant_id, customer_id) where is_primary;

-- A payment plan: installments (rows in promises) for one or more invoices of one customer.
create table payment_plans (
  tenant_id      text not null,
  plan_id        text not null,
  customer_id    text not null,
  currency       char(3) not null,
  total_minor    bigint not null check (total_minor > 0),
  max_missed     int not null check (max_missed >= 0),
  status         text not null default 'active' check (status in ('active', 'completed', 'broken', 'cancelled')),
  created_by     text not null,
  created_at     timestamptz not null default now(),
  primary key (tenant_id, plan_id)
);

-- Promises to pay, one row per invoice covered (a promise or installment over two invoices has two rows).
create table promises (
  tenant_id       text not null,
  promise_id      text not null,
  invoice_number  text not null,
  customer_id     text not null,
  plan_id         text,
  installment_no  int check (installment_no >= 1),
  amount_minor    bigint not null check (amount_minor > 0),
  currency        char(3) not null,
  promised_date   date not null,
  check_date      date,
  made_by         text not null,
  recorded_by     text not null,
  collector_id    text,
  status          text not null default 'open' check (status in ('open', 'kept', 'partially_kept', 'broken', 'cancelled')),
  paid_minor      bigint check (paid_minor >= 0),
  evaluated_at    timestamptz,
  created_at      timestamptz not null default now(),
  primary key (tenant_id, promise_id, invoice_number),
  foreign key (tenant_id, plan_id) references payment_plans (tenant_id, plan_id)
);
create index promises_customer on promises (tenant_id, customer_id, status);
create index promises_collector on promises (tenant_id, collector_id, status);

-- Pauses: an invoice's lives in its workflow (mirrored here for lists); a customer's is kept so that
-- invoices enrolled during the pause start paused too.
alter table invoices add column paused_until timestamptz, add column promise_date date;
alter table customers
  add column paused boolean not null default false,
  add column paused_until timestamptz,
  add column pause_reason text;
