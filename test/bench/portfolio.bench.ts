import type { Client } from '@temporalio/client';
import { loadReportingConfig, loadReportsConfig } from '../../config/load';
import { createPortfolioService } from '../../api/portfolio-service';
import { createInvoiceService } from '../../api/invoice-service';
import { startBenchDatabase, seedTenantCollectors } from './private-postgres';
import { check, table, timed, type Bench } from './harness';

/**
 * The portfolio views (issue 13) at scale, in process against a throw-away PostgreSQL: 10,000 customers held by 50
 * collectors, 200,000 receivables in ar_items (EUR, USD, GBP; one in four open), 50,000 of them enrolled (invoices),
 * 12,500 open call tasks (one per open enrolled invoice), 2,500 open promises, 4,167 open disputes and 300,000 audit events. Loaded set-based with the
 * triggers off (session_replication_role = replica: the bench's shortcut; the product writes through its triggers),
 * then analyzed.
 *
 * Times, median of 5 after a warm-up: GET /customers's work (a page and the totals, as the service runs them) for a
 * manager (all 10,000 customers) and a collector (200), sorted by open amount, by priority and with filters; one
 * customer at a glance; a customer's timeline page; the invoice list with the new filters and sorts. Target (ours):
 * under 1 s for a manager's list, under 100 ms for the rest.
 * Check: the list's totals equal a separate query's per-currency sums of the open items.
 */
const TENANT = 'bench';
const CUSTOMERS = 10_000;
const COLLECTORS = 50;
const ITEMS = 200_000;
const ENROLLED = 50_000;
const RUNS = 5;

export const bench: Bench = {
  timeoutMs: 900_000,
  async run() {
    const { sql } = await startBenchDatabase('portfolio', { max: 4 });
    const [, loadMs] = await timed(() =>
      sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await seedTenantCollectors(tx, TENANT, COLLECTORS);
        await tx`insert into customers (tenant_id, customer_id, name, email, time_zone, locale, collector_id, segment, country, credit_hold)
                 select ${TENANT}, 'C' || g, 'Customer ' || g, 'ap@c' || g || '.example', 'Europe/Berlin', 'en', 'col-' || (g % ${COLLECTORS}),
                        (array['standard', 'strategic', 'high_risk'])[1 + g % 3], (array['DE', 'FR', 'US', 'GB'])[1 + g % 4], g % 50 = 0
                 from generate_series(0, ${CUSTOMERS - 1}) g`;
        await tx`
          insert into ar_items (tenant_id, invoice_number, customer_id, currency, amount_minor, issue_date, due_date, open_amount_minor, settled_on, origin)
          select ${TENANT}, 'I' || g, 'C' || (g % ${CUSTOMERS}), (array['EUR', 'EUR', 'USD', 'GBP'])[1 + g % 4], a, d, d + 30,
                 case when g % 4 = 0 then a else 0 end, case when g % 4 = 0 then null else d + 40 end, case when g <= ${ENROLLED} then 'invoice' else 'ledger' end
          from generate_series(1, ${ITEMS}) g,
               lateral (select current_date - 400 + ((g::bigint * 397) % 400)::int as d, 1000 + (g::bigint * 7919) % 500000 as a) x`;
        await tx`
          insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date, workflow_id,
                                cadence_id, cadence_version, stage, collector_id, next_step_id, next_step_at)
          select a.tenant_id, a.invoice_number, a.customer_id, a.currency, a.amount_minor, a.open_amount_minor, a.issue_date, a.due_date,
                 'wf-' || a.invoice_number, case when n % 5 = 0 then 'strict' else 'standard' end, 1,
                 case when a.open_amount_minor = 0 then 'paid' else 'active' end, c.collector_id,
                 case when a.open_amount_minor > 0 then 'reminder-2' end, case when a.open_amount_minor > 0 then now() + (n % 30) * interval '1 day' end
          from ar_items a join customers c using (tenant_id, customer_id), lateral (select substr(a.invoice_number, 2)::int as n) x
          where a.tenant_id = ${TENANT} and a.origin = 'invoice'`;
        await tx`insert into call_tasks (tenant_id, invoice_number, customer_id, collector_id, due_at, note, kind, priority_score)
                 select tenant_id, invoice_number, customer_id, collector_id, now(), 'call', 'cadence', (substr(invoice_number, 2)::int * 31) % 100
                 from invoices where tenant_id = ${TENANT} and stage = 'active'`;
        await tx`insert into promises (tenant_id, promise_id, invoice_number, customer_id, amount_minor, currency, promised_date, made_by, recorded_by)
                 select tenant_id, 'P' || invoice_number, invoice_number, customer_id, open_amount_minor, currency, current_date + 7, 'ap', 'col'
                 from invoices where tenant_id = ${TENANT} and stage = 'active' and substr(invoice_number, 2)::int % 5 = 0`;
        await tx`insert into disputes (tenant_id, dispute_id, invoice_number, customer_id, workflow_id, disputed_amount_minor, currency, reason_code,
                                       source, opened_by, owner_team, deadline_date, deadline_at)
                 select tenant_id, 'D' || invoice_number, invoice_number, customer_id, workflow_id, open_amount_minor, currency, 'pricing',
                        'api', 'col', 'pricing', current_date + 10, now() + interval '10 days'
                 from invoices where tenant_id = ${TENANT} and stage = 'active' and substr(invoice_number, 2)::int % 12 = 4`;
        await tx`insert into audit_events (event_key, tenant_id, actor, invoice_number, workflow_id, event_type, details, occurred_at)
                 select 'e' || g, ${TENANT}, 'workflow', 'I' || (1 + g % ${ENROLLED}), 'wf-I' || (1 + g % ${ENROLLED}), 'step_done',
                        jsonb_build_object('stepId', 'r' || (g % 6), 'action', 'email', 'outcome', 'sent'), now() - (g % 1000) * interval '1 hour'
                 from generate_series(1, 300000) g`;
      }),
    );
    await sql`analyze`;

    const fx = loadReportingConfig();
    const config = loadReportsConfig();
    const portfolio = createPortfolioService({ sql, tenantId: TENANT, fx, config });
    const invoices = createInvoiceService({ sql, tenantId: TENANT, fx, temporal: {} as Client, taskQueue: 'bench', cadences: {} as never });
    const page = { limit: 50, offset: 0 };

    const cases: [string, () => Promise<unknown>][] = [
      ['customers: manager, by open amount', () => portfolio.listCustomers({ sort: 'openAmount', order: 'desc', ...page })],
      ['customers: manager, by priority', () => portfolio.listCustomers({ sort: 'priority', order: 'desc', ...page })],
      ['customers: manager, DE + min 1,000 EUR + 60 days', () => portfolio.listCustomers({ sort: 'openAmount', order: 'desc', country: 'DE', minOpenMinor: 100_000, minDaysPastDue: 60, ...page })],
      ['customers: manager, open dispute', () => portfolio.listCustomers({ sort: 'name', order: 'asc', hasOpenDispute: true, ...page })],
      ['customers: collector (200)', () => portfolio.listCustomers({ sort: 'openAmount', order: 'desc', collectorId: 'col-7', ...page })],
      ['customer at a glance', () => portfolio.customer('C4')],
      ['customer timeline, page 1', () => portfolio.timeline({ customerId: 'C4' }, { order: 'asc', ...page })],
      ['invoice timeline', () => portfolio.timeline({ invoiceNumber: 'I4' }, { order: 'asc', ...page })],
      ['invoices: bucket 31-60 + amounts', () => invoices.list({ daysPastDue: { min: 31, max: 60 }, amounts: true, ...page })],
      ['invoices: by open amount desc', () => invoices.list({ sort: { by: 'openAmount', order: 'desc' }, ...page })],
      ['invoices: disputed + USD', () => invoices.list({ disputed: true, currency: 'USD', ...page })],
      ['invoices: collector, promise active', () => invoices.list({ collectorId: 'col-7', promise: 'active', ...page })],
    ];
    const rows: (string | number)[][] = [['case', 'min ms', 'median ms', 'max ms']];
    for (const [name, run] of cases) {
      await run();
      const ms: number[] = [];
      for (let i = 0; i < RUNS; i++) ms.push((await timed(run))[1]);
      ms.sort((a, b) => a - b);
      rows.push([name, ms[0]!, ms[Math.floor(RUNS / 2)]!, ms[RUNS - 1]!]);
    }

    // The totals against a query of their own: the open items' sums per currency.
    const all = await portfolio.listCustomers({ sort: 'openAmount', order: 'desc', ...page });
    const direct = await sql<{ currency: string; open: string }[]>`
      select currency, sum(open_amount_minor)::text as open from ar_items where tenant_id = ${TENANT} and settled_on is null group by currency order by currency`;
    check(
      JSON.stringify(all.totals.byCurrency.map((c) => [c.currency, c.openAmountMinor])) === JSON.stringify(direct.map((d) => [d.currency, Number(d.open)])),
      'the customer list totals equal the open items per currency',
    );
    check(all.total === CUSTOMERS && all.items.length === 50, 'every customer counted, a page of 50');

    table(`portfolio views: ${CUSTOMERS.toLocaleString('en-US')} customers, ${ITEMS.toLocaleString('en-US')} receivables (${ENROLLED.toLocaleString('en-US')} enrolled), loaded in ${Math.round(loadMs)} ms`, rows);
  },
};
