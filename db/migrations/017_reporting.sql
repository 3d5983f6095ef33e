-- What the reports read (issue 13): one row per receivable (ar_items) and the dated postings that cleared it
-- (ar_postings), so that aging, DSO and CEI can be computed as of any past date, for enrolled invoices and for
-- the ledger's (synced or imported) alike, in SQL over indexed tables.
--
-- An invoice is OPEN at date D when issued on or before D and not settled at D; its open amount at D is
--   amount_minor - sum(ar_postings.amount_minor where posted_on <= D).
-- ar_items.settled_on is the day its postings reached the amount (null while anything is open): the reports'
-- filter `issue_date <= D and (settled_on is null or settled_on > D)` picks the open items without reading postings.
--
-- Triggers keep both tables in step with what the product already writes:
--   * invoices (the enrolled invoice's mirror) and ledger_invoices (ERP sync, imports, ledger mode) upsert the item;
--     the enrolled invoice describes it once it exists (origin 'invoice'), the ledger row before;
--   * payments from the ERP's webhook (not the claims people report through the API), and ledger mode's postings
--     (ledger_adjustments) are dated postings;
--   * whatever part of the balance change no dated posting explains is an 'observed' posting, dated by the ledger's
--     settled date when it has one, else the day it was observed (in the reporting zone). A dated posting arriving
--     later takes the observed one's place (it is consumed), so that money is never counted twice.

-- The reporting time zone per tenant, written by the API and the worker at start from config/reports.json:
-- the day a timestamp falls on, for postings and for "today".
create table report_settings (
  tenant_id  text primary key,
  time_zone  text not null
);

create function ar_zone_today(p_tenant text, p_at timestamptz) returns date language sql stable as $$
  select (p_at at time zone coalesce((select time_zone from report_settings where tenant_id = p_tenant), 'UTC'))::date
$$;

create table ar_items (
  tenant_id          text not null,
  invoice_number     text not null,
  customer_id        text not null,
  currency           char(3) not null check (currency ~ '^[A-Z]{3}$'),
  amount_minor       bigint not null check (amount_minor >= 0),
  issue_date         date not null,
  due_date           date not null,
  -- Now: amount_minor minus all postings (what the source row says is open).
  open_amount_minor  bigint not null,
  -- The day the postings cleared the amount; null while open.
  settled_on         date,
  -- Which table describes the invoice: the enrolled invoice's mirror wins over the ledger's row.
  origin             text not null check (origin in ('invoice', 'ledger')),
  updated_at         timestamptz not null default now(),
  primary key (tenant_id, invoice_number)
);
create index ar_items_issued on ar_items (tenant_id, issue_date);
create index ar_items_customer on ar_items (tenant_id, customer_id);
create index ar_items_settled on ar_items (tenant_id, settled_on);
create index ar_items_open_due on ar_items (tenant_id, due_date) where settled_on is null;

create table ar_postings (
  id              bigserial primary key,
  tenant_id       text not null,
  invoice_number  text not null,
  posted_on       date not null,
  -- Reduces the open amount; negative for a reversal (an observed increase of the balance).
  amount_minor    bigint not null check (amount_minor <> 0),
  kind            text not null check (kind in ('payment', 'credit', 'write_off', 'observed')),
  -- Where it comes from and its key there: ('erp_payment', payment id), ('ledger_payment', idempotency key), ...
  source          text not null,
  source_ref      text not null,
  created_at      timestamptz not null default now(),
  unique (tenant_id, source, source_ref)
);
create index ar_postings_invoice on ar_postings (tenant_id, invoice_number, posted_on);
create index ar_postings_posted on ar_postings (tenant_id, posted_on);
create sequence ar_observed_seq;

-- settled_on and open_amount_minor of one item from its postings.
create function ar_refresh_item(p_tenant text, p_invoice text) returns void language plpgsql as $$
declare
  v_paid bigint;
  v_last date;
begin
  select coalesce(sum(amount_minor), 0), max(posted_on) into v_paid, v_last
    from ar_postings where tenant_id = p_tenant and invoice_number = p_invoice;
  update ar_items set
    open_amount_minor = amount_minor - v_paid,
    settled_on = case when v_paid >= amount_minor then greatest(v_last, issue_date) else null end,
    updated_at = now()
  where tenant_id = p_tenant and invoice_number = p_invoice
    and (open_amount_minor, settled_on) is distinct from
        (amount_minor - v_paid, case when v_paid >= amount_minor then greatest(v_last, issue_date) else null end);
end $$;

-- The source row says `p_open` is open of `p_amount`: the part no posting explains becomes an observed posting.
create function ar_reconcile(p_tenant text, p_invoice text, p_amount bigint, p_open bigint, p_settled date) returns void language plpgsql as $$
declare
  v_explained bigint;
  v_gap bigint;
begin
  -- Settled on a known day: money observed later than that had arrived by then.
  if p_open = 0 and p_settled is not null then
    update ar_postings set posted_on = p_settled
    where tenant_id = p_tenant and invoice_number = p_invoice and kind = 'observed' and amount_minor > 0 and posted_on > p_settled;
  end if;
  select coalesce(sum(amount_minor), 0) into v_explained from ar_postings where tenant_id = p_tenant and invoice_number = p_invoice;
  v_gap := (p_amount - p_open) - v_explained;
  if v_gap <> 0 then
    insert into ar_postings (tenant_id, invoice_number, posted_on, amount_minor, kind, source, source_ref)
    values (p_tenant, p_invoice,
            case when p_open = 0 and p_settled is not null then p_settled else ar_zone_today(p_tenant, now()) end,
            v_gap, 'observed', 'observed', p_invoice || ':' || nextval('ar_observed_seq'));
  end if;
  perform ar_refresh_item(p_tenant, p_invoice);
end $$;

create function ar_items_from_ledger() returns trigger language plpgsql as $$
declare
  v_origin text;
begin
  select origin into v_origin from ar_items where tenant_id = new.tenant_id and invoice_number = new.invoice_number;
  if v_origin = 'invoice' then
    return null; -- the enrolled invoice describes it
  end if;
  insert into ar_items (tenant_id, invoice_number, customer_id, currency, amount_minor, issue_date, due_date, open_amount_minor, origin)
  values (new.tenant_id, new.invoice_number, new.customer_id, new.currency, new.amount_minor, new.issue_date, new.due_date, new.amount_minor, 'ledger')
  on conflict (tenant_id, invoice_number) do update set
    customer_id = excluded.customer_id, currency = excluded.currency, amount_minor = excluded.amount_minor,
    issue_date = excluded.issue_date, due_date = excluded.due_date, updated_at = now()
  where (ar_items.customer_id, ar_items.currency, ar_items.amount_minor, ar_items.issue_date, ar_items.due_date)
        is distinct from (excluded.customer_id, excluded.currency, excluded.amount_minor, excluded.issue_date, excluded.due_date);
  perform ar_reconcile(new.tenant_id, new.invoice_number, new.amount_minor,
                       case when new.status = 'open' then new.open_amount_minor else 0 end, new.settled_date);
  return null;
end $$;
create trigger ar_items_from_ledger after insert or update on ledger_invoices
  for each row execute function ar_items_from_ledger();

create function ar_items_from_invoice() returns trigger language plpgsql as $$
begin
  insert into ar_items (tenant_id, invoice_number, customer_id, currency, amount_minor, issue_date, due_date, open_amount_minor, origin)
  values (new.tenant_id, new.invoice_number, new.customer_id, new.currency, new.amount_minor, new.issue_date, new.due_date, new.amount_minor, 'invoice')
  on conflict (tenant_id, invoice_number) do update set
    customer_id = excluded.customer_id, currency = excluded.currency, amount_minor = excluded.amount_minor,
    issue_date = excluded.issue_date, due_date = excluded.due_date, origin = 'invoice', updated_at = now()
  where (ar_items.customer_id, ar_items.currency, ar_items.amount_minor, ar_items.issue_date, ar_items.due_date, ar_items.origin)
        is distinct from (excluded.customer_id, excluded.currency, excluded.amount_minor, excluded.issue_date, excluded.due_date, 'invoice');
  perform ar_reconcile(new.tenant_id, new.invoice_number, new.amount_minor, new.open_amount_minor, null);
  return null;
end $$;
create trigger ar_items_from_invoice after insert or update of customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date on invoices
  for each row execute function ar_items_from_invoice();

-- A dated posting consumes the observed postings of its invoice (newest first) up to its amount: the money they
-- stood for now has its date.
create function ar_postings_consume_observed() returns trigger language plpgsql as $$
declare
  v_left bigint := new.amount_minor;
  v_row record;
begin
  if new.kind = 'observed' or new.amount_minor <= 0 then
    return new;
  end if;
  for v_row in
    select id, amount_minor from ar_postings
    where tenant_id = new.tenant_id and invoice_number = new.invoice_number and kind = 'observed' and amount_minor > 0
    order by posted_on desc, id desc for update
  loop
    exit when v_left <= 0;
    if v_row.amount_minor <= v_left then
      delete from ar_postings where id = v_row.id;
      v_left := v_left - v_row.amount_minor;
    else
      update ar_postings set amount_minor = amount_minor - v_left where id = v_row.id;
      v_left := 0;
    end if;
  end loop;
  return new;
end $$;
create trigger ar_postings_consume_observed before insert on ar_postings
  for each row execute function ar_postings_consume_observed();

create function ar_postings_refresh() returns trigger language plpgsql as $$
begin
  perform ar_refresh_item(new.tenant_id, new.invoice_number);
  return null;
end $$;
create trigger ar_postings_refresh after insert on ar_postings
  for each row execute function ar_postings_refresh();

-- The ERP's payments (its signed webhook) are dated postings; a payment reported through the API is a claim, not money.
create function ar_postings_from_payment() returns trigger language plpgsql as $$
begin
  if new.source = 'erp_webhook' then
    insert into ar_postings (tenant_id, invoice_number, posted_on, amount_minor, kind, source, source_ref)
    values (new.tenant_id, new.invoice_number, ar_zone_today(new.tenant_id, new.received_at), new.amount_minor, 'payment', 'erp_payment', new.payment_id)
    on conflict (tenant_id, source, source_ref) do nothing;
  end if;
  return null;
end $$;
create trigger ar_postings_from_payment after insert on payments
  for each row execute function ar_postings_from_payment();

-- Ledger mode's postings: payments, credit memos and write-offs, dated the day they were posted.
create function ar_postings_from_ledger_adjustment() returns trigger language plpgsql as $$
begin
  if new.kind in ('payment', 'credit_memo', 'write_off') and new.amount_minor > 0 then
    insert into ar_postings (tenant_id, invoice_number, posted_on, amount_minor, kind, source, source_ref)
    values (new.tenant_id, new.invoice_number, ar_zone_today(new.tenant_id, new.created_at), new.amount_minor,
            case new.kind when 'payment' then 'payment' when 'credit_memo' then 'credit' else 'write_off' end,
            'ledger_' || new.kind, new.idempotency_key)
    on conflict (tenant_id, source, source_ref) do nothing;
  end if;
  return null;
end $$;
create trigger ar_postings_from_ledger_adjustment after insert on ledger_adjustments
  for each row execute function ar_postings_from_ledger_adjustment();

-- Rebuilds one tenant's items and postings from the source tables, set-based (the backfill below, a recovery, and the
-- 1,000,000-invoice benchmark, which loads the ledger with triggers off and rebuilds once). Dated postings are kept.
create function ar_rebuild(p_tenant text) returns void language plpgsql as $$
begin
  delete from ar_postings where tenant_id = p_tenant and kind = 'observed';
  delete from ar_items where tenant_id = p_tenant;
  insert into ar_items (tenant_id, invoice_number, customer_id, currency, amount_minor, issue_date, due_date, open_amount_minor, origin)
  select tenant_id, invoice_number, customer_id, currency, amount_minor, issue_date, due_date, amount_minor, 'invoice'
  from invoices where tenant_id = p_tenant;
  insert into ar_items (tenant_id, invoice_number, customer_id, currency, amount_minor, issue_date, due_date, open_amount_minor, origin)
  select tenant_id, invoice_number, customer_id, currency, amount_minor, issue_date, due_date, amount_minor, 'ledger'
  from ledger_invoices where tenant_id = p_tenant
  on conflict (tenant_id, invoice_number) do nothing;
  insert into ar_postings (tenant_id, invoice_number, posted_on, amount_minor, kind, source, source_ref)
  select tenant_id, invoice_number, ar_zone_today(tenant_id, received_at), amount_minor, 'payment', 'erp_payment', payment_id
  from payments where tenant_id = p_tenant and source = 'erp_webhook'
  on conflict (tenant_id, source, source_ref) do nothing;
  -- The gap each source row leaves unexplained, as observed postings (set-based ar_reconcile).
  with src as (
    select i.invoice_number, i.amount_minor, i.open_amount_minor as open_minor, null::date as settled
    from invoices i where i.tenant_id = p_tenant
    union all
    select l.invoice_number, l.amount_minor, case when l.status = 'open' then l.open_amount_minor else 0 end, l.settled_date
    from ledger_invoices l
    where l.tenant_id = p_tenant and not exists (select 1 from invoices i where i.tenant_id = p_tenant and i.invoice_number = l.invoice_number)
  ), explained as (
    select invoice_number, sum(amount_minor) as paid from ar_postings where tenant_id = p_tenant group by invoice_number
  )
  insert into ar_postings (tenant_id, invoice_number, posted_on, amount_minor, kind, source, source_ref)
  select p_tenant, src.invoice_number,
         case when src.open_minor = 0 and src.settled is not null then src.settled else ar_zone_today(p_tenant, now()) end,
         (src.amount_minor - src.open_minor) - coalesce(e.paid, 0), 'observed', 'observed',
         src.invoice_number || ':' || nextval('ar_observed_seq')
  from src left join explained e using (invoice_number)
  where (src.amount_minor - src.open_minor) - coalesce(e.paid, 0) <> 0;
  -- settled_on and the open amount, from all postings at once.
  with p as (
    select invoice_number, sum(amount_minor) as paid, max(posted_on) as last_on from ar_postings where tenant_id = p_tenant group by invoice_number
  )
  update ar_items a set
    open_amount_minor = a.amount_minor - p.paid,
    settled_on = case when p.paid >= a.amount_minor then greatest(p.last_on, a.issue_date) else null end
  from p where a.tenant_id = p_tenant and a.invoice_number = p.invoice_number;
end $$;

-- The ledger mode postings already there are dated postings too (before the observed gaps are computed).
insert into ar_postings (tenant_id, invoice_number, posted_on, amount_minor, kind, source, source_ref)
select tenant_id, invoice_number, created_at::date, amount_minor,
       case kind when 'payment' then 'payment' when 'credit_memo' then 'credit' else 'write_off' end,
       'ledger_' || kind, idempotency_key
from ledger_adjustments where kind in ('payment', 'credit_memo', 'write_off') and amount_minor > 0;
select ar_rebuild(t.tenant_id) from (select tenant_id from invoices union select tenant_id from ledger_invoices) t;

-- Credit hold on the account, as the credit-hold activities last left it (the portfolio views filter by it).
alter table customers add column credit_hold boolean not null default false;

-- The import's transaction plans every statement afresh (plan_cache_mode = force_custom_plan, integrations/import):
-- the triggers' few primary-key look-ups per row keep PL/pgSQL's cached plans instead of being planned per row.
alter function ar_items_from_ledger() set plan_cache_mode = auto;
alter function ar_items_from_invoice() set plan_cache_mode = auto;
alter function ar_postings_consume_observed() set plan_cache_mode = auto;
alter function ar_postings_refresh() set plan_cache_mode = auto;
alter function ar_postings_from_payment() set plan_cache_mode = auto;
alter function ar_postings_from_ledger_adjustment() set plan_cache_mode = auto;
