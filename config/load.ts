import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { cadenceSchema, type Cadence } from '../domain/cadence';
import { fxTableSchema, type FxTable } from '../domain/fx';
import { resolutionMatrixSchema, type ResolutionMatrix } from '../domain/resolution-matrix';
import { authorityMatrixSchema, type AuthorityMatrix } from '../domain/authority-matrix';
import { emailTemplatesSchema, unknownTemplateIssues, type EmailTemplate } from '../domain/templates';
import { reportsConfigSchema, type ReportsConfig } from '../domain/reports/config';
import { ConfigError } from './env';
import { validationIssues } from './validation-issues';

/** Configuration files are resolved from the project root, so every process finds the same ones. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', path.basename(path.resolve(__dirname, '..')) === 'dist' ? '..' : '.');

function loadJson<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  const full = path.resolve(PROJECT_ROOT, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(full, 'utf8'));
  } catch (err) {
    throw new ConfigError([`${file}: ${(err as Error).message}`]);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(validationIssues(parsed.error).map((i) => `${file} at ${i.path || '(root)'}: ${i.message}`));
  return parsed.data;
}

export const loadCadence = (file: string): Cadence => loadJson(file, cadenceSchema);
export const loadEmailTemplates = (file = 'config/email-templates.json'): Record<string, EmailTemplate> =>
  loadJson(file, emailTemplatesSchema);
/** The reporting currency and the FX rates into it (decimal strings), for worklist priority and totals. */
export const loadReportingConfig = (file = 'config/reporting.json'): FxTable => loadJson(file, fxTableSchema);
/** The reports' time zone, aging buckets, count-back lookback and weekly AR pack (issue 13). */
export const loadReportsConfig = (file = 'config/reports.json'): ReportsConfig => loadJson(file, reportsConfigSchema);
/** Who owns which disputes, and their deadlines: the default until a version is saved through the API. */
export const loadResolutionMatrix = (file = 'config/resolution-matrix.json'): ResolutionMatrix => loadJson(file, resolutionMatrixSchema);
/** Who may approve what: the default until a version is saved through the API. */
export const loadAuthorityMatrix = (file = 'config/authority-matrix.json'): AuthorityMatrix => loadJson(file, authorityMatrixSchema);

/** A cadence may only name templates that exist (the same rule the API applies when a cadence is saved). */
export function checkCadenceTemplates(cadence: Cadence, templates: Record<string, EmailTemplate>): void {
  const missing = unknownTemplateIssues(cadence, templates, []).map((i) => `${i.path}: ${i.message}`);
  if (missing.length) throw new ConfigError(missing);
}
