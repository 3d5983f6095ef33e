-- A consolidated message covers several invoices; invoice_number keeps the first for old queries.
alter table outbound_messages add column invoice_numbers text[];
update outbound_messages set invoice_numbers = array[invoice_number] where invoice_numbers is null;
alter table outbound_messages alter column invoice_numbers set not null;
create index outbound_messages_invoices on outbound_messages using gin (invoice_numbers);

-- Escalations: work for a role inside the company (team lead, sales owner), written once per cadence step.
create table internal_notifications (
  id               bigserial primary key,
  idempotency_key  text not null unique,
  tenant_id        text not null,
  role             text not null check (role in ('team_lead', 'sales_owner', 'ar_manager')),
  invoice_number   text not null,
  customer_id      text not null,
  note             text not null,
  details          jsonb not null default '{}',
  status           text not null default 'open' check (status in ('open', 'acknowledged')),
  created_at       timestamptz not null default now()
);
create index internal_notifications_open on internal_notifications (tenant_id, role, status, created_at);

-- The invoice's next step action, mirrored for lists (the cadence version may differ per invoice).
alter table invoices add column next_step_action text;
