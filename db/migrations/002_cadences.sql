-- Cadences configured through the API: every saved definition is a new, immutable version. Running
-- workflows pin (cadence_id, version) on the invoice, so activating another version never changes them.
create table cadence_versions (
  tenant_id     text not null,
  cadence_id    text not null,
  version       int not null check (version > 0),
  definition    jsonb not null,
  status        text not null default 'draft' check (status in ('draft', 'active', 'retired')),
  created_at    timestamptz not null default now(),
  activated_at  timestamptz,
  created_by    text not null,
  primary key (tenant_id, cadence_id, version),
  check (definition->>'id' = cadence_id and (definition->>'version')::int = version)
);
-- New enrollments take the active version: there is at most one per cadence.
create unique index cadence_versions_one_active on cadence_versions (tenant_id, cadence_id) where status = 'active';

-- Which cadence a customer segment gets; it takes precedence over the cadences' own selection rules.
create table cadence_assignments (
  tenant_id   text not null,
  segment     text not null check (segment in ('strategic', 'standard', 'high_risk')),
  cadence_id  text not null,
  updated_at  timestamptz not null default now(),
  primary key (tenant_id, segment)
);

-- What cadences need to know about a customer. cadence_override names a cadence (its active version applies).
alter table customers
  add column segment text not null default 'standard' check (segment in ('strategic', 'standard', 'high_risk')),
  add column country text check (country ~ '^[A-Z]{2}$'),
  add column region text,
  add column do_not_contact boolean not null default false,
  add column contact_name text,
  add column cadence_override text;
