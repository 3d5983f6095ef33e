/**
 * Every reason the product refuses a request, as a typed code: workflows' update validators and activities
 * raise them (as an ApplicationFailure whose `type` is the code), the API raises them itself, and the API
 * maps each code to an HTTP status in one table (api/refusal-status.ts). Clients branch on the code, never
 * on the wording of the message, which is for people.
 *
 * The kind says what sort of refusal it is; the status table follows it, and a test holds the two together.
 */
export const REFUSALS = {
  // The request is well-formed but conflicts with the current state of the invoice, task, dispute or request.
  invoice_closed: 'conflict',
  already_disputed: 'conflict',
  invoice_disputed: 'conflict',
  approval_pending: 'conflict',
  promise_active: 'conflict',
  task_already_completed: 'conflict',
  already_decided: 'conflict',
  dispute_closed: 'conflict',
  already_enrolled: 'conflict',
  invoice_conflict: 'conflict',
  payment_conflict: 'conflict',
  invoice_not_active: 'conflict',
  not_paused: 'conflict',
  cadence_not_active: 'conflict',
  activation_blocked: 'conflict',
  no_primary_contact: 'conflict',
  user_exists: 'conflict',
  token_exists: 'conflict',
  idempotency_key_in_use: 'conflict',
  // Who asks may not do this.
  unauthorized: 'unauthenticated',
  bad_signature: 'unauthenticated',
  /** A validly signed ERP webhook whose signed timestamp lies outside the window (a replay, or a clock far off). */
  signature_expired: 'unauthenticated',
  forbidden: 'forbidden',
  not_in_portfolio: 'forbidden',
  role_too_low: 'forbidden',
  over_limit: 'forbidden',
  self_approval: 'forbidden',
  not_dispute_owner: 'forbidden',
  // The thing asked about does not exist.
  not_found: 'not_found',
  // The request breaks a business rule (the values are well-typed but not acceptable).
  invalid_amount: 'unprocessable',
  currency_mismatch: 'unprocessable',
  note_required: 'unprocessable',
  promise_does_not_fit: 'unprocessable',
  not_in_future: 'unprocessable',
  invalid_plan: 'unprocessable',
  invalid_resolution: 'unprocessable',
  invalid_request: 'unprocessable',
  invoice_of_other_customer: 'unprocessable',
  mixed_currencies: 'unprocessable',
  plan_does_not_add_up: 'unprocessable',
  unknown_collector: 'unprocessable',
  no_exchange_rate: 'unprocessable',
  inconsistent_event: 'unprocessable',
  payment_rejected: 'unprocessable',
  idempotency_key_reused: 'unprocessable',
  /** Enrollment: the ERP (the system of record) does not know the invoice. */
  unknown_to_erp: 'unprocessable',
  /** Enrollment: the ERP knows the invoice with another customer, currency or amount. */
  erp_mismatch: 'unprocessable',
  // The request itself is malformed (schema, unknown reference in a document).
  validation_failed: 'invalid',
  invalid_json: 'invalid',
  unknown_template: 'invalid',
  unknown_holiday_calendar: 'invalid',
  invalid_callback_time: 'invalid',
  // A dependency cannot answer now; retry later.
  dependency_unavailable: 'unavailable',
} as const satisfies Record<string, RefusalKind>;

export type RefusalKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'unprocessable' | 'unavailable';
export type RefusalCode = keyof typeof REFUSALS;
export const REFUSAL_CODES = Object.keys(REFUSALS) as RefusalCode[];

/** A refusal as data: what domain functions return when a request cannot be applied to a state. */
export interface Refusal {
  code: RefusalCode;
  message: string;
}

export const refusal = (code: RefusalCode, message: string): Refusal => ({ code, message });

export const isRefusalCode = (value: unknown): value is RefusalCode => typeof value === 'string' && Object.hasOwn(REFUSALS, value);

/** The refusals a workflow's update validators may raise (a subset of the list; a test checks each is in it). */
export const WORKFLOW_REFUSALS = [
  'invoice_closed',
  'already_disputed',
  'invoice_disputed',
  'approval_pending',
  'promise_active',
  'task_already_completed',
  'already_decided',
  'dispute_closed',
  'role_too_low',
  'over_limit',
  'self_approval',
  'invalid_amount',
  'currency_mismatch',
  'note_required',
  'promise_does_not_fit',
  'not_in_future',
  'invalid_plan',
  'invalid_resolution',
  'invalid_request',
] as const satisfies readonly RefusalCode[];
