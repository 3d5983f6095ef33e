import type { Db } from './sql';

/**
 * Idempotency-Keys of API requests (api_idempotency_keys), per tenant and user: claimed ('pending')
 * before the request runs, completed with its answer. The rules are the API's (api/idempotency.ts).
 */

export interface IdempotencyKeyRow {
  request_hash: string;
  status: 'pending' | 'completed';
  response_status: number | null;
  response_body: string | null;
  created_at: Date;
}

export interface IdempotencyKeyRef {
  tenantId: string;
  userId: string;
  key: string;
}

/** Claims the key for a request; false when the key is there already (claimed or completed). */
export async function claimIdempotencyKey(db: Db, ref: IdempotencyKeyRef, request: { method: string; route: string; hash: string }): Promise<boolean> {
  const rows = await db`
    insert into api_idempotency_keys (tenant_id, user_id, idempotency_key, method, route, request_hash)
    values (${ref.tenantId}, ${ref.userId}, ${ref.key}, ${request.method}, ${request.route}, ${request.hash})
    on conflict (tenant_id, user_id, idempotency_key) do nothing returning 1 as claimed`;
  return rows.length > 0;
}

export async function findIdempotencyKey(db: Db, ref: IdempotencyKeyRef): Promise<IdempotencyKeyRow | undefined> {
  const [row] = await db<IdempotencyKeyRow[]>`
    select request_hash, status, response_status, response_body, created_at from api_idempotency_keys
    where tenant_id = ${ref.tenantId} and user_id = ${ref.userId} and idempotency_key = ${ref.key}`;
  return row;
}

/** Takes over a pending claim older than the lease (its request died); false when it is younger or no longer pending. */
export async function takeOverStaleClaim(db: Db, ref: IdempotencyKeyRef, leaseMs: number): Promise<boolean> {
  const rows = await db`
    update api_idempotency_keys set created_at = now()
    where tenant_id = ${ref.tenantId} and user_id = ${ref.userId} and idempotency_key = ${ref.key} and status = 'pending'
      and created_at < now() - make_interval(secs => ${leaseMs / 1000})
    returning 1 as taken`;
  return rows.length > 0;
}

/** Releases a pending claim (the answer is not kept: a retry runs again). */
export async function releaseClaim(db: Db, ref: IdempotencyKeyRef): Promise<void> {
  await db`
    delete from api_idempotency_keys
    where tenant_id = ${ref.tenantId} and user_id = ${ref.userId} and idempotency_key = ${ref.key} and status = 'pending'`;
}

/** Completes a pending claim with the answer as sent. */
export async function completeClaim(db: Db, ref: IdempotencyKeyRef, response: { status: number; body: string }): Promise<void> {
  await db`
    update api_idempotency_keys set status = 'completed', response_status = ${response.status}, response_body = ${response.body}, completed_at = now()
    where tenant_id = ${ref.tenantId} and user_id = ${ref.userId} and idempotency_key = ${ref.key} and status = 'pending'`;
}
