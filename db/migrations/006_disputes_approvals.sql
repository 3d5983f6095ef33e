-- Disputes routed by the resolution matrix, approvals decided per the authority matrix, hand-offs.

-- Owner teams (pricing, customer service, sales, billing, logistics, tax...) work disputes: their
-- people are users of the team, with the role team_member (no portfolio) unless they are AR staff.
alter table users drop constraint users_role_check;
alter table users add constraint users_role_check check (role in ('team_member', 'collector', 'team_lead', 'ar_manager', 'admin'));
alter table users add column team text check (team ~ '^[a-z][a-z0-9_]{0,40}$');

-- Configuration documents edited through the API (resolution matrix, authority matrix): every save
-- is a new version; the newest is in force. Files in config/ seed version 1.
create table config_documents (
  tenant_id   text not null,
  name        text not null check (name in ('resolution_matrix', 'authority_matrix')),
  version     int not null check (version > 0),
  document    jsonb not null,
  created_by  text not null,
  created_at  timestamptz not null default now(),
  primary key (tenant_id, name, version)
);

create table disputes (
  tenant_id              text not null,
  dispute_id             text not null,
  invoice_number         text not null,
  customer_id            text not null,
  workflow_id            text not null,
  disputed_amount_minor  bigint not null check (disputed_amount_minor > 0),
  currency               char(3) not null,
  reason_code            text not null,
  evidence_note          text not null default '',
  source                 text not null check (source in ('call', 'api', 'erp')),
  opened_by              text not null,
  opened_at              timestamptz not null default now(),
  owner_team             text not null,
  owner_user             text,
  lead_user              text,
  deadline_date          date not null,
  deadline_at            timestamptz not null,
  status                 text not null default 'open' check (status in ('open', 'escalated', 'resolved_valid', 'resolved_invalid', 'withdrawn')),
  reminded_at            timestamptz,
  escalated_at           timestamptz,
  credit_amount_minor    bigint check (credit_amount_minor >= 0),
  credit_memo_id         text,
  rebill_invoice_number  text,
  root_cause             text,
  resolution_note        text,
  resolved_by            text,
  resolved_at            timestamptz,
  primary key (tenant_id, dispute_id)
);
create index disputes_owner on disputes (tenant_id, owner_team, status, deadline_at);
create index disputes_invoice on disputes (tenant_id, invoice_number);

create table approval_requests (
  tenant_id               text not null,
  request_id              text not null,
  invoice_number          text not null,
  customer_id             text not null,
  workflow_id             text not null,
  action                  text not null check (action in ('write_off', 'settlement', 'credit_hold', 'release_credit_hold', 'legal_handoff', 'agency_handoff', 'extended_payment_plan')),
  amount_minor            bigint not null check (amount_minor >= 0),
  currency                char(3) not null,
  amount_reporting_minor  bigint not null check (amount_reporting_minor >= 0),
  reason                  text not null,
  source                  text not null check (source in ('cadence', 'api')),
  requested_by            text not null,
  requested_at            timestamptz not null default now(),
  required_role           text not null,
  level                   int not null default 0,
  status                  text not null default 'pending' check (status in ('pending', 'approved', 'rejected', 'cancelled')),
  decided_by              text,
  decided_at              timestamptz,
  decision_note           text,
  escalated_at            timestamptz,
  effect                  jsonb,
  details                 jsonb not null default '{}',
  primary key (tenant_id, request_id)
);
create index approval_requests_pending on approval_requests (tenant_id, status, required_role);

-- What goes to legal or the agency: the invoice's full story as one JSON document.
create table handoff_packages (
  tenant_id       text not null,
  invoice_number  text not null,
  handed_to       text not null check (handed_to in ('legal', 'agency')),
  package         jsonb not null,
  created_at      timestamptz not null default now(),
  primary key (tenant_id, invoice_number, handed_to)
);

-- Notifications now also go to a person (a dispute's owner, the owner's lead) and to approvers by role.
alter table internal_notifications drop constraint internal_notifications_role_check;
alter table internal_notifications alter column role drop not null;
alter table internal_notifications add constraint internal_notifications_role_check
  check (role is null or role in ('collector', 'team_lead', 'sales_owner', 'ar_manager', 'admin'));
alter table internal_notifications
  add column recipient_user_id text,
  add column kind text not null default 'escalation',
  add column dispute_id text,
  add column request_id text,
  add constraint internal_notifications_recipient check (role is not null or recipient_user_id is not null);
create index internal_notifications_user on internal_notifications (tenant_id, recipient_user_id, status, created_at);

alter table invoices add column disputed_amount_minor bigint not null default 0 check (disputed_amount_minor >= 0);
