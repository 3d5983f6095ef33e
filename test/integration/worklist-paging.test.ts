import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The worklist and the invoice list page in SQL (issue 11): the worklist on a stored priority (migration 010)
 * kept current when its inputs change, both with keyset cursors, totals by aggregate. Every page is checked
 * against the scores the API shows (computed per task at request time, as before): a stale stored score
 * would put a task out of order.
 */
const tenantId = `paging-${randomUUID().slice(0, 8)}`;
const ZONES = ['Europe/Berlin', 'America/Los_Angeles', 'Asia/Tokyo', 'UTC'];
const CUSTOMERS = 8;
const INVOICES = 24;
let t: TestApp;
let lead: { authorization: string };
let collector: { authorization: string };

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  t = await startTestApp(tenantId);
  lead = (await userWithToken(t.sql, tenantId, { userId: 'paging-lead', role: 'team_lead' })).headers;
  collector = (await userWithToken(t.sql, tenantId, { userId: 'paging-c1', role: 'collector' })).headers;
  await userWithToken(t.sql, tenantId, { userId: 'paging-c2', role: 'collector' });
  for (let c = 0; c < CUSTOMERS; c++)
    await t.sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale, segment, collector_id)
      values (${tenantId}, ${`CUST-P${c}`}, ${`Customer ${c}`}, ${`ap${c}@p.example`}, ${ZONES[c % ZONES.length]!}, 'en-US', 'standard', ${c % 2 ? 'paging-c2' : 'paging-c1'})`;
  for (let i = 0; i < INVOICES; i++) {
    const amount = 10_000 + ((i * 7919) % 900_000);
    await t.sql`insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date, workflow_id, cadence_id, cadence_version, stage)
      values (${tenantId}, ${`INV-P${String(i).padStart(3, '0')}`}, ${`CUST-P${i % CUSTOMERS}`}, ${i % 3 ? 'EUR' : 'USD'}, ${amount}, ${amount},
              ${day(-((i * 13) % 120) - 40)}, ${day(-((i * 13) % 120))}, ${`wf-${tenantId}-${i}`}, 'standard', 1, ${i === 5 ? 'disputed' : 'active'})`;
    // Two open tasks per invoice, some with the same due time (ties by id), one done.
    for (let k = 0; k < 2; k++)
      await t.sql`insert into call_tasks (tenant_id, invoice_number, customer_id, collector_id, due_at, note, kind)
        values (${tenantId}, ${`INV-P${String(i).padStart(3, '0')}`}, ${`CUST-P${i % CUSTOMERS}`}, ${(i % CUSTOMERS) % 2 ? 'paging-c2' : 'paging-c1'},
                ${new Date(Date.now() + (((i + k) % 5) - 2) * 86_400_000).toISOString()}, 'call', 'cadence')`;
    await t.sql`insert into call_tasks (tenant_id, invoice_number, customer_id, collector_id, due_at, note, kind, status)
      values (${tenantId}, ${`INV-P${String(i).padStart(3, '0')}`}, ${`CUST-P${i % CUSTOMERS}`}, ${(i % CUSTOMERS) % 2 ? 'paging-c2' : 'paging-c1'}, now() - interval '9 days', 'called', 'cadence', 'done')`;
  }
});
afterAll(async () => {
  await t?.close();
});

async function get(url: string, headers = lead) {
  const res = await t.app.inject({ method: 'GET', url, headers });
  return { status: res.statusCode, body: res.json() as any };
}

interface Item {
  taskId: number;
  dueAt: string;
  priority: { score: number };
  invoice: { number: string; openAmountReportingMinor: number; bucket: string };
}

/** Every page through the cursor. */
async function allPages(base: string, limit: number, headers = lead): Promise<{ items: Item[]; pages: number; totals: { total: number; amount: number }[] }> {
  const items: Item[] = [];
  const totals: { total: number; amount: number }[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = base.includes('?') ? '&' : '?';
    const res = await get(`${base}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, headers);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    items.push(...(res.body.items as Item[]));
    totals.push({ total: res.body.total, amount: res.body.totalOpenAmountReportingMinor });
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  return { items, pages, totals };
}

/** The worklist's order, on the scores shown (computed as of the request). */
function expectInOrder(items: Item[]) {
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [items[i - 1]!, items[i]!];
    const ordered = a.priority.score > b.priority.score || (a.priority.score === b.priority.score && (Date.parse(a.dueAt) < Date.parse(b.dueAt) || (a.dueAt === b.dueAt && a.taskId < b.taskId)));
    expect(ordered, `task ${b.taskId} (${b.priority.score}, ${b.dueAt}) after ${a.taskId} (${a.priority.score}, ${a.dueAt})`).toBe(true);
  }
}

function expectTotals(items: Item[], totals: { total: number; amount: number }) {
  expect(totals.total).toBe(items.length);
  const perInvoice = new Map(items.map((i) => [i.invoice.number, i.invoice.openAmountReportingMinor]));
  expect(totals.amount).toBe([...perInvoice.values()].reduce((s, v) => s + v, 0));
}

describe('GET /worklist pages in SQL', () => {
  it('walks every open task once, in priority order, by cursor; the same as one page and as offsets', async () => {
    const one = await get('/worklist?limit=500');
    expect(one.body.items).toHaveLength(INVOICES * 2);
    expect(one.body.nextCursor).toBeNull();
    expectInOrder(one.body.items);
    expectTotals(one.body.items, { total: one.body.total, amount: one.body.totalOpenAmountReportingMinor });

    const paged = await allPages('/worklist', 7);
    expect(paged.pages).toBe(Math.ceil((INVOICES * 2) / 7));
    expect(paged.items.map((i) => i.taskId)).toEqual(one.body.items.map((i: Item) => i.taskId));
    for (const totals of paged.totals) expect(totals).toEqual({ total: one.body.total, amount: one.body.totalOpenAmountReportingMinor });

    const offset = await get('/worklist?limit=7&offset=14');
    expect(offset.body.items.map((i: Item) => i.taskId)).toEqual(one.body.items.slice(14, 21).map((i: Item) => i.taskId));
  });

  it('pages a collector’s own tasks, a bucket and a due window the same way', async () => {
    for (const [url, headers] of [
      ['/worklist', collector],
      ['/worklist?bucket=31-60', lead],
      ['/worklist?bucket=current', lead],
      [`/worklist?dueBefore=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`, lead],
      ['/worklist?customerId=CUST-P2', lead],
    ] as const) {
      const one = await get(`${url}${url.includes('?') ? '&' : '?'}limit=500`, headers);
      expect(one.status, JSON.stringify(one.body)).toBe(200);
      expectInOrder(one.body.items);
      expectTotals(one.body.items, { total: one.body.total, amount: one.body.totalOpenAmountReportingMinor });
      const paged = await allPages(url, 3, headers);
      expect(paged.items.map((i) => i.taskId), url).toEqual(one.body.items.map((i: Item) => i.taskId));
    }
    const bucket = await get('/worklist?bucket=31-60&limit=500');
    expect(bucket.body.items.length).toBeGreaterThan(0);
    expect(new Set(bucket.body.items.map((i: Item) => i.invoice.bucket))).toEqual(new Set(['31-60']));
    const mine = await get('/worklist?limit=500', collector);
    expect(mine.body.total).toBe((INVOICES / 2) * 2);
  });

  it('keeps the stored priority current when an input changes', async () => {
    const scoreOf = async (taskId: number) => {
      const list = await get('/worklist?limit=500');
      expectInOrder(list.body.items);
      const stored = await t.sql<{ priority_score: number }[]>`select priority_score from call_tasks where id = ${taskId}`;
      const shown = (list.body.items as Item[]).find((i) => i.taskId === taskId)!;
      expect(stored[0]!.priority_score, 'stored = shown').toBe(shown.priority.score);
      return { shown: shown.priority.score, position: (list.body.items as Item[]).indexOf(shown) };
    };
    const list = await get('/worklist?limit=500');
    const last = (list.body.items as Item[]).at(-1)!;
    const [task] = await t.sql<{ id: number; invoice_number: string; customer_id: string }[]>`select id, invoice_number, customer_id from call_tasks where id = ${last.taskId}`;
    let before = await scoreOf(task!.id);

    // A bigger open amount (the invoice mirror), a broken promise, a segment, the task's due date, a reached call.
    const changes = [
      () => t.sql`update invoices set open_amount_minor = 900000000, amount_minor = 900000000, stage = 'active' where tenant_id = ${tenantId} and invoice_number = ${task!.invoice_number}`,
      () => t.sql`insert into promises (tenant_id, promise_id, invoice_number, customer_id, amount_minor, currency, promised_date, made_by, recorded_by, status, evaluated_at)
                  values (${tenantId}, 'PTP-1', ${task!.invoice_number}, ${task!.customer_id}, 100, 'EUR', ${day(-5)}, 'AP', 'paging-c1', 'broken', now())`,
      () => t.sql`update customers set segment = 'high_risk' where tenant_id = ${tenantId} and customer_id = ${task!.customer_id}`,
      () => t.sql`update call_tasks set due_at = now() - interval '20 days' where id = ${task!.id}`,
    ];
    for (const change of changes) {
      await change();
      const after = await scoreOf(task!.id);
      expect(after.shown).toBeGreaterThan(before.shown);
      before = after;
    }
    await t.sql`insert into customer_activities (event_key, tenant_id, customer_id, actor, kind, outcome, reached, note)
                values (${`reach-${tenantId}`}, ${tenantId}, ${task!.customer_id}, 'paging-c1', 'call_outcome', 'reached', true, '')`;
    const reached = await scoreOf(task!.id);
    expect(reached.shown).toBeLessThan(before.shown);
    // Disputed: it drops to a tenth.
    await t.sql`update invoices set stage = 'disputed' where tenant_id = ${tenantId} and invoice_number = ${task!.invoice_number}`;
    expect((await scoreOf(task!.id)).shown).toBeLessThan(reached.shown / 5);
    expect(await t.sql`select 1 from worklist_priority_dirty where tenant_id = ${tenantId}`).toHaveLength(0);
  });

  it('scores again a task whose day is over (its stored window ended)', async () => {
    const [task] = await t.sql<{ id: number }[]>`select id from call_tasks where tenant_id = ${tenantId} and status = 'open' order by id limit 1`;
    // As a stored score would be after midnight in the customer's zone: wrong now, and its window over.
    await t.sql`update call_tasks set priority_score = 1000, priority_until = now() - interval '1 second' where id = ${task!.id}`;
    const list = await get('/worklist?limit=500');
    expectInOrder(list.body.items);
    const [stored] = await t.sql<{ priority_score: number; priority_until: Date }[]>`select priority_score, priority_until from call_tasks where id = ${task!.id}`;
    expect(stored!.priority_score).toBe((list.body.items as Item[]).find((i) => i.taskId === task!.id)!.priority.score);
    expect(stored!.priority_until.getTime()).toBeGreaterThan(Date.now());
  });

  it('answers a new task at once, and refuses a cursor it did not give', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/tasks', headers: lead, payload: { invoiceNumber: 'INV-P001', dueAt: new Date(Date.now() - 30 * 86_400_000).toISOString(), note: 'by hand' } });
    expect(created.statusCode, created.body).toBe(201);
    const list = await get('/worklist?limit=500');
    expectInOrder(list.body.items);
    expect((list.body.items as Item[]).some((i) => i.taskId === created.json().taskId)).toBe(true);
    for (const cursor of ['nope', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["x","2026-01-01 00:00:00+00",1]').toString('base64url')]) {
      const res = await get(`/worklist?cursor=${cursor}`);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toBe('validation_failed');
    }
    expect((await get('/worklist?status=done&limit=500')).body).toMatchObject({ total: INVOICES, nextCursor: null });
  });
});

describe('GET /invoices pages in SQL', () => {
  it('walks every invoice once by cursor, earliest due first, with the total by aggregate', async () => {
    const one = await get('/invoices?limit=500');
    expect(one.body.total).toBe(INVOICES);
    expect(one.body.nextCursor).toBeNull();
    const keys = (one.body.items as { dueDate: string; number: string }[]).map((i) => `${i.dueDate} ${i.number}`);
    expect(keys).toEqual([...keys].sort());
    const numbers: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/invoices?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.total).toBe(INVOICES);
      numbers.push(...res.body.items.map((i: { number: string }) => i.number));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(numbers).toEqual(one.body.items.map((i: { number: string }) => i.number));
    const mine = await get('/invoices?limit=500', collector);
    expect(mine.body.total).toBe(INVOICES / 2);
    const minePaged = await get('/invoices?limit=5', collector);
    expect(minePaged.body.items.map((i: { number: string }) => i.number)).toEqual(mine.body.items.slice(0, 5).map((i: { number: string }) => i.number));
    expect((await get('/invoices?cursor=nope')).status).toBe(400);
  });

  it('follows a customer to its new collector (invoices.collector_id, migration 012); the held total counts it after a write through the API', async () => {
    const numbersOf = async (headers: { authorization: string }) => ((await get('/invoices?limit=500', headers)).body.items as { number: string }[]).map((i) => i.number);
    const before = await get('/invoices?limit=500', collector);
    expect(before.body.total).toBe(INVOICES / 2);
    const moved = (await t.sql<{ invoice_number: string }[]>`select invoice_number from invoices where tenant_id = ${tenantId} and customer_id = 'CUST-P1' order by 1`).map((r) => r.invoice_number);
    expect(moved.length).toBeGreaterThan(0);
    // CUST-P1 belongs to paging-c2; moved to paging-c1 behind the API's back (as another process would).
    await t.sql`update customers set collector_id = 'paging-c1' where tenant_id = ${tenantId} and customer_id = 'CUST-P1'`;
    const items = await numbersOf(collector);
    expect(items).toEqual(expect.arrayContaining(moved));
    expect(items).toHaveLength(INVOICES / 2 + moved.length);
    // The total is held (at most 5 s): still the count before the move…
    expect((await get('/invoices?limit=500', collector)).body.total).toBe(INVOICES / 2);
    // …until a write through the API, which clears every held total before it answers.
    const note = await t.app.inject({ method: 'POST', url: '/customers/CUST-P1/notes', headers: lead, payload: { note: 'moved to paging-c1' } });
    expect(note.statusCode, note.body).toBe(201);
    expect((await get('/invoices?limit=500', collector)).body.total).toBe(INVOICES / 2 + moved.length);
    // A new invoice of the customer takes its collector.
    await t.sql`insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date, workflow_id, cadence_id, cadence_version)
      values (${tenantId}, 'INV-P-NEW', 'CUST-P1', 'EUR', 100, 100, ${day(-10)}, ${day(-1)}, ${`wf-${tenantId}-new`}, 'standard', 1)`;
    expect(await numbersOf(collector)).toContain('INV-P-NEW');
    await t.sql`update customers set collector_id = 'paging-c2' where tenant_id = ${tenantId} and customer_id = 'CUST-P1'`;
    expect(await numbersOf(collector)).not.toContain('INV-P-NEW');
    await t.sql`delete from invoices where tenant_id = ${tenantId} and invoice_number = 'INV-P-NEW'`;
  });
});
