#!/usr/bin/env python3
"""Independent reference figures of the ledger reports (aging, DSO, CEI) over IBM's AR sample (issue 13).

Python 3 standard library only. It reads test/fixtures/ibm-accounts-receivable.csv itself (csv module), NOT through
the product's importer or SQL, and writes test/fixtures/ibm-report-reference.json, which
test/integration/ibm-reports.test.ts compares, figure by figure, with GET /reports/aging, /reports/dso and
/reports/cei of the API after loading the same CSV through the real import (preset 'ibm-ar').

    python3 test/reference/ibm_reports.py            # (re)writes the JSON
    python3 test/reference/ibm_reports.py --check    # exit 1 when the committed JSON differs from what this computes

Method (the CRF conventions of docs/reports.md, restated here and implemented from scratch):

* Days: month ends 2012-06-30, 2012-12-31, 2013-06-30, 2013-12-31 (aging, DSO of that month, CEI of that month),
  two mid-month days for the aging (2013-01-25, when invoice 2621-XCLEH of 86.39 USD, due 2012-12-18 and settled
  2013-02-01, is 38 days past due: the sample's 31-60 bucket; and 2013-03-15), CEI spans 2013-01..2013-06 and the
  whole sample 2012-01..2013-12. The sample has no invoice more than 45 days late, so 61-90 and 91+ stay 0 here
  (test/integration/ledger-reports.test.ts covers them by hand).
* Parsing. InvoiceDate, DueDate, SettledDate are M/D/YYYY calendar dates. InvoiceAmount is parsed with
  decimal.Decimal and turned into integer cents (an amount with more than 2 decimals is an error). Every row of the
  sample is in USD and every invoice has a SettledDate: it was paid in full on that day (no partial payments).
* Open at D: InvoiceDate <= D < SettledDate (an invoice settled ON D is not open at D). Its open amount at D is its
  whole amount (the only posting is the full settlement, dated SettledDate).
* Days past due at D = D - DueDate. Buckets (config/reports.json agingBuckets [30, 60, 90]): current (<= 0),
  1-30, 31-60, 61-90, 91+. Past due = open - current. Past-due % = past due / open * 100.
* Credit sales of a month = the amounts of the invoices whose InvoiceDate falls in it.
* Conversion to the reporting currency EUR (config/reporting.json: 1 USD = 0.9200 EUR): every figure (open, past
  due, each bucket, current AR, sales of a month, sales of a period, opening/closing AR) is summed in USD cents
  first and converted ONCE: EUR cents = USD cents * 0.92 rounded half-even to an integer (Decimal.quantize,
  ROUND_HALF_EVEN). Ratios (days, percents) in EUR are computed from the converted figures.
* Days and percents: exact rational arithmetic (fractions.Fraction), rounded once to 2 decimals, half away from
  zero; None (JSON null) when the denominator is 0.
* Count-back DSO of month M: left = open AR (EUR) at M's last day; walk back from M, at most 24 months
  (dsoLookbackMonths): a month whose EUR sales are 0 or <= left counts all its days and left -= sales; otherwise it
  counts daysInMonth * left / sales and the walk stops. Zero AR walks no month: 0 days. AR still left after 24
  months sets exhausted. daysCounted is rounded per month for display; days is rounded once from the exact sum.
* Standard DSO (3 months ending with M) = open AR / sales of the 3 months (USD summed over them, converted once)
  * their days; best possible = current AR / same sales * same days (current AR = open at the month end with
  DueDate >= month end); ADD = past-due AR / same sales * same days (past-due AR: USD past due converted once).
* CEI of month M: opening = open AR at the day before M's first day, sales = M's sales, closing = open AR at M's
  last day, closing current = its part with DueDate >= the last day; collected = opening + sales - closing;
  CEI = (opening + sales - closing) / (opening + sales - closing current) * 100. Over a span of months: opening of
  the first month, sales of all months (USD summed over the span, converted once), closing and closing current of
  the last month.
"""
import csv
import json
import sys
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CSV_PATH = ROOT / 'test' / 'fixtures' / 'ibm-accounts-receivable.csv'
OUT_PATH = ROOT / 'test' / 'fixtures' / 'ibm-report-reference.json'

CURRENCY = 'USD'
REPORTING = 'EUR'
RATE = Decimal('0.9200')  # config/reporting.json
BUCKETS = ['current', '1-30', '31-60', '61-90', '91+']
LOOKBACK_MONTHS = 24  # config/reports.json dsoLookbackMonths
PERIOD_MONTHS = 3

AGING_DATES = ['2012-06-30', '2012-12-31', '2013-01-25', '2013-03-15', '2013-06-30', '2013-12-31']
MONTHS = ['2012-06', '2012-12', '2013-06', '2013-12']
CEI_SPANS = [('2013-01', '2013-06'), ('2012-01', '2013-12')]


def parse_day(text):
    return datetime.strptime(text.strip(), '%m/%d/%Y').date()


def parse_cents(text):
    cents = Decimal(text.strip()) * 100
    if cents != cents.to_integral_value():
        raise ValueError(f'amount {text!r} has more than 2 decimals')
    return int(cents)


def load():
    with CSV_PATH.open(newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    return [
        {
            'customer': r['customerID'].strip(),
            'number': r['invoiceNumber'].strip(),
            'issue': parse_day(r['InvoiceDate']),
            'due': parse_day(r['DueDate']),
            'settled': parse_day(r['SettledDate']),
            'cents': parse_cents(r['InvoiceAmount']),
        }
        for r in rows
    ]


def to_eur(usd_cents):
    return int((Decimal(usd_cents) * RATE).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def round2(x):
    """A Fraction rounded to 2 decimals, half away from zero, as a float (None stays None)."""
    if x is None:
        return None
    scaled = abs(x) * 100
    hundredths = scaled.numerator // scaled.denominator
    if (scaled - hundredths) * 2 >= 1:
        hundredths += 1
    value = hundredths / 100
    return -value if x < 0 else value


def ratio(num, den):
    return None if den == 0 else Fraction(num, den)


def bucket_of(days_past_due):
    if days_past_due <= 0:
        return 'current'
    if days_past_due <= 30:
        return '1-30'
    if days_past_due <= 60:
        return '31-60'
    if days_past_due <= 90:
        return '61-90'
    return '91+'


def is_open(inv, d):
    return inv['issue'] <= d < inv['settled']


def month_first(m):
    y, mo = map(int, m.split('-'))
    return date(y, mo, 1)


def add_months(m, n):
    y, mo = map(int, m.split('-'))
    i = y * 12 + mo - 1 + n
    return f'{i // 12:04d}-{i % 12 + 1:02d}'


def month_last(m):
    return month_first(add_months(m, 1)) - timedelta(days=1)


def days_in(m):
    return month_last(m).day


# --- aging ---------------------------------------------------------------------------------------------------------

def usd_line(items, d):
    buckets = {b: 0 for b in BUCKETS}
    for inv in items:
        buckets[bucket_of((d - inv['due']).days)] += inv['cents']
    open_ = sum(buckets.values())
    return {'count': len(items), 'open': open_, 'pastDue': open_ - buckets['current'], 'buckets': buckets}


def line_json(count, open_, past_due, buckets):
    return {
        'count': count,
        'openMinor': open_,
        'pastDueMinor': past_due,
        'pastDuePercent': round2(ratio(past_due * 100, open_)),
        'buckets': buckets,
    }


def aging(invoices, d):
    open_items = [inv for inv in invoices if is_open(inv, d)]
    usd = usd_line(open_items, d)
    # All in one currency: the reporting line is each USD figure converted once.
    total = line_json(usd['count'], to_eur(usd['open']), to_eur(usd['pastDue']), {b: to_eur(v) for b, v in usd['buckets'].items()})
    by_currency = [dict(currency=CURRENCY, **line_json(usd['count'], usd['open'], usd['pastDue'], dict(usd['buckets'])))] if open_items else []
    customers = sorted({inv['customer'] for inv in open_items})
    groups = {}
    for c in customers:
        g = usd_line([inv for inv in open_items if inv['customer'] == c], d)
        groups[c] = dict(
            line_json(g['count'], to_eur(g['open']), to_eur(g['pastDue']), {b: to_eur(v) for b, v in g['buckets'].items()}),
            byCurrency=[dict(currency=CURRENCY, **line_json(g['count'], g['open'], g['pastDue'], dict(g['buckets'])))],
        )
    return {
        'report': 'aging',
        'asOf': d.isoformat(),
        'reportingCurrency': REPORTING,
        'buckets': BUCKETS,
        'total': total,
        'byCurrency': by_currency,
        # By customer (groupBy=customer), keyed by the customer id: the API sorts them by open amount.
        'groupsByKey': groups,
    }


# --- DSO and CEI ---------------------------------------------------------------------------------------------------

def open_ar_usd(invoices, d):
    """(open, current) in USD cents at day d."""
    items = [inv for inv in invoices if is_open(inv, d)]
    return sum(i['cents'] for i in items), sum(i['cents'] for i in items if i['due'] >= d)


def sales_usd(invoices, months):
    wanted = set(months)
    return sum(inv['cents'] for inv in invoices if inv['issue'].strftime('%Y-%m') in wanted)


def dso(invoices, m):
    end = month_last(m)
    open_usd, current_usd = open_ar_usd(invoices, end)
    open_ar, current_ar, past_due_ar = to_eur(open_usd), to_eur(current_usd), to_eur(open_usd - current_usd)

    months = []
    left = open_ar
    total = Fraction(0)
    walked = 0
    cursor = m
    while left > 0 and walked < LOOKBACK_MONTHS:
        dim = days_in(cursor)
        sales = to_eur(sales_usd(invoices, [cursor]))
        if sales == 0 or left >= sales:
            months.append({'month': cursor, 'daysInMonth': dim, 'salesMinor': sales, 'usedMinor': sales, 'daysCounted': dim})
            total += dim
            left -= sales
        else:
            part = Fraction(dim * left, sales)
            months.append({'month': cursor, 'daysInMonth': dim, 'salesMinor': sales, 'usedMinor': left, 'daysCounted': round2(part)})
            total += part
            left = 0
        walked += 1
        cursor = add_months(cursor, -1)

    period = [add_months(m, -i) for i in range(PERIOD_MONTHS - 1, -1, -1)]
    period_days = sum(days_in(p) for p in period)
    period_sales = to_eur(sales_usd(invoices, period))
    days = lambda ar: round2(None if period_sales == 0 else Fraction(ar * period_days, period_sales))
    return {
        'report': 'dso',
        'month': m,
        'asOf': end.isoformat(),
        'reportingCurrency': REPORTING,
        'openArMinor': open_ar,
        'currentArMinor': current_ar,
        'pastDueArMinor': past_due_ar,
        'countBack': {'days': round2(total), 'exhausted': left > 0, 'months': months},
        'standard': {'from': month_first(period[0]).isoformat(), 'to': end.isoformat(), 'periodDays': period_days, 'salesMinor': period_sales, 'days': days(open_ar)},
        'bestPossible': {'days': days(current_ar)},
        'averageDaysDelinquent': days(past_due_ar),
    }


def cei_line(opening, sales, closing, closing_current):
    collected = opening + sales - closing
    return {
        'openingArMinor': opening,
        'salesMinor': sales,
        'closingArMinor': closing,
        'closingCurrentArMinor': closing_current,
        'collectedMinor': collected,
        'cei': round2(ratio(collected * 100, opening + sales - closing_current)),
    }


def cei(invoices, first, last):
    months = []
    m = first
    while m <= last:
        months.append(m)
        m = add_months(m, 1)

    def figures(ms):
        opening, _ = open_ar_usd(invoices, month_first(ms[0]) - timedelta(days=1))
        closing, closing_current = open_ar_usd(invoices, month_last(ms[-1]))
        return cei_line(to_eur(opening), to_eur(sales_usd(invoices, ms)), to_eur(closing), to_eur(closing_current))

    return {
        'report': 'cei',
        'reportingCurrency': REPORTING,
        'months': [dict(month=mm, **figures([mm])) for mm in months],
        'total': figures(months),
    }


def compute():
    invoices = load()
    return {
        'source': 'test/fixtures/ibm-accounts-receivable.csv',
        'generatedBy': 'python3 test/reference/ibm_reports.py',
        'invoices': len(invoices),
        'customers': len({i['customer'] for i in invoices}),
        'totalMinorUsd': sum(i['cents'] for i in invoices),
        'rate': {'from': CURRENCY, 'to': REPORTING, 'rate': str(RATE)},
        'aging': {d: aging(invoices, date.fromisoformat(d)) for d in AGING_DATES},
        'dso': {m: dso(invoices, m) for m in MONTHS},
        'cei': {f'{a}..{b}': cei(invoices, a, b) for a, b in [(m, m) for m in MONTHS] + CEI_SPANS},
    }


def render(data):
    return json.dumps(data, indent=1, sort_keys=False) + '\n'


def main(argv):
    text = render(compute())
    if '--check' in argv:
        current = OUT_PATH.read_text(encoding='utf-8') if OUT_PATH.exists() else ''
        if current != text:
            sys.stderr.write(f'{OUT_PATH.relative_to(ROOT)} differs from what {Path(__file__).name} computes now: run it to regenerate\n')
            return 1
        print(f'{OUT_PATH.relative_to(ROOT)} is up to date')
        return 0
    OUT_PATH.write_text(text, encoding='utf-8')
    print(f'wrote {OUT_PATH.relative_to(ROOT)}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
