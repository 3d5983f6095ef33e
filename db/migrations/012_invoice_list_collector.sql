-- The invoice list of a collector's portfolio in index order (issue 11): each invoice carries its
-- customer's collector (invoices.collector_id), kept by triggers in the same transaction as the change,
-- so that GET /invoices for a collector walks (tenant_id, collector_id, due_date, invoice_number) and
-- stops after a page instead of joining customers and reading the tenant's invoices until the page fills
-- (9 ms per page at 50k invoices, 10% of them the collector's). A customer moving to another collector
-- moves its invoices' collector_id with it; an invoice takes its customer's when written.
alter table invoices add column collector_id text;

update invoices i set collector_id = c.collector_id
from customers c
where c.tenant_id = i.tenant_id and c.customer_id = i.customer_id and c.collector_id is not null;

create index invoices_collector_list_order on invoices (tenant_id, collector_id, due_date, invoice_number);

-- An invoice written (or moved to another customer) takes its customer's collector; nothing else sets it.
create function invoices_collector_of_customer() returns trigger language plpgsql as $$
begin
  new.collector_id := (select c.collector_id from customers c where c.tenant_id = new.tenant_id and c.customer_id = new.customer_id);
  return new;
end $$;
create trigger invoices_collector_of_customer before insert or update of tenant_id, customer_id, collector_id on invoices
  for each row execute function invoices_collector_of_customer();

-- A customer's collector changed: its invoices follow.
create function customers_collector_to_invoices() returns trigger language plpgsql as $$
begin
  update invoices set collector_id = new.collector_id
  where tenant_id = new.tenant_id and customer_id = new.customer_id and collector_id is distinct from new.collector_id;
  return null;
end $$;
create trigger customers_collector_to_invoices after update of collector_id on customers
  for each row when (old.collector_id is distinct from new.collector_id)
  execute function customers_collector_to_invoices();
