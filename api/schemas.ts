import { z } from 'zod';
import { currencyCodeSchema } from '../domain/money';
import { cadenceFieldsSchema, cadenceSchema, checkCadence, segmentSchema, stepIdSchema } from '../domain/cadence';
import { DUNNING_STAGES } from '../domain/invoice-state';
import { documentTextIssues, singleLineText } from '../domain/text';
import { dateSchema, INSTANT_RANGE, instantSchema as boundedInstantSchema } from './dates';

/** Request and response shapes, checked at the edge and published as OpenAPI. */

/** Zones found valid (building an Intl formatter to check one costs ~0.1 ms per request); bounded. */
const knownZones = new Set<string>();
const isTimeZone = (tz: string) => {
  if (knownZones.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    return false;
  }
  if (knownZones.size >= 1_000) knownZones.clear();
  knownZones.add(tz);
  return true;
};
const isLocale = (locale: string) => {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
};

export const currencySchema = currencyCodeSchema;
export const amountMinorSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).describe('integer amount in minor units (cents)');
export const invoiceNumberSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._\/-]{0,63}$/, 'letters, digits, . _ / -, at most 64');

export const customerSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ -, at most 64'),
  name: singleLineText(200),
  email: z.email(),
  timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/Berlin'),
  locale: z.string().refine(isLocale, 'must be a BCP 47 locale, e.g. de-DE').default('en-US'),
  collectorId: z.string().min(1).max(64).optional(),
  segment: segmentSchema.default('standard'),
  /** ISO 3166-1 alpha-2 country and ISO 3166-2 region code (without the country): public holidays. */
  country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code, e.g. DE').optional(),
  region: z.string().regex(/^[A-Z0-9]{1,3}$/, 'region code, e.g. BY').optional(),
  doNotContact: z.boolean().default(false),
  contactName: singleLineText(200).optional(),
});

export const enrollmentSchema = z.object({
  customer: customerSchema,
  invoice: z
    .object({
      number: invoiceNumberSchema,
      currency: currencySchema,
      amountMinor: amountMinorSchema,
      issueDate: dateSchema,
      dueDate: dateSchema,
    })
    .refine((i) => i.dueDate >= i.issueDate, { message: 'dueDate must not be before issueDate', path: ['dueDate'] }),
});
export type Enrollment = z.infer<typeof enrollmentSchema>;

export const paymentSchema = z.object({
  paymentId: z.string().min(1).max(100),
  amountMinor: amountMinorSchema,
  currency: currencySchema,
  receivedAt: boundedInstantSchema.optional(),
});

export const invoiceParams = z.object({ invoiceNumber: invoiceNumberSchema });

export const errorSchema = z.object({ error: z.string(), message: z.string() }).loose();
/** The refusals people's routes answer with, in the one error shape. */
export const errorResponses = { 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema };
/**
 * What a route that changes a workflow (an update) may answer besides its own: 202 when the workflow did not
 * take the change within 10 s but Temporal holds it (applied when the worker runs again; `lookup` says where
 * its outcome shows), 503 dependency_unavailable when Temporal or PostgreSQL cannot be reached, 504
 * update_timeout when Temporal did not confirm it holds the change (send it again, with the same Idempotency-Key).
 */
export const pendingUpdateSchema = z.object({
  status: z.literal('pending'),
  message: z.string(),
  workflowId: z.string(),
  updateId: z.string(),
  lookup: z.string().nullable().describe("GET it for the change's outcome"),
});
export const updateResponses = { 202: pendingUpdateSchema, 503: errorSchema, 504: errorSchema };
/** limit and offset of a listing. */
export const pageQuery = { limit: z.coerce.number().int().min(1).max(500).default(50), offset: z.coerce.number().int().min(0).default(0) };
/** Every instant the API takes: ISO 8601 with an offset, in the years 2000 to 2100 (api/dates.ts). */
export const instantSchema = boundedInstantSchema;

export const stepSchema = z.object({ stepId: z.string(), action: z.string(), at: z.string(), outcome: z.string() });
export const nextStepSchema = z.object({ stepId: z.string(), action: z.string(), at: z.string() }).nullable();

export const invoiceViewSchema = z.object({
  workflowId: z.string(),
  workflowStatus: z
    .string()
    .describe(
      "Temporal's status of the invoice's workflow: RUNNING, COMPLETED, FAILED, TERMINATED, CANCELED, TIMED_OUT, CONTINUED_AS_NEW; NOT_FOUND (none), UNKNOWN (Temporal cannot be asked now). A workflow FAILED or TERMINATED no longer moves the invoice, whatever its stage says",
    ),
  invoice: z.object({
    number: z.string(),
    customerId: z.string(),
    currency: z.string(),
    amountMinor: z.number(),
    openAmountMinor: z.number(),
    issueDate: z.string(),
    dueDate: z.string(),
  }),
  cadence: z.object({ id: z.string(), version: z.number() }),
  stage: z.string(),
  nextStep: nextStepSchema,
  /** Set while paused until a date. */
  pausedUntil: z.string().nullable(),
  /** The date of the promise (or installment) being followed, while promised. */
  promiseDate: z.string().nullable(),
  /** The part of the open amount under open disputes (not collected until they are resolved). */
  disputedAmountMinor: z.number(),
  steps: z.array(stepSchema),
  /** Stage needs_attention: what parked the invoice, and when it is tried again (POST /invoices/:n/resume tries it at once). */
  attention: z
    .object({
      code: z.string().describe('e.g. ErpInvoiceNotFound, UnknownTemplate, UnknownWebhookEndpoint'),
      reason: z.string(),
      stepId: z.string().nullable().describe('the step that could not run; null: the ERP balance read before it'),
      since: z.string(),
      attempts: z.number(),
      retryAt: z.string(),
    })
    .nullable(),
  /** Stage paused by a payment a person reported: dunning waits for the ERP to show it until checkAt. */
  claim: z
    .object({
      paymentId: z.string(),
      amountMinor: z.number(),
      currency: z.string(),
      checkAt: z.string().describe('when the ERP is read again: unconfirmed, dunning resumes with a task for the collector'),
    })
    .nullable(),
});
export type InvoiceView = z.infer<typeof invoiceViewSchema>;

/** An aging bucket label as config/reports.json's agingBuckets name them: current, 1-30, 31-60, 61-90, 91+. */
export const bucketLabelSchema = z
  .string()
  // A bare + in a query string reads as a space: 91+ unencoded arrives as '91 '.
  .transform((v) => v.replace(/^(\d{1,4}) $/, '$1+'))
  .pipe(z.string().regex(/^(current|\d{1,4}-\d{1,4}|\d{1,4}\+)$/, 'an aging bucket: current, 1-30, 31-60, 61-90 or 91+ (config/reports.json)'));
const queryFlag = z.enum(['true', 'false']).transform((v) => v === 'true');
const openAmountBound = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const invoiceListQuery = z.object({
  stage: z.enum(DUNNING_STAGES).optional(),
  customerId: z.string().min(1).max(64).optional(),
  bucket: bucketLabelSchema.optional().describe('aging bucket by days past due today (reporting zone)'),
  collectorId: z.string().min(1).max(64).optional().describe("a collector's portfolio (managers; a collector is scoped to their own anyway)"),
  currency: currencyCodeSchema.optional(),
  minAmountMinor: openAmountBound.optional().describe('open amount at least (minor units of the invoice currency)'),
  maxAmountMinor: openAmountBound.optional().describe('open amount at most (minor units of the invoice currency)'),
  dueFrom: dateSchema.optional().describe('due on or after (YYYY-MM-DD)'),
  dueTo: dateSchema.optional().describe('due on or before (YYYY-MM-DD)'),
  cadenceId: stepIdSchema.optional(),
  disputed: queryFlag.optional().describe('with (true) or without (false) an open or escalated dispute'),
  promise: z.enum(['active', 'none']).optional().describe('with an open promise to pay (or installment), or without'),
  sort: z.enum(['dueDate', 'openAmount', 'daysPastDue', 'invoiceNumber']).optional().describe('default dueDate (asc): keyset paging with cursor; other orders page with offset'),
  order: z.enum(['asc', 'desc']).optional().describe('default asc'),
  amounts: queryFlag.optional().describe('true: also the open amounts of the filtered set, per currency and in the reporting currency'),
  ...pageQuery,
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,400}$/, 'the nextCursor of the previous page')
    .optional()
    .describe('the previous page’s nextCursor: the page that follows it (keyset paging; offset is then ignored)'),
});

/** What the lists' totals promise (api/totals-cache.ts): counted at most a few seconds ago, the caller's own writes included. */
export const TOTALS_AS_OF =
  'as of at most 5 s ago (held per filter so that paging does not count the whole portfolio each time): a write made through the API counts at once; ' +
  'changes made elsewhere (the dunning workflows, the ERP) may take up to 5 s to show here, while the items are always current';

export const invoiceListSchema = z.object({
  total: z.number().describe(`the invoices the filter selects, ${TOTALS_AS_OF}`),
  amounts: z
    .object({
      reportingCurrency: z.string(),
      openAmountReportingMinor: z.number().describe("each currency's sum converted once (config/reporting.json), then added"),
      byCurrency: z.array(z.object({ currency: z.string(), count: z.number(), openAmountMinor: z.number() })),
    })
    .optional()
    .describe(`with amounts=true: the open amounts of the invoices the filter selects, ${TOTALS_AS_OF}`),
  nextCursor: z.string().nullable().describe('pass as cursor for the next page; null on the last page'),
  items: z.array(
    z.object({
      number: z.string(),
      customerId: z.string(),
      currency: z.string(),
      amountMinor: z.number(),
      openAmountMinor: z.number(),
      dueDate: z.string(),
      stage: z.string(),
      nextStep: z.object({ stepId: z.string(), action: z.string(), at: z.string() }).nullable(),
      pausedUntil: z.string().nullable(),
      promiseDate: z.string().nullable(),
    }),
  ),
});

// --- Cadences: definitions are versioned; the route body is the cadence format of domain/cadence.ts. ---

export const cadenceIdSchema = stepIdSchema;

/**
 * cadenceSchema as the API takes it: `version` may be left out and is ignored (the server numbers versions).
 * zod skips an object's refinements once one of its fields failed hard (an unknown action type, a missing
 * field), so cadenceSchema's cross-step checks say nothing then; the duplicate step id check runs here in
 * that case too, so that one response names every problem.
 */
export const cadenceDefinitionSchema = cadenceFieldsSchema
  .extend({ version: z.number().int().positive().optional().describe('ignored: the server numbers versions 1, 2, ... (a preview of an inline definition shows 0)') })
  .superRefine(checkCadence)
  .superRefine(
  (value, ctx) => {
    if (typeof value !== 'object' || value === null) return; // null or not an object: cadenceSchema said so
    const steps: unknown = (value as { steps?: unknown }).steps;
    if (!Array.isArray(steps)) return;
    const seen = new Set<string>();
    steps.forEach((step: unknown, i) => {
      const id = (step as { id?: unknown } | null)?.id;
      if (typeof id !== 'string') return;
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id "${id}"` });
      seen.add(id);
    });
  },
  { when: (payload) => payload.issues.some((issue) => issue.continue !== true) }, // only when cadenceSchema's own checks were skipped
).superRefine(
  // Its names, notes, reasons and events follow the text rules of every other text (domain/text.ts), whatever else is wrong.
  (value, ctx) => {
    for (const issue of documentTextIssues(value)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input: value });
  },
  { when: () => true },
);
export const cadenceParams = z.object({ cadenceId: cadenceIdSchema });
/** A saved version's number: 1, 2, ... up to what its column (int) holds. */
export const cadenceVersionSchema = z.number().int().positive().max(2_147_483_647);
export const cadenceVersionParams = z.object({ cadenceId: cadenceIdSchema, version: z.coerce.number().pipe(cadenceVersionSchema) });
export const segmentParams = z.object({ segment: segmentSchema });
export const customerParams = z.object({ customerId: customerSchema.shape.id });

export const cadenceVersionViewSchema = z.object({
  cadenceId: z.string(),
  version: z.number(),
  status: z.enum(['draft', 'active', 'retired']),
  createdAt: z.string(),
  createdBy: z.string(),
  activatedAt: z.string().nullable(),
  definition: cadenceSchema,
});
export type CadenceVersionView = z.infer<typeof cadenceVersionViewSchema>;

export const cadenceSummarySchema = z.object({
  cadenceId: z.string(),
  name: z.string(),
  latestVersion: z.number(),
  latestStatus: z.enum(['draft', 'active', 'retired']),
  activeVersion: z.number().nullable(),
});
export const cadenceListSchema = z.object({ items: z.array(cadenceSummarySchema) });
export const cadenceHistorySchema = z.object({ cadenceId: z.string(), activeVersion: z.number().nullable(), versions: z.array(cadenceVersionViewSchema) });

export const validationIssueSchema = z.object({ path: z.string(), code: z.string(), message: z.string() });
/** The error handler's validation_failed shape, also answered by POST /cadences/validate. */
export const validationFailedSchema = z.object({ error: z.literal('validation_failed'), message: z.string(), issues: z.array(validationIssueSchema) });
/** A 400 of a route that takes free-form JSON: validation_failed with its issues, or another refusal of the request (an empty JSON body, malformed JSON). */
export const badRequestSchema = z.object({ error: z.string(), message: z.string(), issues: z.array(validationIssueSchema).optional() }).loose();

export const segmentAssignmentBody = z.object({ cadenceId: cadenceIdSchema });
export const segmentAssignmentSchema = z.object({ segment: segmentSchema, cadenceId: z.string() });
export const customerCadenceBody = z.object({ cadenceId: cadenceIdSchema.nullable().describe('null removes the override') });
export const customerCadenceSchema = z.object({ customerId: z.string(), cadenceId: z.string().nullable() });

/** A saved cadence; without a version, its active one. */
export const savedCadenceRefSchema = z.strictObject({ id: cadenceIdSchema, version: cadenceVersionSchema.optional() });
export const enrolledInvoiceRefSchema = z.strictObject({ number: invoiceNumberSchema });
export const previewInvoiceSchema = z.strictObject({
  currency: currencySchema,
  amountMinor: amountMinorSchema,
  openAmountMinor: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional().describe('defaults to amountMinor'),
  dueDate: dateSchema,
});
export const previewCustomerSchema = z.object({
  timeZone: customerSchema.shape.timeZone,
  segment: segmentSchema,
  country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code, e.g. DE').optional(),
  region: z.string().min(1).max(10).optional(),
  doNotContact: z.boolean().optional(),
});
/**
 * One of two object shapes told apart by one key, so that errors name the fields of the shape meant:
 * a plain union answers only "invalid input" when both shapes fail. OpenAPI still shows both.
 */
function shapeByKey<A extends z.ZodType, B extends z.ZodType>(key: string, withKey: A, withoutKey: B) {
  const jsonSchema = (schema: z.ZodType) => {
    // The document is OpenAPI 3.0: exclusiveMinimum is a boolean beside minimum there, not a number as in JSON Schema 2020-12.
    const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' });
    return rest;
  };
  return z
    .unknown()
    .transform((value, ctx): z.output<A> | z.output<B> => {
      const result = (typeof value === 'object' && value !== null && key in value ? withKey : withoutKey).safeParse(value);
      if (result.success) return result.data as z.output<A> | z.output<B>;
      for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
      return z.NEVER;
    })
    .meta({ anyOf: [jsonSchema(withKey), jsonSchema(withoutKey)] });
}

export const previewRequestSchema = z
  .object({
    cadence: shapeByKey('steps', cadenceDefinitionSchema, savedCadenceRefSchema)
      .optional()
      .describe('an inline definition, or a saved cadence { id, version? }; omitted: the cadence the invoice runs (enrolled) or would get (inline)'),
    invoice: shapeByKey('number', enrolledInvoiceRefSchema, previewInvoiceSchema).describe('an enrolled invoice { number }, or an inline one'),
    customer: previewCustomerSchema.optional().describe('required with an inline invoice; with an enrolled one it replaces the stored profile'),
    asOf: boundedInstantSchema.optional().describe(`defaults to now; ${INSTANT_RANGE}`),
  })
  .refine((r) => r.customer !== undefined || (typeof r.invoice === 'object' && 'number' in r.invoice), {
    path: ['customer'],
    message: 'required with an inline invoice',
  });
export type PreviewRequest = z.infer<typeof previewRequestSchema>;

export const previewResponseSchema = z.object({
  cadence: z.object({ id: z.string(), version: z.number() }),
  steps: z.array(
    z.object({
      stepId: z.string(),
      action: z.string(),
      at: z.string(),
      status: z.enum(['scheduled', 'superseded', 'skipped']),
      reason: z.string().optional(),
    }),
  ),
});
