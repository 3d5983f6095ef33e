import { z } from 'zod';
import { isCurrencyCode } from '../domain/money';

/** Request and response shapes, checked at the edge and published as OpenAPI. */

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};
const isLocale = (locale: string) => {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
};

export const currencySchema = z.string().refine(isCurrencyCode, 'must be an ISO 4217 currency code, e.g. EUR');
export const amountMinorSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).describe('integer amount in minor units (cents)');
export const invoiceNumberSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._\/-]{0,63}$/, 'letters, digits, . _ / -, at most 64');

export const customerSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ -, at most 64'),
  name: z.string().trim().min(1).max(200),
  email: z.email(),
  timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/Berlin'),
  locale: z.string().refine(isLocale, 'must be a BCP 47 locale, e.g. de-DE').default('en-US'),
  collectorId: z.string().min(1).max(64).optional(),
});

export const enrollmentSchema = z.object({
  customer: customerSchema,
  invoice: z
    .object({
      number: invoiceNumberSchema,
      currency: currencySchema,
      amountMinor: amountMinorSchema,
      issueDate: z.iso.date(),
      dueDate: z.iso.date(),
    })
    .refine((i) => i.dueDate >= i.issueDate, { message: 'dueDate must not be before issueDate', path: ['dueDate'] }),
});
export type Enrollment = z.infer<typeof enrollmentSchema>;

export const paymentSchema = z.object({
  paymentId: z.string().min(1).max(100),
  amountMinor: amountMinorSchema,
  currency: currencySchema,
  receivedAt: z.iso.datetime({ offset: true }).optional(),
});

export const invoiceParams = z.object({ invoiceNumber: invoiceNumberSchema });

export const errorSchema = z.object({ error: z.string(), message: z.string() }).loose();

export const stepSchema = z.object({ stepId: z.string(), action: z.string(), at: z.string(), outcome: z.string() });
export const nextStepSchema = z.object({ stepId: z.string(), action: z.string(), at: z.string() }).nullable();

export const invoiceViewSchema = z.object({
  workflowId: z.string(),
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
  steps: z.array(stepSchema),
});
export type InvoiceView = z.infer<typeof invoiceViewSchema>;

export const invoiceListQuery = z.object({
  stage: z.enum(['active', 'paid', 'cancelled', 'written_off']).optional(),
  customerId: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const invoiceListSchema = z.object({
  total: z.number(),
  items: z.array(
    z.object({
      number: z.string(),
      customerId: z.string(),
      currency: z.string(),
      amountMinor: z.number(),
      openAmountMinor: z.number(),
      dueDate: z.string(),
      stage: z.string(),
      nextStep: z.object({ stepId: z.string(), at: z.string() }).nullable(),
    }),
  ),
});
