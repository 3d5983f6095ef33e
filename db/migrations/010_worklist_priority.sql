-- The worklist pages in SQL (issue 11): each open call task stores its priority score (domain/priority.ts)
-- as of a local day of its customer, with the interval it holds for, and an index serves the worklist's
-- order (score desc, due_at, id) per collector and for everyone. The API recomputes a task's score
-- (api/worklist-service.ts, in batches) when it is stale: new, its due_at changed, its day is over in the
-- customer's time zone (priority_until), or one of its inputs elsewhere changed (the triggers below queue
-- the invoice or customer in worklist_priority_dirty; the API takes the queue, marks those tasks stale and
-- scores them). Existing open tasks start stale (priority_until -infinity): the first worklist request
-- after this migration scores them all (the API also starts that at boot).
alter table call_tasks
  add column priority_score int not null default 0,
  -- The invoice's open amount in the reporting currency when scored: the totals sum it per invoice.
  add column priority_amount_reporting_minor bigint not null default 0,
  add column priority_from timestamptz not null default '-infinity',
  add column priority_until timestamptz not null default '-infinity';

create index call_tasks_priority_collector on call_tasks (tenant_id, collector_id, priority_score desc, due_at, id)
  include (invoice_number, priority_amount_reporting_minor) where status = 'open';
create index call_tasks_priority_all on call_tasks (tenant_id, priority_score desc, due_at, id)
  include (invoice_number, priority_amount_reporting_minor) where status = 'open';
create index call_tasks_priority_until on call_tasks (tenant_id, priority_until) where status = 'open';
create index call_tasks_priority_from on call_tasks (tenant_id, priority_from) where status = 'open';

-- A task's own input changed (due date, reopened): stale at once. The API's own writes of the score do not fire this.
create function call_tasks_priority_stale() returns trigger language plpgsql as $$
begin
  new.priority_until := '-infinity';
  return new;
end $$;
create trigger call_tasks_priority_stale before update of due_at, status on call_tasks
  for each row when (old.due_at is distinct from new.due_at or old.status is distinct from new.status)
  execute function call_tasks_priority_stale();

-- Inputs in other tables: queued by invoice or customer (no lock on call_tasks taken here).
create table worklist_priority_dirty (
  id              bigserial primary key,
  tenant_id       text not null,
  customer_id     text,
  invoice_number  text,
  queued_at       timestamptz not null default now()
);
create index worklist_priority_dirty_tenant on worklist_priority_dirty (tenant_id, id);

create function worklist_priority_invoice_changed() returns trigger language plpgsql as $$
begin
  insert into worklist_priority_dirty (tenant_id, invoice_number) values (new.tenant_id, new.invoice_number);
  return null;
end $$;
create trigger invoices_priority_dirty after update on invoices for each row
  when (old.open_amount_minor is distinct from new.open_amount_minor or old.due_date is distinct from new.due_date
        or old.stage is distinct from new.stage or old.currency is distinct from new.currency)
  execute function worklist_priority_invoice_changed();

create function worklist_priority_customer_changed() returns trigger language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    insert into worklist_priority_dirty (tenant_id, customer_id) values (old.tenant_id, old.customer_id);
  end if;
  if tg_op in ('UPDATE', 'INSERT') then
    insert into worklist_priority_dirty (tenant_id, customer_id) values (new.tenant_id, new.customer_id);
  end if;
  return null;
end $$;
-- The customer's segment or time zone.
create trigger customers_priority_dirty after update on customers for each row
  when (old.segment is distinct from new.segment or old.time_zone is distinct from new.time_zone)
  execute function worklist_priority_customer_changed();
-- Broken promises of the last 12 months (a promise turning broken, or no longer broken).
create trigger promises_priority_dirty_insert after insert on promises for each row
  when (new.status = 'broken') execute function worklist_priority_customer_changed();
create trigger promises_priority_dirty_update after update on promises for each row
  when ((old.status = 'broken' or new.status = 'broken')
        and (old.status is distinct from new.status or old.evaluated_at is distinct from new.evaluated_at or old.customer_id is distinct from new.customer_id))
  execute function worklist_priority_customer_changed();
create trigger promises_priority_dirty_delete after delete on promises for each row
  when (old.status = 'broken') execute function worklist_priority_customer_changed();
-- The last call that reached the customer.
create trigger customer_activities_priority_dirty_insert after insert on customer_activities for each row
  when (new.reached) execute function worklist_priority_customer_changed();
create trigger customer_activities_priority_dirty_update after update on customer_activities for each row
  when ((old.reached or new.reached) and (old.reached is distinct from new.reached or old.occurred_at is distinct from new.occurred_at))
  execute function worklist_priority_customer_changed();

-- The invoice list's order (due_date, invoice_number), for everyone and per customer; a collector's list
-- walks the first with its customers as a filter.
create index invoices_list_order on invoices (tenant_id, due_date, invoice_number);
create index invoices_customer_list_order on invoices (tenant_id, customer_id, due_date, invoice_number);
create index invoices_stage_list_order on invoices (tenant_id, stage, due_date, invoice_number);
create index customers_collector on customers (tenant_id, collector_id);
