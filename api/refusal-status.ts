import type { RefusalCode, RefusalKind } from '../domain/refusals';

/** The HTTP status of each kind of refusal (domain/refusals.ts); the table below follows it, and test/unit/refusals.test.ts holds the two together. */
export const KIND_STATUS = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  unavailable: 503,
} as const satisfies Record<RefusalKind, number>;

/**
 * The one table from refusal code to HTTP status, for refusals the API raises itself (DomainError) and
 * those a workflow's update validator raises (an ApplicationFailure whose `type` is the code). Typed
 * by the list: a code added to domain/refusals.ts without a status here does not compile.
 */
export const REFUSAL_STATUS: Record<RefusalCode, number> = {
  // conflict: the request clashes with the current state
  invoice_closed: 409,
  already_disputed: 409,
  invoice_disputed: 409,
  approval_pending: 409,
  promise_active: 409,
  task_already_completed: 409,
  already_decided: 409,
  dispute_closed: 409,
  already_enrolled: 409,
  invoice_conflict: 409,
  payment_conflict: 409,
  invoice_not_active: 409,
  not_paused: 409,
  cadence_not_active: 409,
  activation_blocked: 409,
  no_primary_contact: 409,
  user_exists: 409,
  token_exists: 409,
  idempotency_key_in_use: 409,
  // unauthenticated
  unauthorized: 401,
  bad_signature: 401,
  signature_expired: 401,
  // forbidden: who asks may not do this
  forbidden: 403,
  not_in_portfolio: 403,
  role_too_low: 403,
  over_limit: 403,
  self_approval: 403,
  not_dispute_owner: 403,
  // not found
  not_found: 404,
  // unprocessable: well-formed, but against a business rule
  invalid_amount: 422,
  currency_mismatch: 422,
  note_required: 422,
  promise_does_not_fit: 422,
  not_in_future: 422,
  invalid_plan: 422,
  invalid_resolution: 422,
  invalid_request: 422,
  invoice_of_other_customer: 422,
  mixed_currencies: 422,
  plan_does_not_add_up: 422,
  unknown_collector: 422,
  no_exchange_rate: 422,
  inconsistent_event: 422,
  payment_rejected: 422,
  idempotency_key_reused: 422,
  unknown_to_erp: 422,
  erp_mismatch: 422,
  // invalid: the request itself is malformed
  validation_failed: 400,
  invalid_json: 400,
  unknown_template: 400,
  unknown_holiday_calendar: 400,
  invalid_callback_time: 400,
  // unavailable: retry later
  dependency_unavailable: 503,
};

export const refusalStatus = (code: RefusalCode): number => REFUSAL_STATUS[code];
