import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sql } from '../../db/sql';
import type { FxTable } from '../../domain/fx';
import type { ReportsConfig } from '../../domain/reports/config';
import { lastCompleteMonth } from '../../domain/reports/dso';
import type { ReportTable } from '../../domain/reports/table';
import { monthQuery, type ReportContext, type ReportDefinition } from '../../reports/definition';
import { CONTENT_TYPES, fileStem, sheetName, tablesToXlsx, tableToCsv } from '../../reports/formats';
import { buildArPack, packDate, packToXlsx } from '../../reports/pack';
import { portfolioScope } from '../auth';
import { DomainError } from '../errors';
import { errorResponses } from '../schemas';
import { localDay } from '../worklist-service';

/**
 * The reports over HTTP (issue 13, docs/reports-formats.md): GET /reports lists them; GET /reports/<name> runs one
 * (its own querystring, plus `format` json|csv|xlsx and `table` for CSV; `Accept: text/csv` or the XLSX media type
 * also choose, an explicit `format` wins); GET /reports/ar-pack gives every report with a pack query in one workbook.
 * Each request gets its ReportContext: the caller's portfolio (a collector's reports cover their customers only)
 * and today in the reporting zone.
 */

type Format = 'json' | 'csv' | 'xlsx';
const FORMATS = ['json', 'csv', 'xlsx'] as const;
const XLSX_TYPE = CONTENT_TYPES.xlsx;

const formatField = z.enum(FORMATS).optional().describe('json (default), csv (one table: see `table`) or xlsx (a workbook, a sheet per table); overrides Accept');
const tableField = z
  .string()
  .min(1)
  .max(100)
  .optional()
  .describe('the table of a CSV (or the one sheet of an XLSX), by name as GET /reports lists them (case and spaces loose: "aging-by-currency"); default: CSV the first, XLSX all');

/**
 * The format the Accept header asks for, by quality then order: text/csv -> csv, the XLSX media type -> xlsx,
 * application/json, application/* or * / * -> json. undefined when it names none of them (then json).
 */
export function formatFromAccept(accept: string | undefined): Format | undefined {
  if (!accept) return undefined;
  const ranges = accept
    .split(',')
    .map((part, i) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = params.map((p) => /^q=([0-9.]+)$/.exec(p)).find((m) => m !== null);
      return { type, q: q ? Number(q[1]) : 1, i };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { type } of ranges) {
    if (type === 'text/csv') return 'csv';
    if (type === XLSX_TYPE) return 'xlsx';
    if (type === 'application/json' || type === 'application/*' || type === '*/*') return 'json';
  }
  return undefined;
}

/** The day or month a result is of, for its file name. */
function resultLabel(result: unknown, today: string): string {
  const r = (result ?? {}) as Record<string, unknown>;
  if (typeof r.asOf === 'string' && typeof r.month !== 'string') return r.asOf;
  if (typeof r.month === 'string') return r.month;
  if (Array.isArray(r.months) && r.months.length > 0) {
    const months = (r.months as { month?: unknown }[]).map((m) => m.month).filter((m): m is string => typeof m === 'string');
    if (months.length > 0) return months[0] === months[months.length - 1] ? months[0]! : `${months[0]}_${months[months.length - 1]}`;
  }
  if (typeof r.from === 'string' && typeof r.to === 'string') return `${r.from}_${r.to}`;
  return today;
}

const loose = (name: string) => fileStem(name);

/** The named table, or the first; 400 naming the tables when no table has that name. */
function pickTable(tables: ReportTable[], wanted: string | undefined, report: string): ReportTable {
  if (wanted === undefined) {
    const first = tables[0];
    if (!first) throw new DomainError('validation_failed', `the report ${report} gave no table`);
    return first;
  }
  // By the table's name, or by its sheet's name in the report's workbook (shortened to Excel's 31 characters).
  const taken = new Set<string>();
  const sheets = tables.map((t) => sheetName(t.name, taken));
  const found = tables.find((t, i) => loose(t.name) === loose(wanted) || loose(sheets[i]!) === loose(wanted));
  if (!found)
    throw new DomainError('validation_failed', `the report ${report} has no table "${wanted}"; its tables: ${tables.map((t) => t.name).join(', ')}`, {
      issues: [{ path: ['querystring', 'table'], code: 'invalid_value', message: `one of: ${tables.map((t) => loose(t.name)).join(', ')}` }],
    });
  return found;
}

const attachment = (reply: FastifyReply, contentType: string, filename: string) =>
  reply.header('content-type', contentType).header('content-disposition', `attachment; filename="${filename}"`);

// A cell a definition left undefined is left out of the JSON (as the CSV leaves it empty), not a serialization error.
const cellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]).optional();
const tableSchema = z.object({
  name: z.string(),
  title: z.string(),
  columns: z.array(
    z.object({
      key: z.string(),
      header: z.string(),
      type: z.enum(['text', 'date', 'integer', 'money', 'days', 'percent', 'number']),
      currencyKey: z.string().optional(),
      currency: z.string().optional(),
    }),
  ),
  rows: z.array(z.record(z.string(), cellSchema)),
  totals: z.record(z.string(), cellSchema).nullable(),
  notes: z.array(z.string()).optional(),
});
const packSchema = z.object({
  tenantId: z.string(),
  month: z.string(),
  monthEnd: z.string(),
  asOf: z.string(),
  reportingCurrency: z.string(),
  rates: z.record(z.string(), z.string()).describe('1 unit of each currency = rate units of the reporting currency (config/reporting.json)'),
  generatedAt: z.string().describe('ISO 8601 with the reporting zone’s offset'),
  timeZone: z.string(),
  reports: z.array(z.string()),
  sheets: z.array(z.object({ sheet: z.string(), report: z.string(), table: tableSchema })),
});

const listSchema = z.object({
  reports: z.array(
    z.object({
      name: z.string(),
      path: z.string().nullable().describe('null when another route holds /reports/<name> (the report is then in the AR pack only)'),
      summary: z.string(),
      description: z.string(),
      formats: z.array(z.enum(FORMATS)),
      inArPack: z.boolean(),
    }),
  ),
  arPack: z.object({ path: z.string(), formats: z.array(z.enum(['xlsx', 'json'])) }),
});

export interface ReportRouteDeps {
  sql: Sql;
  tenantId: string;
  fx: FxTable;
  config: ReportsConfig;
  reports: readonly ReportDefinition[];
  /** The clock (tests); default the system's. */
  now?: () => Date;
}

/** GET /reports/<name> for each report (JSON, CSV, XLSX) and the month-end AR pack. */
export const reportRoutes: FastifyPluginAsyncZod<ReportRouteDeps> = async (app, deps) => {
  const now = deps.now ?? (() => new Date());
  const contextFor = (request: FastifyRequest): ReportContext => ({
    sql: deps.sql,
    tenantId: deps.tenantId,
    collectorId: portfolioScope(request.user),
    fx: deps.fx,
    config: deps.config,
    today: localDay(now(), deps.config.timeZone),
  });
  const names = new Set<string>();
  // Which definitions got their GET /reports/<name> (the loop at the end mounts them).
  const mounted = new Set<string>();
  for (const report of deps.reports) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(report.name) || report.name === 'ar-pack' || names.has(report.name)) {
      throw new Error(`report name "${report.name}": lower-case letters, digits and -, unique, not ar-pack`);
    }
    if (!(report.query instanceof z.ZodObject)) throw new Error(`report ${report.name}: its query must be a z.object`);
    names.add(report.name);
  }

  app.get('/reports', {
    schema: { summary: 'The reports: name, path, definitions, formats; and the AR pack', tags: ['reports'], response: { 200: listSchema } },
    handler: async () => ({
      reports: deps.reports.map((r) => ({
        name: r.name,
        path: mounted.has(r.name) ? `/reports/${r.name}` : null,
        summary: r.summary,
        description: r.description,
        formats: [...FORMATS],
        inArPack: r.packQuery !== undefined,
      })),
      arPack: { path: '/reports/ar-pack', formats: ['xlsx' as const, 'json' as const] },
    }),
  });

  app.get('/reports/ar-pack', {
    schema: {
      summary: 'The month-end AR pack: every report of the pack as of the month end, in one workbook (or its tables as JSON)',
      description:
        'Runs each report that has a pack query for `month` (aging as of its last day, DSO and CEI of the month...) with the ' +
        'caller’s portfolio, and returns one XLSX workbook: a cover sheet (tenant, month, as of, reporting currency, the FX ' +
        'rates in force, generated at, the contents) and a sheet per table. `format=json` gives the same tables as JSON.',
      tags: ['reports'],
      querystring: z.object({
        month: monthQuery.optional().describe('the pack’s month (YYYY-MM); default the last complete month in the reporting zone'),
        format: z.enum(['xlsx', 'json']).default('xlsx').describe('xlsx (default) or json'),
      }),
      response: {
        200: {
          description: 'the pack',
          content: { [XLSX_TYPE]: { schema: z.string().describe('an XLSX workbook (binary)') }, 'application/json': { schema: packSchema } },
        },
        ...errorResponses,
      },
    },
    handler: async (request, reply) => {
      const ctx = contextFor(request);
      const month = request.query.month ?? lastCompleteMonth(ctx.today);
      const pack = await buildArPack(ctx, packDate(month), deps.reports, now());
      if (request.query.format === 'json') return reply.header('content-type', CONTENT_TYPES.json).send(pack as never);
      const buffer = await packToXlsx(pack);
      return attachment(reply, XLSX_TYPE, `ar-pack-${month}.xlsx`).send(buffer as never);
    },
  });

  for (const report of deps.reports) {
    if (app.hasRoute({ method: 'GET', url: `/reports/${report.name}` })) {
      // Another plugin answers this path already (a route older than the report definitions): it keeps it, and the
      // report is still in GET /reports and the AR pack. Say so at start rather than refuse to start.
      app.log.warn({ report: report.name }, `GET /reports/${report.name} is declared by another route: the report definition ${report.name} is not mounted there`);
      continue;
    }
    mounted.add(report.name);
    const query = (report.query as z.ZodObject).extend({ format: formatField, table: tableField });
    app.get(`/reports/${report.name}`, {
      schema: {
        summary: report.summary,
        description: `${report.description}\n\nFormats: JSON (default), CSV (\`?format=csv\` or \`Accept: text/csv\`; one table, \`?table=\`), XLSX (\`?format=xlsx\`: a sheet per table). A collector’s report covers their portfolio only.`,
        tags: ['reports'],
        querystring: query,
        response: {
          200: {
            description: `the ${report.name} report`,
            content: {
              'application/json': { schema: report.response },
              'text/csv': { schema: z.string().describe('RFC 4180, a header row; money as exact decimals in major units with a currency column') },
              [XLSX_TYPE]: { schema: z.string().describe('an XLSX workbook (binary)') },
            },
          },
          ...errorResponses,
        },
      },
      handler: async (request, reply) => {
        const { format: asked, table: wanted, ...rest } = request.query as Record<string, unknown> & { format?: Format; table?: string };
        const format: Format = asked ?? formatFromAccept(request.headers.accept) ?? 'json';
        const ctx = contextFor(request);
        const result: unknown = await report.run(ctx, rest);
        if (format === 'json') return reply.header('content-type', CONTENT_TYPES.json).send(result as never);
        const tables = report.tables(result, ctx);
        const label = resultLabel(result, ctx.today);
        if (format === 'csv') {
          const table = pickTable(tables, wanted, report.name);
          return attachment(reply, CONTENT_TYPES.csv, `${report.name}-${fileStem(table.name) === report.name ? '' : `${fileStem(table.name)}-`}${label}.csv`).send(tableToCsv(table));
        }
        const chosen = wanted === undefined ? tables : [pickTable(tables, wanted, report.name)];
        const { buffer } = await tablesToXlsx(chosen);
        return attachment(reply, XLSX_TYPE, `${report.name}-${label}.xlsx`).send(buffer as never);
      },
    });
  }
};
