import { z } from 'zod';

/**
 * A cadence is data: ordered steps with stable ids, each dated from an anchor plus an offset, with
 * an action and conditions. Days and business days are the AR units; hours, minutes and seconds
 * exist so that demos and end-to-end tests can run a whole cadence in a minute on the same code path.
 *
 * Every field added after version 1 of this format is optional and its absence means "as before":
 * workflows started with older cadences replay unchanged.
 */
export const stepIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case id: letters, digits, - and _');
export const SEGMENTS = ['strategic', 'standard', 'high_risk'] as const;
export const segmentSchema = z.enum(SEGMENTS);
export type Segment = z.infer<typeof segmentSchema>;
const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code');
const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm');
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const offsetSchema = z.object({
  amount: z.number().int().min(-365).max(3650),
  unit: z.enum(['days', 'business_days', 'hours', 'minutes', 'seconds']),
});

export const ESCALATION_ROLES = ['team_lead', 'sales_owner', 'ar_manager'] as const;

export const stepActionSchema = z.discriminatedUnion('type', [
  /** A reminder email from a named template. */
  z.object({ type: z.literal('email'), template: z.string().min(1) }),
  /** An account statement: every open invoice of the customer with its aging. */
  z.object({ type: z.literal('statement'), template: z.string().min(1).default('statement') }),
  /** A call for the assigned collector, due on the step's date. */
  z.object({ type: z.literal('call_task'), note: z.string().min(1).max(500) }),
  /** Tells someone inside: the team lead or the sales owner of the account. */
  z.object({ type: z.literal('escalate'), role: z.enum(ESCALATION_ROLES), note: z.string().min(1).max(500) }),
  /** Puts the customer's account on credit hold through the ERP. */
  z.object({ type: z.literal('credit_hold'), reason: z.string().min(1).max(500) }),
  /** Placeholder until approvals land: recorded as requested, nothing is written off. */
  z.object({ type: z.literal('request_write_off'), reason: z.string().min(1).max(500) }),
  /** Placeholder until approvals land: recorded as requested, dunning goes on. */
  z.object({ type: z.literal('handoff'), to: z.enum(['legal', 'agency']), note: z.string().min(1).max(500) }),
  /** POSTs a signed JSON event to a configured endpoint (its name, not a URL: URLs live in configuration). */
  z.object({ type: z.literal('webhook'), endpoint: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/), event: z.string().min(1).max(100) }),
]);
export type StepAction = z.infer<typeof stepActionSchema>;
export type StepActionType = StepAction['type'];
export const CUSTOMER_FACING: readonly StepActionType[] = ['email', 'statement'];

export const stepConditionsSchema = z.object({
  /** Run only when the open amount is at least this much, per invoice currency (minor units). */
  minOpenAmount: z.record(currencyCode, z.number().int().nonnegative()).optional(),
  /** Run only for customers in these segments. */
  segments: z.array(segmentSchema).min(1).optional(),
  /** Skip while a promise to pay or a dispute is active, or when the customer must not be contacted. */
  skipIf: z.array(z.enum(['promise_active', 'dispute_active', 'do_not_contact'])).optional(),
});
export type StepConditions = z.infer<typeof stepConditionsSchema>;

/**
 * How a cadence treats the collectors' work: promises to pay, payment plans and calls that did not
 * reach anyone. Part of the cadence definition (optional, so older cadences stay valid and replay
 * unchanged): it is versioned, validated and pinned by running workflows like the steps are.
 */
export const collectionPolicySchema = z.strictObject({
  promise: z
    .strictObject({
      /** A promise is checked this many business days (customer's calendar) after its date. */
      toleranceBusinessDays: z.number().int().min(0).max(20).default(2),
      /** A promise further out than this is a payment plan, which needs its own agreement. */
      maxDaysAhead: z.number().int().min(1).max(365).default(45),
      /** A courtesy reminder this many business days before each promised date, from a template. */
      courtesyReminder: z.strictObject({ businessDaysBefore: z.number().int().min(1).max(10), template: z.string().min(1) }).optional(),
    })
    .default({ toleranceBusinessDays: 2, maxDaysAhead: 45 }),
  brokenPromise: z
    .strictObject({
      /** The step the cadence resumes at, at once, when a promise or plan is broken; default: the next step due. */
      resumeAtStep: stepIdSchema.optional(),
      /** The note of the follow-up call task created for a broken promise. */
      followUpNote: z.string().min(1).max(500).default('Promise to pay broken: call the customer today.'),
    })
    .default({ followUpNote: 'Promise to pay broken: call the customer today.' }),
  paymentPlan: z
    .strictObject({
      /** Missed installments (broken or partly paid) a plan survives; one more breaks it. */
      maxMissedInstallments: z.number().int().min(0).max(12).default(0),
    })
    .default({ maxMissedInstallments: 0 }),
  callAttempts: z
    .strictObject({
      /** A call that reached nobody is retried until this many attempts; then the team lead is told. */
      maxAttempts: z.number().int().min(1).max(10).default(3),
      /** When the retry call falls due after an unreached attempt (days-type offsets land at the cadence's sendAt). */
      retryAfter: offsetSchema.default({ amount: 1, unit: 'business_days' }),
    })
    .default({ maxAttempts: 3, retryAfter: { amount: 1, unit: 'business_days' } }),
});

export const cadenceStepSchema = z.object({
  id: stepIdSchema,
  anchor: z.enum(['due_date', 'previous_step']).default('due_date'),
  offset: offsetSchema,
  action: stepActionSchema,
  conditions: stepConditionsSchema.optional(),
});

export const sendWindowSchema = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1),
    start: localTime,
    end: localTime,
  })
  .refine((w) => w.start < w.end, { message: 'start must be before end', path: ['end'] });

export const cadenceSelectionSchema = z.object({
  segments: z.array(segmentSchema).min(1).optional(),
  currencies: z.array(currencyCode).min(1).optional(),
  /** Inclusive bounds on the invoice amount, in the invoice currency's minor units. */
  minAmountMinor: z.number().int().nonnegative().optional(),
  maxAmountMinor: z.number().int().nonnegative().optional(),
});

/** A cadence's fields, without the rules across them (checkCadence); the API's definition schema makes `version` optional. */
export const cadenceFieldsSchema = z.object({
  id: stepIdSchema,
  version: z.number().int().positive(),
  name: z.string().min(1).max(120),
  /** Local time of day, in the customer's time zone, at which day-based steps fall due. */
  sendAt: localTime,
  /** Customer-facing steps only go out inside this window, in the customer's time zone. */
  sendWindow: sendWindowSchema.optional(),
  /** At most `maxEmails` customer-facing messages to one customer within `perDays` days, across all invoices. */
  contactCap: z.object({ maxEmails: z.number().int().min(1).max(50), perDays: z.number().int().min(1).max(90) }).optional(),
  /** Which invoices this cadence is for, when no customer override applies; the most specific match wins. */
  selection: cadenceSelectionSchema.optional(),
  steps: z.array(cadenceStepSchema).min(1).max(50),
  /** Promises, payment plans and unreached calls; absent = DEFAULT_COLLECTION_POLICY (domain/collection-policy.ts). */
  collection: collectionPolicySchema.optional(),
});

/** The rules across a cadence's fields: step order, unique step ids, anchors, the broken-promise resume step, selection bounds. */
export function checkCadence(cadence: Omit<z.output<typeof cadenceFieldsSchema>, 'version'>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  const UNIT_SECONDS = { days: 86_400, business_days: 86_400, hours: 3_600, minutes: 60, seconds: 1 } as const;
  let lastDueOffset = -Infinity;
  cadence.steps.forEach((step, i) => {
    if (step.anchor === 'due_date') {
      const offset = step.offset.amount * UNIT_SECONDS[step.offset.unit];
      if (offset < lastDueOffset)
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'offset'], message: 'steps anchored to the due date must come in date order' });
      lastDueOffset = Math.max(lastDueOffset, offset);
    }
    if (seen.has(step.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id "${step.id}"` });
    seen.add(step.id);
    if (i === 0 && step.anchor === 'previous_step')
      ctx.addIssue({ code: 'custom', path: ['steps', 0, 'anchor'], message: 'the first step has no previous step' });
    if (step.anchor === 'previous_step' && step.offset.amount < 0)
      ctx.addIssue({ code: 'custom', path: ['steps', i, 'offset', 'amount'], message: 'a step cannot come before the previous one' });
  });
  const resumeAt = cadence.collection?.brokenPromise.resumeAtStep;
  if (resumeAt !== undefined && !seen.has(resumeAt))
    ctx.addIssue({ code: 'custom', path: ['collection', 'brokenPromise', 'resumeAtStep'], message: `no step with id "${resumeAt}"` });
  const sel = cadence.selection;
  if (sel?.minAmountMinor !== undefined && sel.maxAmountMinor !== undefined && sel.minAmountMinor > sel.maxAmountMinor)
    ctx.addIssue({ code: 'custom', path: ['selection', 'maxAmountMinor'], message: 'maxAmountMinor must not be below minAmountMinor' });
}

export const cadenceSchema = cadenceFieldsSchema.superRefine(checkCadence);

export type Cadence = z.infer<typeof cadenceSchema>;
export type CadenceStep = z.infer<typeof cadenceStepSchema>;
export type SendWindow = z.infer<typeof sendWindowSchema>;
