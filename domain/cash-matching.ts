/**
 * Matching suggestions for unapplied cash: which open invoices a payment that arrived without one probably
 * pays. Pure: the caller loads the candidates (api/unapplied-cash-service.ts: the payer's oldest open items,
 * the open items whose amount equals the payment's, the open items the remittance names), this ranks them.
 *
 * Three kinds, each with a confidence in [0, 1] and the reason in words:
 * - `remittance`: invoice numbers found in the remittance text (tolerant: case, separators, an "INV"/"INVOICE"
 *   prefix and leading zeros do not matter; only numbers of open invoices count). Highest when the named
 *   invoices' open amounts add up to the payment exactly.
 * - `exact_amount`: one open invoice whose open amount equals the payment; the payer's own first, then any
 *   customer's; several equal candidates share (and lower) the confidence.
 * - `combination`: 2 to 5 of the payer's open items that sum exactly to the payment. Bounded search: among the
 *   payer's `COMBINATION_POOL` (40) oldest open items only, by meet-in-the-middle (every subset of 1 or 2 items
 *   on the left, of 1 to 3 on the right, joined on the sum in a hash map): at most 40 + 780 left subsets against
 *   40 + 780 + 9 880 right ones, whatever the amounts; never an exponential search. At most
 *   `MAX_COMBINATIONS_FOUND` combinations are collected; ambiguity (several) lowers their confidence.
 *
 * Same currency only: a candidate in another currency is never suggested.
 */

export interface OpenItem {
  invoiceNumber: string;
  customerId: string;
  currency: string;
  openAmountMinor: number;
  /** YYYY-MM-DD: older items come first among equals. */
  dueDate: string;
}

export interface CashToMatch {
  amountMinor: number;
  currency: string;
  /** The payer's customer id when known. */
  customerId: string | null;
  remittance: string;
}

export type SuggestionKind = 'remittance' | 'exact_amount' | 'combination';

export interface Allocation {
  invoiceNumber: string;
  amountMinor: number;
}

export interface Suggestion {
  kind: SuggestionKind;
  /** 0..1, two decimals. */
  confidence: number;
  reason: string;
  /** Ready to send to POST /unapplied-cash/:id/apply. */
  allocations: Allocation[];
  /** What the allocations leave unapplied of the payment. */
  unappliedMinor: number;
}

export const COMBINATION_POOL = 40;
export const MAX_COMBINATION_SIZE = 5;
export const MAX_COMBINATIONS_FOUND = 50;
const MAX_SUGGESTIONS = 10;

/**
 * An invoice number or a reference as we compare them: letters and digits only, upper case, without an
 * "INVOICE"/"INV" prefix, without leading zeros. `INV-000123`, `inv 123` and `0123` all give `123`.
 * The SQL function cash_invoice_ref (migration 016) is the same rule, for its index.
 */
export function normalizeInvoiceRef(text: string): string {
  return text
    .replace(/[^A-Za-z0-9]/g, '')
    .toUpperCase()
    .replace(/^(INVOICE|INV)/, '')
    .replace(/^0+/, '');
}

/**
 * The references a remittance text may name, normalized, in the order they appear: every word with a digit
 * (a word is letters, digits and - / . _ #), whole and, when it has separators, each of its parts
 * (`INV-101/102` names 101102, 101 and 102). "INV 123" (the prefix as its own word) gives 123.
 */
export function remittanceRefs(remittance: string): string[] {
  const refs: string[] = [];
  const add = (r: string) => {
    if (r !== '' && /\d/.test(r) && !refs.includes(r)) refs.push(r);
  };
  for (const word of remittance.match(/[A-Za-z0-9][A-Za-z0-9\-/._#]*/g) ?? []) {
    const trimmed = word.replace(/[\-/._#]+$/, '');
    if (!/\d/.test(trimmed)) continue;
    add(normalizeInvoiceRef(trimmed));
    const parts = trimmed.split(/[\-/._#]+/);
    if (parts.length > 1) for (const part of parts) add(normalizeInvoiceRef(part));
  }
  return refs;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const byAge = (a: OpenItem, b: OpenItem) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.invoiceNumber < b.invoiceNumber ? -1 : a.invoiceNumber > b.invoiceNumber ? 1 : 0);

/** Ranked suggestions for the payment among the candidates (any order, duplicates allowed); best first, at most 10. */
export function suggestMatches(payment: CashToMatch, candidates: readonly OpenItem[]): Suggestion[] {
  const open = dedupe(candidates.filter((c) => c.currency === payment.currency && c.openAmountMinor > 0));
  const out: Suggestion[] = [];
  out.push(...byRemittance(payment, open));
  out.push(...byExactAmount(payment, open));
  if (payment.customerId !== null) out.push(...byCombination(payment, open.filter((c) => c.customerId === payment.customerId)));
  // One suggestion per allocation set: the most confident reason wins.
  const seen = new Set<string>();
  const order: Record<SuggestionKind, number> = { remittance: 0, exact_amount: 1, combination: 2 };
  return out
    .sort((a, b) => b.confidence - a.confidence || a.allocations.length - b.allocations.length || order[a.kind] - order[b.kind])
    .filter((s) => {
      const key = s.allocations.map((a) => `${a.invoiceNumber}=${a.amountMinor}`).sort().join(',');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, MAX_SUGGESTIONS);
}

function dedupe(items: OpenItem[]): OpenItem[] {
  const byNumber = new Map<string, OpenItem>();
  for (const i of items) if (!byNumber.has(i.invoiceNumber)) byNumber.set(i.invoiceNumber, i);
  return [...byNumber.values()];
}

function byRemittance(payment: CashToMatch, open: OpenItem[]): Suggestion[] {
  const refs = remittanceRefs(payment.remittance);
  if (refs.length === 0) return [];
  const byRef = new Map<string, OpenItem[]>();
  for (const item of open) {
    const ref = normalizeInvoiceRef(item.invoiceNumber);
    byRef.set(ref, [...(byRef.get(ref) ?? []), item]);
  }
  const named: OpenItem[] = [];
  for (const ref of refs) {
    // Two open invoices that normalize alike (INV-1 and 0001) are both named: the text cannot tell them apart.
    for (const item of byRef.get(ref) ?? []) if (!named.includes(item)) named.push(item);
  }
  if (named.length === 0) return [];
  const total = named.reduce((s, i) => s + i.openAmountMinor, 0);
  const numbers = named.map((i) => i.invoiceNumber).join(', ');
  const foreign = payment.customerId !== null && named.some((i) => i.customerId !== payment.customerId);
  const penalty = foreign ? 0.15 : 0;
  const foreignNote = foreign ? `; ${named.filter((i) => i.customerId !== payment.customerId).map((i) => `${i.invoiceNumber} is of customer ${i.customerId}`).join(', ')}, not the payer's` : '';
  if (total === payment.amountMinor) {
    return [
      {
        kind: 'remittance',
        confidence: round2((named.length === 1 ? 0.98 : 0.95) - penalty),
        reason: `the remittance names ${numbers}, whose open amount${named.length === 1 ? ' equals' : 's add up to'} the payment${foreignNote}`,
        allocations: named.map((i) => ({ invoiceNumber: i.invoiceNumber, amountMinor: i.openAmountMinor })),
        unappliedMinor: 0,
      },
    ];
  }
  // Not exact: the named invoices, oldest first, take what the payment covers.
  const allocations: Allocation[] = [];
  let left = payment.amountMinor;
  for (const item of [...named].sort(byAge)) {
    if (left === 0) break;
    const amount = Math.min(left, item.openAmountMinor);
    allocations.push({ invoiceNumber: item.invoiceNumber, amountMinor: amount });
    left -= amount;
  }
  const short = total > payment.amountMinor;
  return [
    {
      kind: 'remittance',
      confidence: round2(0.6 - penalty),
      reason: short
        ? `the remittance names ${numbers}, open ${total} together: the payment of ${payment.amountMinor} falls short by ${total - payment.amountMinor} (oldest first)${foreignNote}`
        : `the remittance names ${numbers}, open ${total} together: ${left} of the payment would stay unapplied${foreignNote}`,
      allocations,
      unappliedMinor: left,
    },
  ];
}

function byExactAmount(payment: CashToMatch, open: OpenItem[]): Suggestion[] {
  const equal = open.filter((i) => i.openAmountMinor === payment.amountMinor).sort(byAge);
  const own = payment.customerId === null ? [] : equal.filter((i) => i.customerId === payment.customerId);
  const others = equal.filter((i) => !own.includes(i));
  const suggest = (item: OpenItem, confidence: number, reason: string): Suggestion => ({
    kind: 'exact_amount',
    confidence: round2(confidence),
    reason,
    allocations: [{ invoiceNumber: item.invoiceNumber, amountMinor: item.openAmountMinor }],
    unappliedMinor: 0,
  });
  const out: Suggestion[] = [];
  own.forEach((item, n) => {
    out.push(
      own.length === 1
        ? suggest(item, 0.85, `the only open invoice of the payer ${item.customerId} whose open amount equals the payment`)
        : suggest(item, 0.6 - 0.01 * n, `one of ${own.length} open invoices of the payer ${item.customerId} whose open amount equals the payment (oldest first)`),
    );
  });
  others.forEach((item, n) => {
    const payer = payment.customerId === null ? 'the payer is unknown' : `it is of customer ${item.customerId}, not the payer ${payment.customerId}`;
    out.push(
      others.length === 1
        ? suggest(item, payment.customerId === null ? 0.5 : 0.35, `the only other open invoice whose open amount equals the payment; ${payer}`)
        : suggest(item, (payment.customerId === null ? 0.3 : 0.2) - 0.01 * Math.min(n, 9), `one of ${others.length} open invoices whose open amount equals the payment; ${payer}`),
    );
  });
  return out;
}

/**
 * Combinations of 2 to MAX_COMBINATION_SIZE of the payer's COMBINATION_POOL oldest open items that sum to the
 * payment, by meet-in-the-middle: a combination of k items (indices ascending in age order) is split into its
 * first a and last b items, (a, b) = (1,1), (1,2), (2,2), (2,3) for k = 2..5, the left part's largest index below
 * the right part's smallest, so that each combination is found once.
 */
export function findCombinations(items: readonly OpenItem[], targetMinor: number): OpenItem[][] {
  const pool = [...items].sort(byAge).slice(0, COMBINATION_POOL);
  const n = pool.length;
  const amount = pool.map((i) => i.openAmountMinor);
  interface Part {
    idx: number[];
    sum: number;
  }
  const subsets = (size: number): Part[] => {
    const out: Part[] = [];
    const walk = (start: number, idx: number[], sum: number) => {
      if (idx.length === size) {
        out.push({ idx: [...idx], sum });
        return;
      }
      for (let i = start; i < n; i++) {
        idx.push(i);
        walk(i + 1, idx, sum + amount[i]!);
        idx.pop();
      }
    };
    walk(0, [], 0);
    return out;
  };
  const bySize = new Map<number, Part[]>();
  const parts = (size: number) => {
    if (!bySize.has(size)) bySize.set(size, subsets(size));
    return bySize.get(size)!;
  };
  const index = new Map<string, Part[]>();
  for (const size of [1, 2, 3]) {
    for (const p of parts(size)) {
      if (p.sum >= targetMinor) continue;
      const key = `${size}:${p.sum}`;
      const list = index.get(key);
      if (list) list.push(p);
      else index.set(key, [p]);
    }
  }
  const found: OpenItem[][] = [];
  const splits: [number, number][] = [
    [1, 1],
    [1, 2],
    [2, 2],
    [2, 3],
  ];
  for (const [a, b] of splits) {
    if (a + b > MAX_COMBINATION_SIZE) continue;
    for (const left of parts(a)) {
      if (left.sum >= targetMinor) continue;
      const last = left.idx[left.idx.length - 1]!;
      for (const right of index.get(`${b}:${targetMinor - left.sum}`) ?? []) {
        if (right.idx[0]! <= last) continue;
        found.push([...left.idx, ...right.idx].map((i) => pool[i]!));
        if (found.length >= MAX_COMBINATIONS_FOUND) return found;
      }
    }
  }
  return found;
}

function byCombination(payment: CashToMatch, own: OpenItem[]): Suggestion[] {
  const combos = findCombinations(own, payment.amountMinor);
  if (combos.length === 0) return [];
  const unique = combos.length === 1;
  // Fewer invoices first, then the combination whose newest item is oldest.
  const ranked = combos
    .map((c) => ({ c, newest: c.reduce((d, i) => (i.dueDate > d ? i.dueDate : d), '') }))
    .sort((x, y) => x.c.length - y.c.length || (x.newest < y.newest ? -1 : x.newest > y.newest ? 1 : 0))
    .slice(0, 5);
  const more = combos.length >= MAX_COMBINATIONS_FOUND ? `${MAX_COMBINATIONS_FOUND} or more` : String(combos.length);
  return ranked.map(({ c }, n) => ({
    kind: 'combination' as const,
    confidence: round2(unique ? 0.55 : Math.max(0.1, 0.35 - 0.02 * n)),
    reason: unique
      ? `the open amounts of ${c.length} invoices of the payer ${payment.customerId} (${c.map((i) => i.invoiceNumber).join(', ')}) add up to the payment, and no other combination of its ${COMBINATION_POOL} oldest open items does`
      : `the open amounts of ${c.length} invoices of the payer ${payment.customerId} (${c.map((i) => i.invoiceNumber).join(', ')}) add up to the payment; one of ${more} such combinations`,
    allocations: [...c].sort(byAge).map((i) => ({ invoiceNumber: i.invoiceNumber, amountMinor: i.openAmountMinor })),
    unappliedMinor: 0,
  }));
}
