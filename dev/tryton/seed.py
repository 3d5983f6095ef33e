"""Seeds a Tryton database for the dunning orchestrator (run with the Tryton venv's python).

  seed.py base  --config C --database D --years 2025,2026,2027
      company (USD), fiscal years with monthly periods and invoice sequences, the minimal chart of accounts,
      payment terms, payment methods (bank receipts, bad-debt write-off), countries and subdivisions.
      Slow (seconds): done once into a template database that callers copy.
  seed.py demo  --config C --database D --file portfolio.json
      customers (party with code, e-mail contact, address with country/subdivision, category, language) and their
      posted customer invoices, payments (partial and full), credit notes, cancelled invoices and unapplied
      receipts, as the JSON file lists them (dev/tryton.ts writes it from the demo portfolio).
  seed.py bulk  --config C --database D --count N --start-date YYYY-MM-DD
      N posted customer invoices over 100 customers, created and posted in batches through trytond's pool.

Everything runs in this one process through trytond's pool (proteus in trytond mode for the wizards of the
base set-up): far faster than an RPC per record. Amounts are decimal strings, never floats.
"""
import argparse
import datetime as dt
import json
import os
import sys
from decimal import Decimal

COUNTRIES = {
    'US': ('United States', 'USA', '840', [('US-NY', 'New York'), ('US-IL', 'Illinois'), ('US-CA', 'California')]),
    'GB': ('United Kingdom', 'GBR', '826', [('GB-ENG', 'England')]),
    'DE': ('Germany', 'DEU', '276', [('DE-BE', 'Berlin')]),
    'JP': ('Japan', 'JPN', '392', [('JP-13', 'Tokyo')]),
}


def args():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['base', 'demo', 'bulk'])
    p.add_argument('--config', required=True)
    p.add_argument('--database', required=True)
    p.add_argument('--years', default='')
    p.add_argument('--file')
    p.add_argument('--count', type=int, default=0)
    p.add_argument('--start-date')
    return p.parse_args()


def base(years):
    from proteus import Model, Wizard
    from proteus.config import get_config
    from trytond.modules.company.tests.tools import create_company, get_company
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences

    Currency = Model.get('currency.currency')
    usd = Currency(name='U.S. Dollar', symbol='$', code='USD', rounding=Decimal('0.01'), digits=2)
    usd.save()
    for code, name in (('EUR', 'Euro'), ('GBP', 'Pound Sterling')):
        Currency(name=name, symbol=code, code=code, rounding=Decimal('0.01'), digits=2).save()
    Party = Model.get('party.party')
    company_party = Party(name='Dunning Demo Corp.')
    company_party.save()
    create_company(party=company_party, currency=usd)
    company = get_company()
    # A posted customer invoice may be cancelled (a cancel move), as a voided invoice is in most ERPs.
    company.cancel_invoice_out = True
    company.save()
    get_config()._context['company'] = company.id

    SequenceStrict = Model.get('ir.sequence.strict')
    for year in years:
        fy = set_fiscalyear_invoice_sequences(
            create_fiscalyear(company, (dt.date(year, 1, 1), dt.date(year, 12, 31))))
        # Numbers a reader can tell apart: T2026-0001 for invoices, CN2026-0001 for credit notes.
        seq = fy.invoice_sequences[0]
        seq.out_invoice_sequence.prefix = 'T%s-' % year
        seq.out_invoice_sequence.padding = 4
        seq.out_invoice_sequence.save()
        credit_seq = SequenceStrict(name='Credit notes %s' % year, sequence_type=seq.out_invoice_sequence.sequence_type,
            company=company, prefix='CN%s-' % year, padding=4)
        credit_seq.save()
        seq.out_credit_note_sequence = credit_seq
        fy.save()
        fy.click('create_period')
    create_chart(company)
    accounts = get_accounts(company)

    Journal = Model.get('account.journal')
    PaymentMethod = Model.get('account.invoice.payment.method')
    cash_journal, = Journal.find([('type', '=', 'cash')], limit=1)
    PaymentMethod(name='Bank receipt', company=company, journal=cash_journal,
        credit_account=accounts['cash'], debit_account=accounts['cash']).save()
    # A payment method's journal must be of type cash: bad debt gets a cash-type journal of its own.
    writeoff_journal = Journal(name='Bad debt', code='BAD', type='cash')
    writeoff_journal.save()
    PaymentMethod(name='Bad debt write-off', company=company, journal=writeoff_journal,
        credit_account=accounts['expense'], debit_account=accounts['expense']).save()

    PaymentTerm = Model.get('account.invoice.payment_term')
    for name, days in (('Due date', 0), ('Net 30', 30)):
        term = PaymentTerm(name=name)
        line = term.lines.new(type='remainder')
        if days:
            line.relativedeltas.new(days=days)
        term.save()

    Country = Model.get('country.country')
    Subdivision = Model.get('country.subdivision')
    for code, (name, code3, numeric, subdivisions) in COUNTRIES.items():
        country = Country(name=name, code=code, code3=code3, code_numeric=numeric)
        country.save()
        for sub_code, sub_name in subdivisions:
            Subdivision(country=country, code=sub_code, name=sub_name, type='state').save()


def pool_context():
    """The pool and a transaction-opening helper, once proteus set up trytond in this process."""
    from trytond.pool import Pool
    return Pool()


def company_env():
    pool = pool_context()
    Company = pool.get('company.company')
    company, = Company.search([])
    return company


def accounts_of(company):
    pool = pool_context()
    Account = pool.get('account.account')
    result = {}
    for kind in ('receivable', 'revenue', 'expense'):
        result[kind], = Account.search([('type.%s' % kind, '=', True), ('company', '=', company.id), ('closed', '!=', True)], limit=1)
    return result


def method(name):
    PaymentMethod = pool_context().get('account.invoice.payment.method')
    found, = PaymentMethod.search([('name', '=', name)])
    return found


def make_parties(customers):
    pool = pool_context()
    Party = pool.get('party.party')
    Category = pool.get('party.category')
    Country = pool.get('country.country')
    Subdivision = pool.get('country.subdivision')
    Lang = pool.get('ir.lang')
    categories = {}
    parties = {}
    to_save = []
    for c in customers:
        party = Party(name=c['name'], code=c['customerId'])
        mechanisms = []
        if c.get('email'):
            Mechanism = pool.get('party.contact_mechanism')
            mechanisms.append(Mechanism(type='email', value=c['email'], name=c.get('contactName'), invoice=True))
        party.contact_mechanisms = mechanisms
        Address = pool.get('party.address')
        address = Address(street=c.get('street') or '1 Main Street', city=c.get('city') or 'City')
        if c.get('country'):
            countries = Country.search([('code', '=', c['country'])])
            if countries:
                address.country = countries[0]
                if c.get('region'):
                    subs = Subdivision.search([('code', '=', '%s-%s' % (c['country'], c['region']))])
                    if subs:
                        address.subdivision = subs[0]
        party.addresses = [address]
        if c.get('category'):
            if c['category'] not in categories:
                found = Category.search([('name', '=', c['category'])])
                categories[c['category']] = found[0] if found else Category(name=c['category'])
                if not found:
                    categories[c['category']].save()
            party.categories = [categories[c['category']]]
        if c.get('lang'):
            langs = Lang.search([('code', '=', c['lang'])])
            if langs:
                party.lang = langs[0]
        to_save.append(party)
        parties[c['customerId']] = party
    Party.save(to_save)
    return parties


def new_invoice(party, company, accounts, term, number, amount, issue, due, description, reference=None):
    Invoice = pool_context().get('account.invoice')
    Line = pool_context().get('account.invoice.line')
    invoice = Invoice(type='out', company=company, party=party, invoice_address=party.addresses[0],
        currency=company.currency, account=accounts['receivable'], payment_term=term,
        number=number, reference=reference, description=description,
        invoice_date=issue, payment_term_date=due, journal=None)
    invoice.on_change_type()
    invoice.account = accounts['receivable']
    qty = 1 if amount >= 0 else -1
    invoice.lines = [Line(type='line', company=company, currency=company.currency, account=accounts['revenue'],
        description=description, quantity=qty, unit_price=abs(amount), invoice_type='out')]
    return invoice


def demo(path):
    from trytond.transaction import Transaction
    pool = pool_context()
    Invoice = pool.get('account.invoice')
    PaymentTerm = pool.get('account.invoice.payment_term')
    with open(path) as f:
        data = json.load(f)
    company = company_env()
    with Transaction().set_context(company=company.id, _skip_warnings=True):
        accounts = accounts_of(company)
        term, = PaymentTerm.search([('name', '=', 'Due date')])
        parties = make_parties(data['customers'])
        invoices = {}
        to_save = []
        for i in data['invoices']:
            inv = new_invoice(parties[i['customerId']], company, accounts, term, i['invoiceNumber'], Decimal(i['amount']),
                dt.date.fromisoformat(i['issueDate']), dt.date.fromisoformat(i['dueDate']), i.get('description') or 'Services')
            to_save.append(inv)
            invoices[i['invoiceNumber']] = inv
        Invoice.save(to_save)
        Invoice.post(to_save)
        for i in data['invoices']:
            if i.get('cancelled'):
                Invoice.cancel([invoices[i['invoiceNumber']]])
        bank = method('Bank receipt')
        for p in data.get('payments', []):
            inv = Invoice(invoices[p['invoiceNumber']].id)
            lines = inv.pay_invoice(Decimal(p['amount']), bank, dt.date.fromisoformat(p['date']), p.get('description') or 'payment %s' % p['paymentId'])
            inv = Invoice(inv.id)
            if inv.amount_to_pay == 0:
                reconcile_invoice(inv)
        for c in data.get('creditNotes', []):
            inv = Invoice(invoices[c['invoiceNumber']].id)
            apply_credit_note(inv, Decimal(c['amount']), dt.date.fromisoformat(c['date']), c.get('number'), c.get('reason') or 'credit note')
        for u in data.get('unapplied', []):
            post_unapplied(company, accounts, parties[u['customerId']], Decimal(u['amount']), dt.date.fromisoformat(u['date']), u['remittance'])


def reconcile_invoice(invoice):
    """Reconciles a settled invoice's lines and marks it paid (the RPC dispatcher would run the queued process)."""
    pool = pool_context()
    MoveLine = pool.get('account.move.line')
    Invoice = pool.get('account.invoice')
    lines = [l for l in invoice.lines_to_pay + invoice.payment_lines if not l.reconciliation]
    if lines:
        MoveLine.reconcile(lines)
    Invoice.process([Invoice(invoice.id)])


def apply_credit_note(invoice, amount, date, number, reason):
    """A credit note for `amount`, posted, its receivable line set against the invoice (reconciled when it closes it)."""
    Invoice = pool_context().get('account.invoice')
    accounts = {'receivable': invoice.account, 'revenue': invoice.lines[0].account}
    credit = new_invoice(invoice.party, invoice.company, accounts, invoice.payment_term, number, -amount, date, date, reason,
        reference=invoice.number)
    credit.save()
    Invoice.post([credit])
    credit = Invoice(credit.id)
    line, = [l for l in credit.lines_to_pay]
    Invoice.write([invoice], {'payment_lines': [('add', [line.id])]})
    invoice = Invoice(invoice.id)
    if invoice.amount_to_pay == 0:
        reconcile_invoice(invoice)
        Invoice.process([credit])
    return credit


def post_unapplied(company, accounts, party, amount, date, remittance):
    """Money received on the customer's receivable account without an invoice: bank debit, receivable credit."""
    pool = pool_context()
    Move = pool.get('account.move')
    Line = pool.get('account.move.line')
    Period = pool.get('account.period')
    bank = method('Bank receipt')
    move = Move(journal=bank.journal, period=Period.find(company, date=date), date=date, company=company,
        description=remittance, lines=[
            Line(account=bank.debit_account, debit=amount, credit=0),
            Line(account=accounts['receivable'], party=party, debit=0, credit=amount, description=remittance),
        ])
    move.save()
    Move.post([move])


def bulk(count, start):
    from trytond.transaction import Transaction
    pool = pool_context()
    Invoice = pool.get('account.invoice')
    PaymentTerm = pool.get('account.invoice.payment_term')
    company = company_env()
    with Transaction().set_context(company=company.id, _skip_warnings=True):
        accounts = accounts_of(company)
        term, = PaymentTerm.search([('name', '=', 'Due date')])
        customers = [{'customerId': 'BULK-%03d' % n, 'name': 'Bulk Customer %03d' % n, 'email': 'ap%03d@bulk.example' % n,
                      'country': 'US', 'region': 'NY', 'category': 'bulk'} for n in range(100)]
        parties = make_parties(customers)
        keys = list(parties)
        batch = []
        for n in range(count):
            # Issued over a week from the start date, due 30 days after issue (the bench starts 29 days back: all
            # due 1 to 7 days ahead, in the sync's enrollment window and before any dunning step).
            issue = start + dt.timedelta(days=n % 7)
            amount = Decimal(1000 + (n * 7919) % 900000) / 100
            batch.append(new_invoice(parties[keys[n % len(keys)]], company, accounts, term, 'B%07d' % n, amount,
                issue, issue + dt.timedelta(days=30), 'Bulk services'))
            # The first invoice alone: posting asks for table locks (the transaction starts again holding them),
            # better after one invoice than after a batch. Then batches of 100: trytond's per-record checks grow with
            # the batch (run with python -O, which drops its asserts over every id of a batch).
            if n == 0 or len(batch) == 100:
                Invoice.save(batch)
                Invoice.post(batch)
                batch = []
        if batch:
            Invoice.save(batch)
            Invoice.post(batch)


def main():
    a = args()
    from proteus import config as pconfig
    cfg = pconfig.set_trytond(database=a.database, config_file=a.config)
    if a.mode == 'base':
        base([int(y) for y in a.years.split(',') if y])
    else:
        # One transaction for the whole seed (proteus commits per call; the pool's own API is what is fast).
        # Tryton asks for table locks by raising TransactionError; like its dispatcher, start again holding them.
        from trytond.transaction import Transaction, TransactionError
        extras = {}
        while True:
            try:
                with Transaction().start(a.database, cfg.user, context=cfg.context, **extras) as transaction:
                    if a.mode == 'demo':
                        demo(a.file)
                    else:
                        bulk(a.count, dt.date.fromisoformat(a.start_date))
                    transaction.commit()
                break
            except TransactionError as err:
                err.fix(extras)


if __name__ == '__main__':
    try:
        main()
    except Exception as err:  # a clear line for the caller, the trace for the developer
        import traceback
        traceback.print_exc()
        print('seed failed: %s' % err, file=sys.stderr)
        sys.exit(1)
