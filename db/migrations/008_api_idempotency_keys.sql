-- Idempotent API writes (api/idempotency.ts). A POST that creates something and carries an
-- Idempotency-Key header is claimed here first ('pending'), then completed with the answer it got;
-- a retry with the same key (same tenant and user) and the same request gets that answer again, the
-- same key with another request is refused. A claim whose request died (the process stopped) may be
-- taken over once it is older than the lease. Answers of 5xx are never stored: the claim is released.
create table api_idempotency_keys (
  tenant_id        text not null,
  user_id          text not null,
  idempotency_key  text not null check (idempotency_key ~ '^[!-~]{1,200}$'),
  method           text not null,
  route            text not null,
  -- SHA-256 of method, URL and the validated body: what "the same request" means.
  request_hash     text not null,
  status           text not null default 'pending' check (status in ('pending', 'completed')),
  response_status  int check (response_status between 100 and 499),
  -- The answer's body as it was sent (JSON text), replayed byte for byte.
  response_body    text,
  created_at       timestamptz not null default now(),
  completed_at     timestamptz,
  primary key (tenant_id, user_id, idempotency_key),
  check ((status = 'completed') = (response_status is not null and completed_at is not null))
);
create index api_idempotency_keys_created on api_idempotency_keys (created_at);
