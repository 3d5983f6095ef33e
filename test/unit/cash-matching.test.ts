import { describe, expect, it } from 'vitest';
import { COMBINATION_POOL, findCombinations, normalizeInvoiceRef, remittanceRefs, suggestMatches, type OpenItem } from '../../domain/cash-matching';

const item = (invoiceNumber: string, openAmountMinor: number, dueDate = '2026-01-01', customerId = 'C1', currency = 'EUR'): OpenItem => ({
  invoiceNumber,
  customerId,
  currency,
  openAmountMinor,
  dueDate,
});
const pay = (amountMinor: number, remittance = '', customerId: string | null = 'C1', currency = 'EUR') => ({ amountMinor, currency, customerId, remittance });
const sets = (s: { allocations: { invoiceNumber: string }[] }[]) => s.map((x) => x.allocations.map((a) => a.invoiceNumber).join('+'));

describe('invoice references', () => {
  it('ignore case, separators, an INV prefix and leading zeros', () => {
    for (const r of ['INV-000123', 'inv 123', '0123', 'INVOICE#123', 'Inv.0123']) expect(normalizeInvoiceRef(r)).toBe('123');
    expect(normalizeInvoiceRef('2026/0017')).toBe('20260017');
    expect(normalizeInvoiceRef('IBM-2041')).toBe('IBM2041');
  });

  it('are found in remittance text: several numbers, a prefix as its own word, parts of a joined reference', () => {
    expect(remittanceRefs('Payment INV-0101, inv 102 and #000103. Thanks')).toEqual(['101', '102', '103']);
    expect(remittanceRefs('RE: 101/102')).toEqual(['101102', '101', '102']);
    expect(remittanceRefs('thank you')).toEqual([]);
  });
});

describe('suggestions', () => {
  it('a remittance naming one open invoice with exactly the payment ranks first, near certain', () => {
    const open = [item('INV-0007', 5_000), item('INV-0008', 5_000, '2026-02-01')];
    const [first, ...rest] = suggestMatches(pay(5_000, 'Invoice 7'), open);
    expect(first).toMatchObject({ kind: 'remittance', confidence: 0.98, allocations: [{ invoiceNumber: 'INV-0007', amountMinor: 5_000 }], unappliedMinor: 0 });
    // The exact-amount suggestion for INV-0007 collapses into the remittance one; INV-0008 remains as one of two equal amounts.
    expect(sets(rest)).toEqual(['INV-0008']);
    expect(rest[0]).toMatchObject({ kind: 'exact_amount', confidence: 0.59 });
  });

  it('a remittance with several numbers allocates each its open amount when they add up', () => {
    const open = [item('A-100', 1_000), item('A-101', 2_500), item('A-102', 700), item('X-9', 3_500, '2026-01-01', 'C2')];
    const [first] = suggestMatches(pay(3_500, 'A-100 / A-101'), open);
    expect(first).toMatchObject({ kind: 'remittance', confidence: 0.95 });
    expect(first!.allocations).toEqual([
      { invoiceNumber: 'A-100', amountMinor: 1_000 },
      { invoiceNumber: 'A-101', amountMinor: 2_500 },
    ]);
  });

  it('a short payment against the named invoices fills the oldest first and says what is short', () => {
    const open = [item('500', 4_000, '2026-03-01'), item('501', 4_000, '2026-02-01')];
    const [first] = suggestMatches(pay(6_000, 'inv 500 501'), open);
    expect(first).toMatchObject({ kind: 'remittance', confidence: 0.6, unappliedMinor: 0 });
    expect(first!.allocations).toEqual([
      { invoiceNumber: '501', amountMinor: 4_000 },
      { invoiceNumber: '500', amountMinor: 2_000 },
    ]);
    expect(first!.reason).toContain('falls short by 2000');
  });

  it('numbers in the remittance that are no open invoice are not suggested', () => {
    expect(suggestMatches(pay(1_234, 'order 4711, invoice 999'), [item('1000', 50)])).toEqual([]);
  });

  it('exact amount: the payer\u2019s invoice before another customer\u2019s', () => {
    const open = [item('O-1', 9_900, '2025-12-01', 'C2'), item('P-1', 9_900, '2026-01-01', 'C1')];
    const s = suggestMatches(pay(9_900), open);
    expect(sets(s)).toEqual(['P-1', 'O-1']);
    expect(s[0]).toMatchObject({ kind: 'exact_amount', confidence: 0.85 });
    expect(s[1]).toMatchObject({ kind: 'exact_amount', confidence: 0.35 });
    expect(s[1]!.reason).toContain('not the payer');
  });

  it('an amount matching nothing gives no suggestion', () => {
    const open = [item('1', 1_000), item('2', 2_000), item('3', 4_000)];
    expect(suggestMatches(pay(500), open)).toEqual([]);
    expect(suggestMatches(pay(8_000), open)).toEqual([]);
  });

  it('another currency is never suggested, whatever the amount or the remittance', () => {
    const open = [item('77', 1_000, '2026-01-01', 'C1', 'USD'), item('78', 500, '2026-01-01', 'C1', 'USD'), item('79', 500, '2026-01-01', 'C1', 'USD')];
    expect(suggestMatches(pay(1_000, 'invoice 77'), open)).toEqual([]);
  });

  it('one combination of the payer\u2019s items that sums to the payment', () => {
    const open = [item('1', 1_000, '2026-01-01'), item('2', 2_000, '2026-01-02'), item('3', 4_000, '2026-01-03'), item('4', 8_000, '2026-01-04')];
    const s = suggestMatches(pay(13_000), open);
    expect(sets(s)).toEqual(['1+3+4']);
    expect(s[0]).toMatchObject({ kind: 'combination', confidence: 0.55 });
  });

  it('two possible combinations: both suggested, fewer invoices first, with lower confidence', () => {
    const open = [item('1', 1_000, '2026-01-01'), item('2', 2_000, '2026-01-02'), item('3', 3_000, '2026-01-03'), item('4', 3_000, '2026-01-04'), item('9', 9_000, '2026-01-09')];
    // 1 000 + 3 000 twice (items 3 and 4 are open for the same amount); nothing else makes 4 000
    const s = suggestMatches(pay(4_000), open);
    expect(sets(s).sort()).toEqual(['1+3', '1+4']);
    expect(s.every((x) => x.kind === 'combination' && x.confidence < 0.55)).toBe(true);
  });

  it('other customers\u2019 items never make a combination', () => {
    const open = [item('1', 1_000, '2026-01-01', 'C2'), item('2', 2_000, '2026-01-02', 'C1')];
    expect(suggestMatches(pay(3_000), open)).toEqual([]);
  });

  it('an unknown payer gets amount and remittance suggestions but no combinations', () => {
    const open = [item('1', 1_000), item('2', 2_000), item('12', 3_000, '2026-01-01', 'C2')];
    const s = suggestMatches(pay(3_000, '', null), open);
    expect(sets(s)).toEqual(['12']);
    expect(s[0]).toMatchObject({ kind: 'exact_amount', confidence: 0.5 });
  });
});

describe('the combination search is bounded', () => {
  it('finds five items summing to the target, never a sixth', () => {
    const open = [1, 2, 4, 8, 16, 32].map((x, i) => item(`I${i}`, x * 100, `2026-01-0${i + 1}`));
    expect(findCombinations(open, 3_100).map((c) => c.map((i) => i.invoiceNumber).join('+'))).toEqual(['I0+I1+I2+I3+I4']);
    expect(findCombinations(open, 6_300)).toEqual([]); // all six: beyond the bound
  });

  it('looks only at the 40 oldest of the payer\u2019s items', () => {
    const open = Array.from({ length: 60 }, (_, i) => item(`N${i}`, 1_000 + i, `2026-${String(1 + Math.floor(i / 28)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`));
    const newest = open.slice(COMBINATION_POOL);
    const target = newest[0]!.openAmountMinor + newest[1]!.openAmountMinor + 100_000; // needs items outside the pool
    expect(findCombinations(open, target)).toEqual([]);
  });

  it('stays fast on 40 equal amounts (the worst case for the hash buckets) and stops at 50 combinations', () => {
    const open = Array.from({ length: 40 }, (_, i) => item(`E${i}`, 100, '2026-01-01'));
    const started = performance.now();
    const found = findCombinations(open, 500);
    expect(found).toHaveLength(50);
    expect(performance.now() - started).toBeLessThan(1_000);
    const noMatch = performance.now();
    expect(findCombinations(open, 99_999)).toEqual([]);
    expect(performance.now() - noMatch).toBeLessThan(1_000);
  });
});
