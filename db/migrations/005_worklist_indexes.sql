-- The worklist reads, per customer, its broken promises of the last 12 months and its last reached
-- call: partial indexes hold just those rows (npm run bench -- worklist).
create index promises_customer_broken on promises (tenant_id, customer_id, evaluated_at) where status = 'broken';
create index customer_activities_reached on customer_activities (tenant_id, customer_id, occurred_at desc) where reached;
