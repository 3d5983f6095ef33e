-- The portfolio views (issue 13): GET /customers sorts and filters on each customer's open amount in the reporting
-- currency, computed in SQL the way domain/fx.ts converts (exact, rounded half to even once per customer and currency).
-- A numeric rounded half to even (banker's rounding) to a whole number: PostgreSQL's round() rounds half away from zero.
create function dunning_round_half_even(x numeric) returns numeric language sql immutable parallel safe as $$
  select case
    when x < 0 then -dunning_round_half_even(-x)
    when x - floor(x) > 0.5 then floor(x) + 1
    when x - floor(x) < 0.5 then floor(x)
    else floor(x) + mod(floor(x), 2)
  end
$$;

-- A customer's timeline reads the events about the customer that name no invoice (paused, reassigned, notes,
-- contacts, credit hold) by the customerId of their details.
create index audit_events_customer on audit_events (tenant_id, (details->>'customerId'), id) where invoice_number is null;

-- The invoice list's new filters: an invoice's open disputes and open promises.
create index promises_invoice_open on promises (tenant_id, invoice_number) where status = 'open';
