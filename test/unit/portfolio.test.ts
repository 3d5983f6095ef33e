import { describe, expect, it } from 'vitest';
import { bucketRange } from '../../api/routes/invoices';
import { timelineSummary } from '../../api/portfolio-service';
import { bucketLabels, bucketOf } from '../../domain/reports/config';

describe('bucketRange (GET /invoices?bucket=)', () => {
  it('covers exactly the days bucketOf puts in each bucket', () => {
    for (const bounds of [[30, 60, 90], [15], [7, 14, 30, 45, 60, 120]]) {
      for (const label of bucketLabels(bounds)) {
        const { min = -Infinity, max = Infinity } = bucketRange(label, bounds);
        for (let d = -10; d <= 200; d++) expect(d >= min && d <= max, `${label} ${d}`).toBe(bucketOf(d, bounds) === label);
      }
    }
  });

  it('names the defaults by hand: current <= 0, 1-30, 31-60, 61-90, 91+', () => {
    expect(bucketRange('current', [30, 60, 90])).toEqual({ max: 0 });
    expect(bucketRange('1-30', [30, 60, 90])).toEqual({ min: 1, max: 30 });
    expect(bucketRange('61-90', [30, 60, 90])).toEqual({ min: 61, max: 90 });
    expect(bucketRange('91+', [30, 60, 90])).toEqual({ min: 91 });
  });

  it('refuses a label the configuration does not name (400)', () => {
    expect(() => bucketRange('1-45', [30, 60, 90])).toThrow(expect.objectContaining({ code: 'validation_failed', statusCode: 400 }));
    expect(() => bucketRange('31+', [30, 60, 90])).toThrow(/one of current, 1-30, 31-60, 61-90, 91\+/);
  });
});

describe('timelineSummary', () => {
  it('tells each kind of entry in one line', () => {
    expect(timelineSummary('step_done', { stepId: 'r1', action: 'email', outcome: 'sent', messageId: '<m@x>' }, 'INV-1')).toBe('Step r1 (email) on INV-1: sent, message <m@x>');
    expect(timelineSummary('payment_reported', { paymentId: 'P-9', amountMinor: 1250, currency: 'EUR' }, 'INV-1')).toBe('Payment P-9 1250 EUR (minor units) on INV-1');
    expect(timelineSummary('payment_reported', { paymentId: 'P-9', amountMinor: 1250, currency: 'EUR', claim: true }, 'INV-1')).toBe('Payment claimed P-9 1250 EUR (minor units) on INV-1');
    expect(timelineSummary('dispute_opened', { disputeId: 'D-1', reasonCode: 'pricing', disputedAmountMinor: 500, currency: 'USD' }, 'INV-2')).toBe(
      'Dispute D-1 opened (pricing) 500 USD (minor units) on INV-2',
    );
    expect(timelineSummary('approval_approved', { requestId: 'A-1' }, 'INV-2')).toBe('Approval A-1 approved on INV-2');
    expect(timelineSummary('customer_credit_hold', { placed: false, reason: 'paid' }, null)).toBe('Credit hold released: paid');
    expect(timelineSummary('call_outcome', { outcome: 'no_answer', reached: false, note: '' }, 'INV-3')).toBe('Call on INV-3: no_answer');
    expect(timelineSummary('something_new', {}, null)).toBe('something new');
  });
});
