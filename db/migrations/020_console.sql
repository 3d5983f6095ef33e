-- The web console (issue 14): passwords, sessions, sign-in failures, each user's locale and time zone.

-- scrypt$<N>$<r>$<p>$<salt base64>$<hash base64> (api/console/passwords.ts); null = no password, no sign-in.
alter table users add column password_hash text;
alter table users add column password_set_at timestamptz;
-- BCP 47 locale and IANA zone the console formats amounts and dates in; null = the tenant's (config/reports.json).
alter table users add column locale text;
alter table users add column time_zone text;

-- A signed-in browser. Only the SHA-256 of the cookie's secret is stored; the row is the session.
create table console_sessions (
  session_sha256  text primary key,
  tenant_id       text not null,
  user_id         text not null,
  created_at      timestamptz not null default now(),
  last_seen_at    timestamptz not null default now(),
  expires_at      timestamptz not null,
  ip              text,
  user_agent      text,
  ended_at        timestamptz,
  foreign key (tenant_id, user_id) references users (tenant_id, user_id) on delete cascade
);
create index console_sessions_user on console_sessions (tenant_id, user_id);

-- Failed sign-ins, counted per user id and per address over a window (rate limit); kept a day.
create table console_sign_in_failures (
  id          bigserial primary key,
  tenant_id   text not null,
  user_id     text not null,
  ip          text not null,
  at          timestamptz not null default now()
);
create index console_sign_in_failures_user on console_sign_in_failures (tenant_id, user_id, at);
create index console_sign_in_failures_ip on console_sign_in_failures (tenant_id, ip, at);
