import {
  ErpCapabilityError,
  ErpInvoiceNotFoundError,
  ErpRequestRejectedError,
  type ErpAdapter,
  type ErpInvoiceBalance,
} from './adapter';
import type { ErpAppliedPayment, ErpChangePage, ErpCustomer, ErpReceivable, ErpUnappliedPayment } from './changes';
import { date, datetime, decimal, decimalToMinor, minorToDecimalString, TrytonDecimal, TrytonRpc, type TrytonRpcOptions } from './tryton-rpc';

/**
 * A real Tryton (trytond 8.x with account_invoice) as the ERP, over its JSON-RPC. What maps to what:
 *
 * - receivable: a customer invoice (account.invoice, type 'out', total ≥ 0) once posted; its `number` is the
 *   invoice number, the party's `code` the customer id. Credit notes (negative totals) are not receivables.
 * - status: posted → open; paid → paid, or credited when a credit note settled it, or written_off when the
 *   bad-debt method did; cancelled → cancelled, or credited when a credit note cancelled it (Tryton's "credit with
 *   refund"). Open amount: Tryton's amount_to_pay. Due date: the earliest maturity of the unpaid lines to pay.
 * - customer: party.party: name, the first e-mail contact mechanism (its name as the contact), the first address's
 *   country and subdivision, the first category, the language as locale. Tryton has no time zone and no account
 *   manager on a party: null (the sync's mapping fills them).
 * - unapplied payment: a posted credit on a receivable account with a party, not reconciled, on no invoice and
 *   not an invoice's own line: money received that nobody matched. Its id is `tryton-line-<move line id>`.
 * - payments, write-offs: Tryton's pay wizard (account.invoice.pay) with the "Bank receipt" or the "Bad debt
 *   write-off" payment method (dev/tryton/seed.py creates both); an unapplied payment is applied by a transfer
 *   entry on the receivable account whose lines go on the invoices.
 * - credit memo: a credit note (a customer invoice of negative amount) posted and set against the invoice; rebill:
 *   a new customer invoice numbered by Tryton's sequence (the number is read-only over RPC), described
 *   `Rebill of <original>` with the original's number as its reference (rebillOf).
 * - credit hold: Tryton has none; capabilities.creditHold is false and the calls throw ErpCapabilityError.
 *
 * Tryton has no idempotency header: every write carries its key (a move's description, an invoice's comment) and
 * is looked up by it before it is made again, so a retry answers with the first result.
 */

export interface TrytonErpOptions extends TrytonRpcOptions {
  /** Payment method names (account.invoice.payment.method) for receipts and write-offs. */
  receiptMethod?: string;
  writeOffMethod?: string;
}

type Status = ErpReceivable['status'];

interface InvoiceRow {
  id: number;
  number: string | null;
  state: string;
  total_amount: TrytonDecimal;
  amount_to_pay: TrytonDecimal;
  invoice_date: string | null;
  write_date: string | null;
  create_date: string;
  reference: string | null;
  description: string | null;
  reconciled: string | null;
  party: number;
  account: number;
  journal: number | null;
  payment_term: number | null;
  invoice_address: number;
  'party.': { code: string | null };
  'currency.': { code: string; digits: number };
  'cancel_move.': { origin: string | null; date: string } | null;
  'lines_to_pay.': { id: number; maturity_date: string | null; reconciliation: number | null }[];
  'payment_lines.': { id: number; date: string; reconciliation: number | null; 'move.': { origin: string | null; 'journal.': { code: string | null } } }[];
  'lines.': { account: number }[];
}

const INVOICE_FIELDS = [
  'number',
  'state',
  'total_amount',
  'amount_to_pay',
  'invoice_date',
  'write_date',
  'create_date',
  'reference',
  'description',
  'reconciled',
  'party',
  'account',
  'journal',
  'payment_term',
  'invoice_address',
  'party.code',
  'currency.code',
  'currency.digits',
  'cancel_move.origin',
  'cancel_move.date',
  'lines_to_pay.maturity_date',
  'lines_to_pay.reconciliation',
  'payment_lines.date',
  'payment_lines.reconciliation',
  'payment_lines.move.origin',
  'payment_lines.move.journal.code',
  'lines.account',
];

interface Cursor {
  /** write_date of the last receivable given (ISO, Tryton's microseconds), null before the first. */
  w: string | null;
  /** Its id: ties on write_date are broken by id. */
  i: number;
  /** The highest receivable move line id looked at for unapplied payments. */
  u: number;
}

const START: Cursor = { w: null, i: 0, u: 0 };

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.w, c.i, c.u])).toString('base64url');
}

function decodeCursor(text: string | null): Cursor {
  if (text === null) return START;
  try {
    const [w, i, u] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if ((w === null || typeof w === 'string') && Number.isSafeInteger(i) && Number.isSafeInteger(u)) return { w, i: i as number, u: u as number };
  } catch {
    // refused below
  }
  throw new ErpRequestRejectedError(`not a Tryton change cursor: ${text.slice(0, 80)}`, 400, 'invalid_cursor');
}

const UNAPPLIED_PAGE = 100;
/** A rebill's description starts so; its reference is the original's number. */
const REBILL_PREFIX = 'Rebill of ';
const PAYMENT_PREFIX = 'tryton-line-';

export function createTrytonErp(options: TrytonErpOptions): ErpAdapter {
  const rpc = new TrytonRpc(options);
  const receiptMethodName = options.receiptMethod ?? 'Bank receipt';
  const writeOffMethodName = options.writeOffMethod ?? 'Bad debt write-off';

  let companyPromise: Promise<{ id: number; currency: string; digits: number; context: Record<string, unknown> }> | undefined;
  function company() {
    companyPromise ??= (async () => {
      const rows = (await rpc.call('model.company.company.search_read', [[], 0, 1, [['id', 'ASC']], ['currency.code', 'currency.digits'], {}])) as {
        id: number;
        'currency.': { code: string; digits: number };
      }[];
      const row = rows[0];
      if (!row) throw new Error('Tryton has no company: seed it (dev/tryton/seed.py base)');
      return { id: row.id, currency: row['currency.'].code, digits: row['currency.'].digits, context: { company: row.id, companies: [row.id] } };
    })();
    companyPromise.catch(() => (companyPromise = undefined));
    return companyPromise;
  }

  async function model(name: string, method: string, ...params: unknown[]): Promise<unknown> {
    const { context } = await company();
    return rpc.call(`model.${name}.${method}`, [...params, context]);
  }

  async function searchRead<T>(name: string, domain: unknown[], fields: string[], opts: { limit?: number; order?: [string, string][] } = {}): Promise<T[]> {
    return (await model(name, 'search_read', domain, 0, opts.limit ?? null, opts.order ?? null, fields)) as T[];
  }

  /** Runs a wizard to its end: `steps` are [state to execute, data of every state so far]; the views it shows are answered by the data. */
  async function wizard(name: string, activeModel: string, activeIds: number[], steps: { state: string; data: Record<string, unknown> }[]) {
    const { context } = await company();
    const ctx = { ...context, active_model: activeModel, active_id: activeIds[0], active_ids: activeIds };
    const [sessionId] = (await rpc.call(`wizard.${name}.create`, [ctx])) as [number, string, string];
    const answers: unknown[] = [];
    try {
      for (const step of steps) {
        const answer = (await rpc.callConfirming(`wizard.${name}.execute`, [sessionId, step.data, step.state, ctx], context)) as { view?: { state: string; defaults: Record<string, unknown> } };
        answers.push(answer);
        // A transition that ends the wizard answers no view: the steps after it are not needed.
        if (!answer.view && step !== steps[0]) break;
      }
    } finally {
      await rpc.call(`wizard.${name}.delete`, [sessionId, ctx]).catch(() => undefined);
    }
    return answers as ({ view?: { state: string; defaults: Record<string, unknown> } } | undefined)[];
  }

  async function invoiceByNumber(invoiceNumber: string): Promise<InvoiceRow> {
    const rows = await searchRead<InvoiceRow>(
      'account.invoice',
      [
        ['type', '=', 'out'],
        ['number', '=', invoiceNumber],
        ['state', 'in', ['posted', 'paid', 'cancelled']],
      ],
      INVOICE_FIELDS,
    );
    const row = rows.find((r) => !isCreditNote(r));
    if (!row) throw new ErpInvoiceNotFoundError(`Invoice ${invoiceNumber} does not exist in Tryton (no posted customer invoice has that number)`);
    return row;
  }

  async function invoiceById(id: number): Promise<InvoiceRow> {
    const [row] = (await model('account.invoice', 'read', [id], INVOICE_FIELDS)) as InvoiceRow[];
    if (!row) throw new ErpInvoiceNotFoundError(`Tryton invoice ${id} is gone`);
    return row;
  }

  function toReceivable(row: InvoiceRow): ErpReceivable {
    const digits = row['currency.'].digits;
    const status = statusOf(row);
    const unpaid = row['lines_to_pay.'].filter((l) => l.reconciliation === null && l.maturity_date);
    const maturities = (unpaid.length ? unpaid : row['lines_to_pay.']).map((l) => l.maturity_date).filter((d): d is string => !!d).sort();
    const issueDate = row.invoice_date ?? row.create_date.slice(0, 10);
    const rebillMatch = row.reference && row.description?.startsWith(REBILL_PREFIX) ? row.reference : null;
    return {
      invoiceNumber: row.number!,
      customerId: customerIdOf(row.party, row['party.'].code),
      currency: row['currency.'].code,
      amountMinor: decimalToMinor(row.total_amount, digits),
      openAmountMinor: status === 'open' ? Math.max(0, decimalToMinor(row.amount_to_pay, digits)) : 0,
      status,
      issueDate,
      dueDate: maturities[0] ?? issueDate,
      settledDate: status === 'open' ? null : settledDateOf(row),
      rebillOf: rebillMatch,
      erpId: String(row.id),
      changedAt: row.write_date ?? row.create_date,
    };
  }

  function toBalance(row: InvoiceRow): ErpInvoiceBalance {
    const r = toReceivable(row);
    return { invoiceNumber: r.invoiceNumber, customerId: r.customerId, currency: r.currency, amountMinor: r.amountMinor, openAmountMinor: r.openAmountMinor, status: r.status, asOf: new Date().toISOString() };
  }

  async function customersOf(partyIds: number[]): Promise<ErpCustomer[]> {
    if (!partyIds.length) return [];
    const rows = (await model('party.party', 'read', partyIds, [
      'code',
      'name',
      'lang.code',
      'categories.name',
      'contact_mechanisms.type',
      'contact_mechanisms.value',
      'contact_mechanisms.name',
      'contact_mechanisms.invoice',
      'addresses.country.code',
      'addresses.subdivision.code',
    ])) as {
      id: number;
      code: string | null;
      name: string;
      'lang.': { code: string } | null;
      'categories.': { name: string }[];
      'contact_mechanisms.': { type: string; value: string; name: string | null; invoice?: boolean }[];
      'addresses.': { 'country.': { code: string } | null; 'subdivision.': { code: string } | null }[];
    }[];
    return rows.map((p) => {
      const emails = p['contact_mechanisms.'].filter((m) => m.type === 'email');
      const email = emails.find((m) => m.invoice) ?? emails[0];
      const address = p['addresses.'].find((a) => a['country.']) ?? p['addresses.'][0];
      const country = address?.['country.']?.code ?? null;
      const subdivision = address?.['subdivision.']?.code ?? null;
      return {
        customerId: customerIdOf(p.id, p.code),
        name: p.name,
        email: email?.value ?? null,
        contactName: email?.name ?? null,
        country: country && /^[A-Z]{2}$/.test(country) ? country : null,
        region: subdivision ? subdivision.replace(/^[A-Z]{2}-/, '') : null,
        timeZone: null,
        locale: p['lang.'] ? p['lang.'].code.replace('_', '-') : null,
        category: p['categories.'][0]?.name ?? null,
        accountManager: null,
      };
    });
  }

  async function unappliedAfter(lineId: number): Promise<{ payments: ErpUnappliedPayment[]; lastSeen: number; more: boolean }> {
    const { currency, digits } = await company();
    const rows = await searchRead<{
      id: number;
      credit: TrytonDecimal;
      description: string | null;
      create_date: string;
      'party.': { code: string | null; name: string; id: number } | null;
      'move.': { origin: string | null; description: string | null; date: string };
    }>(
      'account.move.line',
      [
        ['id', '>', lineId],
        ['account.type.receivable', '=', true],
        ['move.state', '=', 'posted'],
        ['credit', '>', 0],
        ['reconciliation', '=', null],
        ['invoice_payment', '=', null],
        ['party', '!=', null],
      ],
      ['credit', 'description', 'create_date', 'reconciliation', 'invoice_payment', 'party.code', 'party.name', 'move.origin', 'move.description', 'move.date'],
      { limit: UNAPPLIED_PAGE, order: [['id', 'ASC']] },
    );
    const payments = rows
      .filter((l) => {
        const r = l as unknown as { reconciliation: number | null; invoice_payment: number | null };
        return r.reconciliation === null && r.invoice_payment === null && l['party.'] !== null && decimalToMinor(l.credit, digits) > 0 && !l['move.'].origin?.startsWith('account.invoice,');
      })
      .map((l) => ({
        paymentId: `${PAYMENT_PREFIX}${l.id}`,
        customerId: customerIdOf(l['party.']!.id, l['party.']!.code),
        payerName: l['party.']!.name,
        amountMinor: decimalToMinor(l.credit, digits),
        currency,
        receivedAt: `${l['move.'].date}T00:00:00.000Z`,
        remittance: l.description ?? l['move.'].description ?? '',
      }));
    return { payments, lastSeen: rows.length ? rows[rows.length - 1]!.id : lineId, more: rows.length === UNAPPLIED_PAGE };
  }

  async function paymentMethod(name: string): Promise<{ id: number; journal: number }> {
    const rows = await searchRead<{ id: number; journal: number }>('account.invoice.payment.method', [['name', '=', name]], ['journal'], { limit: 1 });
    if (!rows[0]) throw new Error(`Tryton has no payment method named "${name}" (dev/tryton/seed.py base creates it)`);
    return rows[0];
  }

  async function moveByDescription(description: string): Promise<{ id: number; number: string | null } | undefined> {
    const rows = await searchRead<{ id: number; number: string | null }>('account.move', [['description', '=', description]], ['number'], { limit: 1 });
    return rows[0];
  }

  /** The pay wizard: `amountMinor` by `method` on the invoice, partial when below its open amount. */
  async function payWithWizard(row: InvoiceRow, amountMinor: number, methodName: string, day: string, description: string) {
    const { id: companyId } = await company();
    const method = await paymentMethod(methodName);
    const digits = row['currency.'].digits;
    const open = decimalToMinor(row.amount_to_pay, digits);
    const currencyId = await currencyIdOf(row['currency.'].code);
    const start = {
      payee: row.party,
      payees: [row.party],
      amount: decimal(minorToDecimalString(amountMinor, digits)),
      currency: currencyId,
      description,
      company: companyId,
      invoice_account: row.account,
      payment_method: method.id,
      date: date(day),
    };
    const steps: { state: string; data: Record<string, unknown> }[] = [
      { state: 'start', data: {} },
      { state: 'choice', data: { start } },
    ];
    if (amountMinor < open) steps.push({ state: 'pay', data: { start, ask: { type: 'partial', lines: [], payment_lines: [], lines_to_pay: [], amount: start.amount, currency: currencyId, company: companyId, invoice: row.id } } });
    await wizard('account.invoice.pay', 'account.invoice', [row.id], steps);
    // A wizard that stopped at a form it was not expected to show has paid nothing: never a silent success.
    if (!(await moveByDescription(description))) throw new Error(`Tryton's pay wizard posted nothing for ${row.number} (${description})`);
  }

  const currencyIds = new Map<string, number>();
  async function currencyIdOf(code: string): Promise<number> {
    if (!currencyIds.has(code)) {
      const rows = await searchRead<{ id: number }>('currency.currency', [['code', '=', code]], [], { limit: 1 });
      if (!rows[0]) throw new Error(`Tryton has no currency ${code}`);
      currencyIds.set(code, rows[0].id);
    }
    return currencyIds.get(code)!;
  }

  /** Reconciles an invoice's open lines with its payment lines once they balance (Tryton then marks it paid). */
  async function reconcileIfSettled(invoiceId: number) {
    const row = await invoiceById(invoiceId);
    if (decimalToMinor(row.amount_to_pay, row['currency.'].digits) !== 0 || row.state !== 'posted') return;
    const lines = [...row['lines_to_pay.'], ...row['payment_lines.']].filter((l) => l.reconciliation === null).map((l) => l.id);
    if (lines.length) await wizard('account.move.reconcile_lines', 'account.move.line', lines, [{ state: 'start', data: {} }]);
  }

  /** Refuses an adjustment Tryton would take but the contract does not: not open, above the open amount, another currency. */
  function checkAdjustment(row: InvoiceRow, amountMinor: number, currency: string, what: string) {
    const r = toReceivable(row);
    if (currency !== r.currency) throw new ErpRequestRejectedError(`${what} in ${currency} refused: invoice ${r.invoiceNumber} is in ${r.currency}`, 422, 'currency_mismatch');
    if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) throw new ErpRequestRejectedError(`${what} refused: the amount must be a positive integer of minor units`, 422, 'invalid_amount');
    if (r.status !== 'open') throw new ErpRequestRejectedError(`${what} refused: invoice ${r.invoiceNumber} is ${r.status}`, 422, 'invoice_not_open');
    if (amountMinor > r.openAmountMinor) {
      throw new ErpRequestRejectedError(`${what} of ${amountMinor} refused: invoice ${r.invoiceNumber} has ${r.openAmountMinor} open`, 422, 'amount_exceeds_open_amount');
    }
  }

  const today = () => new Date().toISOString().slice(0, 10);
  const keyTag = (key: string) => `[idempotency-key ${key}]`;

  /** The invoice a write with this key made; one left in draft (a crash between create and post) is posted now. */
  async function invoiceByKey(key: string): Promise<InvoiceRow | undefined> {
    const rows = await searchRead<InvoiceRow>('account.invoice', [['type', '=', 'out'], ['comment', '=', keyTag(key)]], INVOICE_FIELDS, { limit: 1 });
    const row = rows[0];
    if (!row || row.state === 'posted' || row.state === 'paid' || row.state === 'cancelled') return row;
    await postOrDelete(row.id);
    return invoiceById(row.id);
  }

  /** Posts a draft invoice; when Tryton refuses, deletes it, so that a refused request leaves nothing behind. */
  async function postOrDelete(id: number) {
    const { context } = await company();
    try {
      await rpc.callConfirming('model.account.invoice.post', [[id], context], context);
    } catch (err) {
      if (err instanceof ErpRequestRejectedError) await model('account.invoice', 'delete', [id]).catch(() => undefined);
      throw err;
    }
  }

  /** A customer invoice (negative amount: a credit note) for the same party and accounts as `like`, posted. */
  async function createInvoice(like: InvoiceRow, fields: { amountMinor: number; issueDate: string; dueDate: string; description: string; key: string }): Promise<InvoiceRow> {
    const digits = like['currency.'].digits;
    const revenue = like['lines.'][0]?.account;
    if (revenue === undefined) throw new ErpRequestRejectedError(`invoice ${like.number} has no lines to take the revenue account from`, 422);
    const { id: companyId } = await company();
    const [id] = (await model('account.invoice', 'create', [
      {
        type: 'out',
        company: companyId,
        party: like.party,
        invoice_address: like.invoice_address,
        account: like.account,
        journal: like.journal,
        payment_term: like.payment_term,
        currency: await currencyIdOf(like['currency.'].code),
        reference: like.number,
        description: fields.description.slice(0, 500),
        comment: keyTag(fields.key),
        invoice_date: date(fields.issueDate),
        payment_term_date: date(fields.dueDate),
        lines: [
          [
            'create',
            [
              {
                type: 'line',
                account: revenue,
                description: fields.description.slice(0, 500),
                quantity: fields.amountMinor < 0 ? -1 : 1,
                unit_price: decimal(minorToDecimalString(Math.abs(fields.amountMinor), digits)),
              },
            ],
          ],
        ],
      },
    ])) as number[];
    await postOrDelete(id!);
    return invoiceById(id!);
  }

  function capability(): never {
    throw new ErpCapabilityError('creditHold', 'tryton');
  }

  return {
    kind: 'tryton',
    capabilities: { creditHold: false, creditMemo: true, writeOff: true, rebill: true, applyPayment: true, changeFeed: true },

    async listChanges({ cursor, limit }): Promise<ErpChangePage> {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new ErpRequestRejectedError(`limit must be a positive integer, not ${limit}`, 400, 'invalid_limit');
      const from = decodeCursor(cursor);
      const domain: unknown[] = [
        ['type', '=', 'out'],
        ['state', 'in', ['posted', 'paid', 'cancelled']],
      ];
      if (from.w !== null) {
        domain.push(['OR', ['write_date', '>', datetime(from.w)], [['write_date', '=', datetime(from.w)], ['id', '>', from.i]]]);
      }
      const rows = await searchRead<InvoiceRow>('account.invoice', domain, INVOICE_FIELDS, {
        limit: limit + 1,
        order: [
          ['write_date', 'ASC'],
          ['id', 'ASC'],
        ],
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const receivables = page.filter((r) => !isCreditNote(r) && r.number).map(toReceivable);
      const customers = await customersOf([...new Set(page.filter((r) => !isCreditNote(r)).map((r) => r.party))]);
      const unapplied = await unappliedAfter(from.u);
      const next: Cursor = { w: last ? (last.write_date ?? last.create_date) : from.w, i: last ? last.id : from.i, u: unapplied.lastSeen };
      const unchanged = next.w === from.w && next.i === from.i && next.u === from.u;
      return {
        receivables,
        customers,
        unappliedPayments: unapplied.payments,
        nextCursor: unchanged && cursor !== null ? cursor : encodeCursor(next),
        hasMore: rows.length > limit || unapplied.more,
      };
    },

    async getInvoiceBalance(invoiceNumber) {
      return toBalance(await invoiceByNumber(invoiceNumber));
    },

    async applyPayment({ paymentId, currency, allocations, receivedAt, idempotencyKey }): Promise<ErpAppliedPayment> {
      if (!allocations.length) throw new ErpRequestRejectedError(`payment ${paymentId}: no allocations`, 422, 'invalid_allocations');
      const numbers = allocations.map((a) => a.invoiceNumber);
      if (new Set(numbers).size !== numbers.length) throw new ErpRequestRejectedError(`payment ${paymentId}: an invoice appears twice in the allocations`, 422, 'invalid_allocations');
      for (const a of allocations) {
        if (!Number.isSafeInteger(a.amountMinor) || a.amountMinor <= 0) throw new ErpRequestRejectedError(`payment ${paymentId}: the amount on ${a.invoiceNumber} must be a positive integer of minor units`, 422, 'invalid_amount');
      }
      const { currency: companyCurrency, digits } = await company();
      if (currency !== companyCurrency) throw new ErpRequestRejectedError(`payment ${paymentId} in ${currency} refused: the Tryton company keeps ${companyCurrency}`, 422, 'currency_mismatch');
      const existing = paymentId.startsWith(PAYMENT_PREFIX) ? Number(paymentId.slice(PAYMENT_PREFIX.length)) : undefined;
      const applied: ErpAppliedPayment['invoices'] = [];
      let unappliedMinor = 0;
      if (existing === undefined) {
        // A new receipt: one payment per invoice through the pay wizard, each tagged with the key and the invoice.
        const day = (receivedAt ?? new Date().toISOString()).slice(0, 10);
        const todo: { row: InvoiceRow; amountMinor: number; description: string }[] = [];
        for (const a of allocations) {
          const row = await invoiceByNumber(a.invoiceNumber);
          const description = `Payment ${paymentId} ${keyTag(`${idempotencyKey}/${a.invoiceNumber}`)}`;
          if (!(await moveByDescription(description))) {
            checkAdjustment(row, a.amountMinor, currency, `payment ${paymentId} on ${a.invoiceNumber}`);
            todo.push({ row, amountMinor: a.amountMinor, description });
          }
        }
        for (const t of todo) await payWithWizard(t.row, t.amountMinor, receiptMethodName, day, t.description);
      } else {
        unappliedMinor = await applyUnapplied(existing);
      }
      for (const a of allocations) {
        const row = await invoiceByNumber(a.invoiceNumber);
        const r = toReceivable(row);
        // The receivable line the allocation put on the invoice: Tryton's own record of this payment on it.
        const lineDomain =
          existing === undefined
            ? [['move.description', '=', `Payment ${paymentId} ${keyTag(`${idempotencyKey}/${a.invoiceNumber}`)}`]]
            : [['move.description', '=', `Apply ${paymentId} ${keyTag(idempotencyKey)}`], ['description', '=', a.invoiceNumber]];
        const [line] = await searchRead<{ id: number }>('account.move.line', [...lineDomain, ['account', '=', row.account], ['credit', '>', 0]], [], { limit: 1 });
        applied.push({ invoiceNumber: a.invoiceNumber, ...(line ? { paymentId: `${PAYMENT_PREFIX}${line.id}` } : {}), appliedMinor: a.amountMinor, openAmountMinor: r.openAmountMinor, status: r.status });
      }
      return { paymentId, invoices: applied, unappliedMinor };

      /** Moves an unapplied receipt's money onto the invoices by a transfer entry on the receivable account. */
      async function applyUnapplied(lineId: number): Promise<number> {
        const description = `Apply ${paymentId} ${keyTag(idempotencyKey)}`;
        const total = allocations.reduce((s, a) => s + a.amountMinor, 0);
        const [line] = (await model('account.move.line', 'read', [lineId], ['credit', 'party', 'account', 'reconciliation', 'invoice_payment', 'description', 'move.journal', 'move.origin', 'account.type.receivable'])) as {
          credit: TrytonDecimal;
          party: number | null;
          account: number;
          reconciliation: number | null;
          invoice_payment: number | null;
          description: string | null;
          'move.': { journal: number; origin: string | null };
        }[];
        if (!line || line.party === null) throw new ErpRequestRejectedError(`payment ${paymentId} is not an unapplied receipt in Tryton`, 404, 'payment_not_found');
        const credit = decimalToMinor(line.credit, digits);
        const { id: companyId, context } = await company();
        // The transfer is several Tryton transactions (create, post, reconcile, one write per invoice): a retry
        // with the same key finds the entry by its description and completes what a crash left undone.
        let moveId = (await moveByDescription(description))?.id;
        if (moveId === undefined) {
          if (line.reconciliation !== null || line.invoice_payment !== null) throw new ErpRequestRejectedError(`payment ${paymentId} is already applied in Tryton`, 422, 'payment_already_applied');
          if (total > credit) throw new ErpRequestRejectedError(`allocations of ${total} refused: payment ${paymentId} has ${credit}`, 422, 'amount_exceeds_payment');
          for (const a of allocations) {
            const row = await invoiceByNumber(a.invoiceNumber);
            checkAdjustment(row, a.amountMinor, currency, `payment ${paymentId} on ${a.invoiceNumber}`);
            if (row.party !== line.party) throw new ErpRequestRejectedError(`payment ${paymentId} is from another customer than invoice ${a.invoiceNumber}`, 422, 'customer_mismatch');
          }
          const amount = (minor: number) => decimal(minorToDecimalString(minor, digits));
          const day = today();
          const [period] = await searchRead<{ id: number }>('account.period', [['start_date', '<=', date(day)], ['end_date', '>=', date(day)], ['type', '=', 'standard']], [], { limit: 1 });
          if (!period) throw new ErpRequestRejectedError(`Tryton has no open period on ${day}`, 422, 'no_period');
          const moveLines: Record<string, unknown>[] = [
            { account: line.account, party: line.party, debit: amount(credit), credit: amount(0), description: `${paymentId} applied` },
            ...allocations.map((a) => ({ account: line.account, party: line.party, debit: amount(0), credit: amount(a.amountMinor), description: a.invoiceNumber })),
          ];
          if (credit > total) moveLines.push({ account: line.account, party: line.party, debit: amount(0), credit: amount(credit - total), description: line.description ?? `${paymentId} remainder` });
          [moveId] = (await model('account.move', 'create', [
            { journal: line['move.'].journal, period: period.id, date: date(day), company: companyId, description, lines: [['create', moveLines]] },
          ])) as number[];
        }
        const [move] = (await model('account.move', 'read', [moveId], ['state', 'lines.debit', 'lines.description', 'lines.reconciliation', 'lines.invoice_payment'])) as {
          state: string;
          'lines.': { id: number; debit: TrytonDecimal; description: string | null; reconciliation: number | null; invoice_payment: number | null }[];
        }[];
        if (move!.state !== 'posted') {
          try {
            await rpc.callConfirming('model.account.move.post', [[moveId], context], context);
          } catch (err) {
            // Refused: the draft goes, so that nothing is left half-applied under the key.
            if (err instanceof ErpRequestRejectedError) await model('account.move', 'delete', [moveId]).catch(() => undefined);
            throw err;
          }
        }
        const moveLineRows = move!['lines.'];
        const offset = moveLineRows.find((l) => decimalToMinor(l.debit, digits) > 0)!;
        if (offset.reconciliation === null) await wizard('account.move.reconcile_lines', 'account.move.line', [lineId, offset.id], [{ state: 'start', data: {} }]);
        for (const a of allocations) {
          const row = await invoiceByNumber(a.invoiceNumber);
          const payLine = moveLineRows.find((l) => l.description === a.invoiceNumber && decimalToMinor(l.debit, digits) === 0)!;
          if (payLine.invoice_payment === null) await model('account.invoice', 'write', [row.id], { payment_lines: [['add', [payLine.id]]] });
          await reconcileIfSettled(row.id);
        }
        return Math.max(0, credit - total);
      }
    },

    async requestCreditMemo({ invoiceNumber, amountMinor, currency, reason, idempotencyKey }) {
      const row = await invoiceByNumber(invoiceNumber);
      let credit = await invoiceByKey(idempotencyKey);
      if (!credit) {
        checkAdjustment(row, amountMinor, currency, `a credit memo on ${invoiceNumber}`);
        const day = today();
        credit = await createInvoice(row, { amountMinor: -amountMinor, issueDate: day, dueDate: day, description: `Credit note for ${invoiceNumber}: ${reason}`, key: idempotencyKey });
      }
      // Posting the credit note and setting it against the invoice are two Tryton transactions: a retry with the
      // key completes the second when a crash came between them.
      const creditLine = credit['lines_to_pay.'][0];
      if (!creditLine) throw new Error(`Tryton posted credit note ${credit.number} without a line to pay`);
      const [line] = (await model('account.move.line', 'read', [creditLine.id], ['invoice_payment'])) as { invoice_payment: number | null }[];
      if (line?.invoice_payment === null) await model('account.invoice', 'write', [row.id], { payment_lines: [['add', [creditLine.id]]] });
      await reconcileIfSettled(row.id);
      return { creditMemoId: credit.number ?? String(credit.id), invoice: toBalance(await invoiceById(row.id)) };
    },

    async postWriteOff({ invoiceNumber, amountMinor, currency, reason, idempotencyKey }) {
      const row = await invoiceByNumber(invoiceNumber);
      const description = `Write-off ${keyTag(idempotencyKey)}: ${reason}`.slice(0, 500);
      let move = await moveByDescription(description);
      if (!move) {
        checkAdjustment(row, amountMinor, currency, `a write-off of ${invoiceNumber}`);
        await payWithWizard(row, amountMinor, writeOffMethodName, today(), description);
        move = await moveByDescription(description);
        if (!move) throw new Error(`Tryton's pay wizard left no write-off entry for ${invoiceNumber}`);
      }
      return { journalId: move.number ?? `move-${move.id}`, invoice: toBalance(await invoiceById(row.id)) };
    },

    async createRebill({ originalInvoiceNumber, amountMinor, currency, issueDate, dueDate, idempotencyKey }) {
      const original = await invoiceByNumber(originalInvoiceNumber);
      const done = await invoiceByKey(idempotencyKey);
      if (done) return { invoiceNumber: done.number! };
      if (currency !== original['currency.'].code) {
        throw new ErpRequestRejectedError(`a rebill in ${currency} refused: invoice ${originalInvoiceNumber} is in ${original['currency.'].code}`, 422, 'currency_mismatch');
      }
      if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) throw new ErpRequestRejectedError('a rebill needs a positive amount in minor units', 422, 'invalid_amount');
      if (dueDate < issueDate) throw new ErpRequestRejectedError(`a rebill due ${dueDate} before its issue date ${issueDate} refused`, 422, 'invalid_dates');
      // Tryton numbers invoices itself (the number is read-only over RPC): the rebill gets the next number of the
      // sequence and names the original in its reference.
      const rebill = await createInvoice(original, { amountMinor, issueDate, dueDate, description: `${REBILL_PREFIX}${originalInvoiceNumber}`, key: idempotencyKey });
      return { invoiceNumber: rebill.number! };
    },

    placeCreditHold: async () => capability(),
    releaseCreditHold: async () => capability(),
    getCreditStatus: async () => capability(),
  };
}

function customerIdOf(partyId: number, code: string | null): string {
  return code && code.trim() ? code : `party-${partyId}`;
}

function isCreditNote(row: InvoiceRow): boolean {
  return row.total_amount.decimal.trim().startsWith('-');
}

function statusOf(row: InvoiceRow): Status {
  const self = `account.invoice,${row.id}`;
  if (row.state === 'cancelled') {
    const origin = row['cancel_move.']?.origin ?? null;
    return origin && origin.startsWith('account.invoice,') && origin !== self ? 'credited' : 'cancelled';
  }
  const open = decimalToMinor(row.amount_to_pay, row['currency.'].digits);
  if (row.state === 'posted' && open > 0) return 'open';
  // Settled: the last line that went on it says how.
  const lines = [...row['payment_lines.']].sort((a, b) => (a.date === b.date ? a.id - b.id : a.date < b.date ? -1 : 1));
  const last = lines[lines.length - 1];
  if (!last) return row.state === 'posted' ? 'open' : 'paid';
  if (last['move.']['journal.'].code === 'BAD') return 'written_off';
  const origin = last['move.'].origin;
  if (origin && origin.startsWith('account.invoice,') && origin !== self) return 'credited';
  return 'paid';
}

function settledDateOf(row: InvoiceRow): string | null {
  if (row.state === 'cancelled') return row['cancel_move.']?.date ?? row.write_date?.slice(0, 10) ?? null;
  // The day the last money (or credit, or write-off) went on it; Tryton's reconciliation date is when someone matched it.
  const dates = row['payment_lines.'].map((l) => l.date).sort();
  return dates[dates.length - 1] ?? row.reconciled ?? row.write_date?.slice(0, 10) ?? null;
}

/** For tests and the bench: the adapter's cursor is opaque to callers, but its first value is known. */
export const TRYTON_START_CURSOR = encodeCursor(START);

export { TrytonRpc };
