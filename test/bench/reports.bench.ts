import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import path from 'node:path';
import postgres from 'postgres';
import { buildApp } from '../../api/app';
import { createUser, issueToken } from '../../api/auth';
import { loadCadence, loadEmailTemplates } from '../../config/load';
import { startBenchDatabase, seedTenantCollectors } from './private-postgres';
import { check, fmt, table, timed, type Bench } from './harness';

/**
 * The ledger reports at the issue's scale (issue 13: "aging and count-back DSO over 1,000,000 invoices in PostgreSQL,
 * with the time per report; target under 1 s each"), through the real HTTP path: buildApp listening on a port of its
 * own, fetch with a manager's bearer token (and a collector's for the scoped aging), in front of a throw-away
 * PostgreSQL (dev/postgres.ts).
 *
 * Data, generated set-based (generate_series) in ONE loading session with the triggers off
 * (session_replication_role = replica: the bench's shortcut; the product writes through its triggers), then
 * `select ar_rebuild(tenant)` once (migration 017: ar_items and the dated ar_postings, as the product rebuilds
 * them) and `analyze`:
 *   - 5,000 customers in the ledger (ledger_customers), 4,000 of them also in customers with one of 40 collectors;
 *   - 1,000,000 ledger invoices issued evenly over 36 months (2023-04-01 .. 2026-03-31) in EUR (half), USD and GBP,
 *     due 14 to 60 days after issue; each settled 20 to 109 days after issue (paid, settled_date), except 1 in 50
 *     never paid; those settled after 2026-03-31 are still open then: about 8 % open at the as-of day;
 *   - partial payments as ERP webhook payments (dated postings after the rebuild): a third of each open invoice
 *     whose number is divisible by 3, ten days after issue (some after the as-of day), and half of each settled
 *     invoice divisible by 7, five days after issue (the rest an observed posting on its settled date).
 *
 * Times, several runs each (min / median / max, after one warm-up): GET /reports/aging by customer and with no groups
 * as of 2026-03-31 (and an older day, 2024-06-30, and a collector's portfolio), GET /reports/dso for March 2026,
 * GET /reports/cei for March 2026 and for the twelve months to March. Beside a floor measured in the same run: a bare
 * `select count(*) from ar_items where tenant_id = ...` and a bare GET /health/live. Target: under 1 s each.
 *
 * Checks (a report that silently answers wrong measures nothing): every answer is 200; the aging's per-currency
 * count and open amount at both days equal a query of this bench's own written by the definition (amount minus the
 * postings on or before D, over the items open at D), in another shape than the reports' SQL; DSO and CEI agree with
 * the aging's open AR at the month end.
 */
const TENANT = 'bench-reports';
const CUSTOMERS = 5_000;
const CUSTOMERS_ASSIGNED = 4_000;
const COLLECTORS = 40;
const INVOICES = Number(process.env.BENCH_REPORT_INVOICES ?? 1_000_000);
const RUNS = 5;
const TARGET_MS = 1_000;
const AS_OF = '2026-03-31';
const OLD_AS_OF = '2024-06-30';

const stats = (ms: number[]): [number, number, number] => {
  const s = [...ms].sort((a, b) => a - b);
  return [s[0]!, s[Math.floor(s.length / 2)]!, s[s.length - 1]!];
};

interface Line {
  count: number;
  openMinor: number;
}
interface AgingJson {
  total: Line;
  byCurrency: (Line & { currency: string })[];
  groups: unknown[];
}

export const bench: Bench = {
  timeoutMs: 1_500_000,
  async run() {
    const { sql, url: databaseUrl, beforeStop } = await startBenchDatabase('reports', { max: 6 });
    let closeApp: () => Promise<void> = async () => undefined;
    beforeStop(() => closeApp());

    // ---- Load ------------------------------------------------------------------------------------------------
    const [, loadMs] = await timed(() =>
      sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await seedTenantCollectors(tx, TENANT, COLLECTORS);
        await tx`insert into ledger_customers (tenant_id, customer_id, name, source)
                 select ${TENANT}, 'C' || g, 'Customer ' || g, 'import' from generate_series(0, ${CUSTOMERS - 1}) g`;
        await tx`insert into customers (tenant_id, customer_id, name, email, time_zone, locale, collector_id, segment)
                 select ${TENANT}, 'C' || g, 'Customer ' || g, 'ap@c' || g || '.example', 'Europe/Berlin', 'en', 'col-' || (g % ${COLLECTORS}),
                        (array['strategic', 'standard', 'standard', 'high_risk'])[1 + g % 4]
                 from generate_series(0, ${CUSTOMERS_ASSIGNED - 1}) g`;
        // x.d issue day, x.a amount, x.s the day it is settled (null: never paid, 1 in 50).
        await tx`
          insert into ledger_invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, status,
                                       issue_date, due_date, settled_date, source)
          select ${TENANT}, 'I' || g, 'C' || ((g * 7) % ${CUSTOMERS}), (array['EUR', 'EUR', 'USD', 'GBP'])[1 + g % 4], x.a,
                 case when x.s is not null and x.s <= ${AS_OF}::date then 0 when g % 3 = 0 then x.a - x.a / 3 else x.a end,
                 case when x.s is not null and x.s <= ${AS_OF}::date then 'paid' else 'open' end,
                 x.d, x.d + (array[14, 30, 30, 45, 60])[1 + g % 5],
                 case when x.s <= ${AS_OF}::date then x.s end, 'import'
          from generate_series(1, ${INVOICES}) g,
               lateral (select date '2023-04-01' + ((g::bigint * 1096) / (${INVOICES} + 1))::int as d,
                               1000 + (g::bigint * 7919) % 500000 as a) x0,
               lateral (select x0.d, x0.a, case when g % 50 = 7 then null else x0.d + 20 + ((g::bigint * 31) % 90)::int end as s) x`;
        // Partial payments from the ERP: a third of the open ones divisible by 3 ten days after issue; half of the
        // settled ones divisible by 7 five days after issue (the rest is observed on the settled day by the rebuild).
        await tx`
          insert into payments (tenant_id, payment_id, invoice_number, amount_minor, currency, received_at, source)
          select tenant_id, 'P3-' || invoice_number, invoice_number, amount_minor / 3, currency,
                 (issue_date + 10)::timestamp at time zone 'UTC' + interval '9 hours', 'erp_webhook'
          from ledger_invoices where tenant_id = ${TENANT} and status = 'open' and substr(invoice_number, 2)::bigint % 3 = 0`;
        await tx`
          insert into payments (tenant_id, payment_id, invoice_number, amount_minor, currency, received_at, source)
          select tenant_id, 'P7-' || invoice_number, invoice_number, amount_minor / 2, currency,
                 (issue_date + 5)::timestamp at time zone 'UTC' + interval '9 hours', 'erp_webhook'
          from ledger_invoices where tenant_id = ${TENANT} and status = 'paid' and substr(invoice_number, 2)::bigint % 7 = 0`;
      }),
    );
    const [, rebuildMs] = await timed(() => sql`select ar_rebuild(${TENANT})`);
    const [, analyzeMs] = await timed(() => sql`analyze`);
    const [facts] = await sql<{ items: number; postings: number; open: number; openCustomers: number }[]>`
      select (select count(*) from ar_items where tenant_id = ${TENANT})::int as items,
             (select count(*) from ar_postings where tenant_id = ${TENANT})::int as postings,
             (select count(*) from ar_items where tenant_id = ${TENANT} and issue_date <= ${AS_OF}::date and (settled_on is null or settled_on > ${AS_OF}::date))::int as open,
             (select count(distinct customer_id) from ar_items where tenant_id = ${TENANT} and issue_date <= ${AS_OF}::date and (settled_on is null or settled_on > ${AS_OF}::date))::int as "openCustomers"`;
    check(facts!.items === INVOICES, `ar_rebuild made ${facts!.items} items of ${INVOICES} ledger invoices`);
    const dbBytes = (await sql<{ b: number }[]>`select pg_database_size(current_database())::float8 as b`)[0]!.b;
    table(`Load: ${fmt(INVOICES)} ledger invoices, ${fmt(CUSTOMERS)} customers, 36 months, EUR/USD/GBP`, [
      ['step', 'time'],
      ['insert (triggers off)', `${fmt(loadMs / 1000)} s`],
      ['select ar_rebuild(tenant)', `${fmt(rebuildMs / 1000)} s`],
      ['analyze', `${fmt(analyzeMs / 1000)} s`],
      ['ar_items / ar_postings', `${fmt(facts!.items)} / ${fmt(facts!.postings)}`],
      [`open at ${AS_OF}`, `${fmt(facts!.open)} (${fmt((facts!.open / facts!.items) * 100)} %)`],
      ['database size', `${fmt(dbBytes / 2 ** 20)} MiB`],
    ]);

    // ---- The API on a real port ------------------------------------------------------------------------------
    const cadence = loadCadence('config/cadences/standard.json');
    // No Temporal: the report routes and /health/live never reach it.
    const app = await buildApp({ sql, temporal: {} as Client, tenantId: TENANT, taskQueue: 'bench-none', templates: loadEmailTemplates(), defaultCadenceId: cadence.id, webhookSecret: 'bench-secret-0123456789' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    closeApp = () => app.close();
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await createUser(sql, TENANT, { userId: 'mgr', name: 'Bench Manager', role: 'ar_manager' });
    const manager = { authorization: `Bearer ${(await issueToken(sql, TENANT, 'mgr', { label: 'bench' })).token}` };
    const collector = { authorization: `Bearer ${(await issueToken(sql, TENANT, 'col-3', { label: 'bench' })).token}` };

    const getJson = async <T>(url: string, headers: Record<string, string> = manager): Promise<T> => {
      const res = await fetch(`${base}${url}`, { headers });
      const body = await res.text();
      check(res.status === 200, `GET ${url} answered ${res.status}: ${body.slice(0, 300)}`);
      return JSON.parse(body) as T;
    };

    // ---- Checks against the definition, in a shape of its own -------------------------------------------------
    const byDefinition = (d: string) => sql<{ currency: string; count: number; open: number }[]>`
      select i.currency::text as currency, count(*)::int as count, sum(i.amount_minor - coalesce(p.paid, 0))::float8 as open
      from ar_items i
      left join lateral (select sum(amount_minor) as paid from ar_postings p
                         where p.tenant_id = i.tenant_id and p.invoice_number = i.invoice_number and p.posted_on <= ${d}::date) p on true
      where i.tenant_id = ${TENANT} and i.issue_date <= ${d}::date and (i.settled_on is null or i.settled_on > ${d}::date)
      group by 1 order by 1`;
    for (const d of [AS_OF, OLD_AS_OF]) {
      const aging = await getJson<AgingJson>(`/reports/aging?asOf=${d}&groupBy=none`);
      const expected = await byDefinition(d);
      const got = aging.byCurrency.map((l) => ({ currency: l.currency, count: l.count, open: l.openMinor }));
      check(JSON.stringify(got) === JSON.stringify(expected), `aging at ${d} by currency ${JSON.stringify(got)} = by definition ${JSON.stringify(expected)}`);
      check(expected.length === 3 && expected.every((e) => e.count > 0), `three currencies open at ${d}`);
    }
    const dso = await getJson<{ openArMinor: number; countBack: { days: number; months: unknown[] } }>(`/reports/dso?month=2026-03`);
    const agingTotal = (await getJson<AgingJson>(`/reports/aging?asOf=${AS_OF}&groupBy=none`)).total;
    check(dso.openArMinor === agingTotal.openMinor && dso.countBack.days > 0, `DSO's open AR ${dso.openArMinor} = aging's ${agingTotal.openMinor}`);
    const cei = await getJson<{ months: { closingArMinor: number; cei: number | null }[] }>(`/reports/cei?from=2026-03&to=2026-03`);
    check(cei.months[0]!.closingArMinor === agingTotal.openMinor && cei.months[0]!.cei !== null, `CEI's closing AR = aging's open AR`);
    const byCustomer = await getJson<AgingJson>(`/reports/aging?asOf=${AS_OF}&groupBy=customer`);
    check(byCustomer.groups.length === facts!.openCustomers, `aging by customer has ${byCustomer.groups.length} groups, ${facts!.openCustomers} customers have open items`);

    // ---- Timings -----------------------------------------------------------------------------------------------
    const timeRuns = async (fn: () => Promise<unknown>) => {
      await fn(); // warm-up
      const ms: number[] = [];
      for (let i = 0; i < RUNS; i++) ms.push((await timed(fn))[1]);
      return stats(ms);
    };
    const http = (url: string, headers: Record<string, string> = manager) => () => getJson(url, headers);
    const rows: (string | number)[][] = [['measure', 'min ms', 'median ms', 'max ms', 'vs 1 s target']];
    const add = (label: string, [min, median, max]: [number, number, number], target = true) =>
      rows.push([label, min, median, max, target ? (median < TARGET_MS ? 'ok' : 'MISSED') : 'floor']);

    add('floor: select count(*) from ar_items (tenant)', await timeRuns(() => sql`select count(*) from ar_items where tenant_id = ${TENANT}`), false);
    add('floor: GET /health/live', await timeRuns(() => fetch(`${base}/health/live`).then((r) => r.arrayBuffer())), false);
    const measures: [string, string, Record<string, string>?][] = [
      [`aging by customer, ${AS_OF}`, `/reports/aging?asOf=${AS_OF}&groupBy=customer`],
      [`aging, no groups, ${AS_OF}`, `/reports/aging?asOf=${AS_OF}&groupBy=none`],
      [`aging by collector, ${AS_OF}`, `/reports/aging?asOf=${AS_OF}&groupBy=collector`],
      [`aging by customer, ${OLD_AS_OF}`, `/reports/aging?asOf=${OLD_AS_OF}&groupBy=customer`],
      [`aging by customer, a collector's portfolio`, `/reports/aging?asOf=${AS_OF}&groupBy=customer`, collector],
      ['DSO 2026-03 (count-back, standard, BPDSO, ADD)', '/reports/dso?month=2026-03&periodMonths=3'],
      ['CEI 2026-03', '/reports/cei?from=2026-03&to=2026-03'],
      ['CEI 2025-04 .. 2026-03 (12 months)', '/reports/cei?from=2025-04&to=2026-03'],
    ];
    const missed: string[] = [];
    for (const [label, url, headers] of measures) {
      const s = await timeRuns(http(url, headers));
      add(label, s);
      if (s[1] >= TARGET_MS) missed.push(label);
    }
    table(`Ledger reports over ${fmt(INVOICES)} invoices, real HTTP (fetch → buildApp on a port), ${RUNS} runs after a warm-up`, rows);
    console.log(missed.length ? `\n  over the 1 s target (median): ${missed.join('; ')}` : '\n  every report under the 1 s target (median)');

    // BENCH_EXPLAIN=<ms>: the plans (EXPLAIN ANALYZE, BUFFERS) of the queries (50 ms or more) behind each report whose
    // median took that long or longer, captured from a second app whose connection logs every query with its parameters.
    if (process.env.BENCH_EXPLAIN) {
      const captured: { query: string; params: unknown[] }[] = [];
      const traced = postgres(databaseUrl, {
        max: 2,
        onnotice: () => {},
        types: { int8: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) } },
        debug: (_conn, query, params) => void captured.push({ query, params: params as unknown[] }),
      });
      const app2 = await buildApp({ sql: traced as unknown as typeof sql, temporal: {} as Client, tenantId: TENANT, taskQueue: 'bench-none', templates: loadEmailTemplates(), defaultCadenceId: cadence.id, webhookSecret: 'bench-secret-0123456789' });
      await app2.ready();
      const slow = measures.filter(([label]) => rows.some((r) => r[0] === label && (r[2] as number) >= Number(process.env.BENCH_EXPLAIN)));
      for (const [label, url, headers] of slow) {
        captured.length = 0;
        const res = await app2.inject({ method: 'GET', url, headers: headers ?? manager });
        check(res.statusCode === 200, `traced GET ${url}`);
        for (const q of captured.filter((c) => /ar_items|ar_postings/.test(c.query))) {
          const plan = await sql.unsafe(`explain (analyze, buffers) ${q.query}`, q.params as never[]);
          const text = plan.map((r) => (r as Record<string, string>)['QUERY PLAN']).join('\n');
          const ms = Number(/Execution Time: ([\d.]+)/.exec(text)?.[1] ?? 0);
          if (ms >= Math.min(50, Number(process.env.BENCH_EXPLAIN))) console.log(`\n--- ${label}: ${url}\n${q.query.replace(/\s+/g, ' ').slice(0, 300)}...\nparams ${JSON.stringify(q.params)}\n${text}`);
        }
      }
      await app2.close();
      await traced.end();

      // The aging's open amounts at D in three shapes (diagnosis for db/reports/ledger.ts; "all later" is the report's shape):
      // "prejoin" sums only the postings after D OF THE ITEMS OPEN AT D (the report's `later` sums every posting after D
      // of the tenant, then joins: at an old D that is most postings, hashed to disk); "probe" sums each open item's
      // postings after D through ar_postings_invoice. Timed at both days, checked against the definition's totals.
      const shapes = {
        // As db/reports/ledger.ts agingCells does it (grouped per currency here).
        'all later': (d: string) => sql<{ currency: string; count: number; open: number }[]>`
          with later as (
            select p.invoice_number, sum(p.amount_minor) as later_minor from ar_postings p
            where p.tenant_id = ${TENANT} and p.posted_on > ${d}::date group by 1
          )
          select i.currency::text as currency, count(*)::int as count, sum(i.open_amount_minor + coalesce(l.later_minor, 0))::float8 as open
          from ar_items i left join later l on l.invoice_number = i.invoice_number
          where i.tenant_id = ${TENANT} and i.issue_date <= ${d}::date and (i.settled_on is null or i.settled_on > ${d}::date)
          group by 1 order by 1`,
        prejoin: (d: string) => sql<{ currency: string; count: number; open: number }[]>`
          with open_items as (
            select i.invoice_number, i.currency, i.open_amount_minor from ar_items i
            where i.tenant_id = ${TENANT} and i.issue_date <= ${d}::date and (i.settled_on is null or i.settled_on > ${d}::date)
          ), later as (
            select p.invoice_number, sum(p.amount_minor) as later_minor from ar_postings p join open_items o using (invoice_number)
            where p.tenant_id = ${TENANT} and p.posted_on > ${d}::date group by 1
          )
          select o.currency::text as currency, count(*)::int as count, sum(o.open_amount_minor + coalesce(l.later_minor, 0))::float8 as open
          from open_items o left join later l using (invoice_number) group by 1 order by 1`,
        probe: (d: string) => sql<{ currency: string; count: number; open: number }[]>`
          select i.currency::text as currency, count(*)::int as count, sum(i.open_amount_minor + coalesce(l.later_minor, 0))::float8 as open
          from ar_items i
          left join lateral (select sum(p.amount_minor) as later_minor from ar_postings p
                             where p.tenant_id = i.tenant_id and p.invoice_number = i.invoice_number and p.posted_on > ${d}::date) l on true
          where i.tenant_id = ${TENANT} and i.issue_date <= ${d}::date and (i.settled_on is null or i.settled_on > ${d}::date)
          group by 1 order by 1`,
      };
      const shapeRows: (string | number)[][] = [['shape', 'as of', 'min ms', 'median ms', 'max ms']];
      for (const d of [AS_OF, OLD_AS_OF]) {
        const expected = JSON.stringify(await byDefinition(d));
        for (const [name, q] of Object.entries(shapes)) {
          check(JSON.stringify(await q(d)) === expected, `shape ${name} at ${d} gives the definition's totals`);
          shapeRows.push([name, d, ...(await timeRuns(() => q(d)))]);
        }
      }
      table('Other shapes of the open amounts at D (SQL alone, per currency)', shapeRows);

      // The CEI over 12 months: its items open at the 13 month ends, per day and currency, as db/reports/ledger.ts
      // openArAcross's now_open finds them (every item tested against every day) and with each item's month ends
      // generated from its issue and settled dates (only the days it is open at).
      const monthEnds = Array.from({ length: 13 }, (_, k) => new Date(Date.UTC(2025, 3 + k, 0)).toISOString().slice(0, 10)); // 2025-03-31 .. 2026-03-31
      const [first, last] = [monthEnds[0]!, monthEnds[12]!];
      const ceiShapes = {
        'every day tested': () => sql<{ day: string; currency: string; n: number; open: number; current: number }[]>`
          with days as (select unnest(${monthEnds}::date[]) as day),
          items as (select i.currency, i.issue_date, i.due_date, i.settled_on, i.open_amount_minor from ar_items i
                    where i.tenant_id = ${TENANT} and i.issue_date <= ${last}::date and (i.settled_on is null or i.settled_on > ${first}::date))
          select to_char(d.day, 'YYYY-MM-DD') as day, i.currency::text as currency, count(*)::int as n, sum(i.open_amount_minor)::float8 as open,
                 coalesce(sum(i.open_amount_minor) filter (where i.due_date >= d.day), 0)::float8 as current
          from days d join items i on i.issue_date <= d.day and (i.settled_on is null or i.settled_on > d.day)
          group by 1, 2 order by 1, 2`,
        'month ends generated': () => sql<{ day: string; currency: string; n: number; open: number; current: number }[]>`
          with items as (select i.currency, i.issue_date, i.due_date, i.settled_on, i.open_amount_minor from ar_items i
                         where i.tenant_id = ${TENANT} and i.issue_date <= ${last}::date and (i.settled_on is null or i.settled_on > ${first}::date)),
          item_days as (
            select i.*, (m + interval '1 month' - interval '1 day')::date as day from items i,
                   generate_series(greatest(date_trunc('month', i.issue_date), date_trunc('month', ${first}::date)),
                                   least(coalesce(date_trunc('month', i.settled_on - interval '1 month'), date_trunc('month', ${last}::date)),
                                         date_trunc('month', ${last}::date)),
                                   interval '1 month') m
          )
          select to_char(day, 'YYYY-MM-DD') as day, currency::text as currency, count(*)::int as n, sum(open_amount_minor)::float8 as open,
                 coalesce(sum(open_amount_minor) filter (where due_date >= day), 0)::float8 as current
          from item_days group by 1, 2 order by 1, 2`,
      };
      const ceiExpected = JSON.stringify(await ceiShapes['every day tested']());
      const ceiRows: (string | number)[][] = [['shape', 'min ms', 'median ms', 'max ms']];
      for (const [name, q] of Object.entries(ceiShapes)) {
        check(JSON.stringify(await q()) === ceiExpected, `CEI shape ${name} finds the same open items per month end`);
        ceiRows.push([name, ...(await timeRuns(q))]);
      }
      table('The items open at 13 month ends (2025-03-31 .. 2026-03-31), per day and currency (SQL alone)', ceiRows);
    }
  },
};
