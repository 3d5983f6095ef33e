import { rmSync } from 'node:fs';
import { freePort } from '../../dev/process';
import { startTryton, trytonInstalled, trytonTempDir } from '../../dev/tryton';
import { createTrytonErp } from '../../integrations/erp/tryton-erp';
import { TrytonRpc } from '../../integrations/erp/tryton-rpc';
import { check, onTeardown, table, timed, type Bench } from './harness';

/**
 * The Tryton adapter's change feed over a 10,000-invoice Tryton (BENCH_TRYTON_INVOICES changes the count): every
 * page from a null cursor to the end, at two page sizes, in invoices per second; beside it the floor, the same
 * paging through Tryton's JSON-RPC asking only for ids (what Tryton itself costs before the adapter reads amounts,
 * maturities, payment lines and customers); and one invoice's balance. The 10,000 invoices are posted in one
 * Python process through trytond's pool (dev/tryton/seed.py bulk): minutes the first time, then copied from
 * .tools/tryton-db/.
 */
const COUNT = Number(process.env.BENCH_TRYTON_INVOICES ?? 10_000);
const BALANCES = 100;

export const bench: Bench = {
  timeoutMs: 45 * 60_000,
  async run() {
    check(trytonInstalled(), 'Tryton is not installed: run WITH_TRYTON=1 scripts/setup');
    const today = new Date().toISOString().slice(0, 10);
    const dir = trytonTempDir('bench');
    onTeardown(async () => rmSync(dir, { recursive: true, force: true }));
    const [server, startMs] = await timed(async () =>
      startTryton({ dir, port: await freePort(), today, seed: { bulk: { count: COUNT, startDate: `${today.slice(0, 4)}-01-01` } } }),
    );
    onTeardown(() => server.stop());
    const options = { url: server.url, database: server.database, user: server.user, password: server.password };
    const erp = createTrytonErp(options);

    const rows: (string | number)[][] = [['', 'pages', 'invoices', 'seconds', 'invoices/s']];
    rows.push([`Tryton created and seeded (or copied), started`, '', COUNT, startMs / 1000, '']);

    // The floor: Tryton's own search_read paging by id, ids only.
    const rpc = new TrytonRpc(options);
    const [company] = (await rpc.call('model.company.company.search_read', [[], 0, 1, null, [], {}])) as { id: number }[];
    const context = { company: company!.id };
    const [floor, floorMs] = await timed(async () => {
      let last = 0;
      let seen = 0;
      let pages = 0;
      for (;;) {
        const page = (await rpc.call('model.account.invoice.search_read', [[['type', '=', 'out'], ['id', '>', last]], 0, 500, [['id', 'ASC']], [], context])) as { id: number }[];
        pages++;
        seen += page.length;
        if (page.length < 500) return { seen, pages };
        last = page[page.length - 1]!.id;
      }
    });
    check(floor.seen === COUNT, `the floor saw ${floor.seen} invoices, not ${COUNT}`);
    rows.push(['floor: search_read of ids, 500 a page', floor.pages, floor.seen, floorMs / 1000, (floor.seen / floorMs) * 1000]);

    for (const limit of [100, 500]) {
      const [result, ms] = await timed(async () => {
        let cursor: string | null = null;
        const numbers = new Set<string>();
        let pages = 0;
        let customers = 0;
        for (;;) {
          const page = await erp.listChanges({ cursor, limit });
          pages++;
          customers += page.customers.length;
          for (const r of page.receivables) numbers.add(r.invoiceNumber);
          cursor = page.nextCursor;
          if (!page.hasMore) return { pages, seen: numbers.size, customers };
        }
      });
      check(result.seen === COUNT, `listChanges(limit ${limit}) gave ${result.seen} distinct invoices, not ${COUNT}`);
      check(result.customers > 0, 'listChanges gave no customers');
      rows.push([`listChanges, ${limit} a page (receivables + customers)`, result.pages, result.seen, ms / 1000, (result.seen / ms) * 1000]);
    }

    const [, balanceMs] = await timed(async () => {
      for (let i = 0; i < BALANCES; i++) {
        const balance = await erp.getInvoiceBalance(`B${String((i * 97) % COUNT).padStart(7, '0')}`);
        check(balance.status === 'open' && balance.openAmountMinor > 0, `invoice ${balance.invoiceNumber} is ${balance.status}`);
      }
    });
    rows.push([`getInvoiceBalance, one after another`, '', BALANCES, balanceMs / 1000, (BALANCES / balanceMs) * 1000]);

    table(`tryton-sync: the Tryton adapter over ${COUNT.toLocaleString('en-US')} posted customer invoices (trytond 8.2, SQLite, one server process)`, rows);
    console.log('  the ERP sync into dunning (workflows/erp-sync.ts) from Tryton: see the erp-sync bench with ERP_KIND=tryton, when it has one');
  },
};
