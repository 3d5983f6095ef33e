import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { segmentSchema } from '../domain/cadence';
import { ConfigError } from './env';
import { validationIssues } from './validation-issues';

/**
 * config/erp-sync.json: how often the ERP sync runs, how it pages, how the ERP's customers map to ours
 * (time zone and locale by country, segment by the ERP's category, collector by the ERP's account manager) and
 * which receivables it enrolls (the enrollment policy). docs/erp-sync.md documents every field.
 */

const zoneSchema = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone, e.g. Europe/Berlin');
const localeSchema = z.string().refine((l) => {
  try {
    return Intl.getCanonicalLocales(l).length === 1;
  } catch {
    return false;
  }
}, 'must be a BCP 47 locale, e.g. de-DE');

export const erpSyncConfigSchema = z
  .object({
    /** Default interval of the tenant's schedule (PUT /erp-sync/interval overrides it, ERP_SYNC_INTERVAL_MINUTES too). */
    intervalMinutes: z.number().int().min(1).max(24 * 60).default(15),
    /** Receivables asked per page of the change feed. */
    pageSize: z.number().int().min(1).max(1000).default(250),
    /** Pages per workflow run before it continues as new (bounds its history). */
    pagesPerRun: z.number().int().min(1).max(500).default(40),
    /** Invoice workflows started or signalled at once within a page. */
    enrollConcurrency: z.number().int().min(1).max(64).default(8),
    mapping: z
      .object({
        defaultTimeZone: zoneSchema.default('UTC'),
        defaultLocale: localeSchema.default('en-US'),
        /** ISO 3166-1 alpha-2 → the time zone and locale of a customer whose ERP record has none. */
        countries: z.record(z.string().regex(/^[A-Z]{2}$/), z.object({ timeZone: zoneSchema, locale: localeSchema })).default({}),
        /** The ERP's customer category → our segment; a category not listed takes defaultSegment. */
        categorySegments: z.record(z.string().min(1), segmentSchema).default({}),
        defaultSegment: segmentSchema.default('standard'),
        /** The ERP's account manager code → a collector's user id; not listed: the customer stays unassigned. */
        accountManagerCollectors: z.record(z.string().min(1), z.string().min(1).max(64)).default({}),
      })
      .prefault({}),
    policy: z
      .object({
        /** Enroll an open receivable from this many days before its due date (courtesy steps); 0: from the due date. */
        daysBeforeDue: z.number().int().min(0).max(365).default(7),
        /** ISO 4217 → the least open amount (minor units) enrolled; a currency not listed: any amount. */
        minimumOpenMinor: z.record(z.string().regex(/^[A-Z]{3}$/), z.number().int().nonnegative()).default({}),
        excludedSegments: z.array(segmentSchema).default([]),
        excludedCustomers: z.array(z.string().min(1)).default([]),
      })
      .prefault({}),
  })
  .strict();

export type ErpSyncConfig = z.infer<typeof erpSyncConfigSchema>;

const ROOT = path.resolve(__dirname, '..', path.basename(path.resolve(__dirname, '..')) === 'dist' ? '..' : '.');

/** Reads and checks the file; ConfigError naming each bad field. */
export function loadErpSyncConfig(file = 'config/erp-sync.json'): ErpSyncConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path.resolve(ROOT, file), 'utf8'));
  } catch (err) {
    throw new ConfigError([`${file}: ${(err as Error).message}`]);
  }
  const parsed = erpSyncConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(validationIssues(parsed.error).map((i) => `${file} at ${i.path || '(root)'}: ${i.message}`));
  return parsed.data;
}
