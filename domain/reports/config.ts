import { z } from 'zod';

/**
 * The reports' configuration (config/reports.json, issue 13). Pure: no clock, no I/O.
 *
 * - `timeZone`: the reporting zone. "Today" (the default `asOf`) and the day a payment or an observed balance change
 *   falls on are taken in it (PostgreSQL reads it from report_settings, which the API and worker write at start).
 * - `agingBuckets`: the upper bounds (days past due, inclusive) of the past-due buckets: [30, 60, 90] gives
 *   current (<= 0), 1-30, 31-60, 61-90, 91+.
 * - `dsoLookbackMonths`: how many months of credit sales the count-back may use up before it stops (and says so).
 * - `weeklyPack`: the AR pack mailed to the AR managers (`recipients`) by a Temporal Schedule, on `dayOfWeek` at
 *   `hour` in timeZone; off by default.
 */
const ianaZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Europe/Berlin');

export const reportsConfigSchema = z
  .object({
    timeZone: ianaZone,
    agingBuckets: z
      .array(z.number().int().min(1).max(3650))
      .min(1)
      .max(12)
      .refine((b) => b.every((v, i) => i === 0 || v > b[i - 1]!), 'strictly increasing upper bounds, e.g. [30, 60, 90]'),
    dsoLookbackMonths: z.number().int().min(1).max(120),
    weeklyPack: z
      .object({
        enabled: z.boolean(),
        /** 1 = Monday ... 7 = Sunday, in timeZone. */
        dayOfWeek: z.number().int().min(1).max(7),
        /** Hour of the day (0-23) in timeZone. */
        hour: z.number().int().min(0).max(23),
        /** Where it goes: the AR managers' addresses (or their distribution list). */
        recipients: z.array(z.email()).max(50),
      })
      .strict()
      .refine((p) => !p.enabled || p.recipients.length > 0, { message: 'an enabled weekly pack needs at least one recipient', path: ['recipients'] }),
  })
  .strict();
export type ReportsConfig = z.infer<typeof reportsConfigSchema>;

/** The bucket labels for the upper bounds: ['current', '1-30', '31-60', '61-90', '91+'] for [30, 60, 90]. */
export function bucketLabels(bounds: readonly number[]): string[] {
  const labels = ['current'];
  let from = 1;
  for (const upTo of bounds) {
    labels.push(`${from}-${upTo}`);
    from = upTo + 1;
  }
  labels.push(`${from}+`);
  return labels;
}

/** The bucket of a number of days past due (<= 0 is current), for the upper bounds. */
export function bucketOf(daysPastDue: number, bounds: readonly number[]): string {
  const labels = bucketLabels(bounds);
  if (daysPastDue <= 0) return labels[0]!;
  const i = bounds.findIndex((upTo) => daysPastDue <= upTo);
  return labels[i === -1 ? labels.length - 1 : i + 1]!;
}
