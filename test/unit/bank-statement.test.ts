import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BankStatementError, parseBankCsv, parseBankStatement, parseCamt053 } from '../../integrations/bank';

const fixture = (name: string) => readFileSync(path.resolve(__dirname, '..', 'fixtures', 'bank', name));

describe('camt.053', () => {
  const statement = parseBankStatement(fixture('camt053-sample.xml'));

  it('reads the credits as entries: amounts in minor units, payer, remittance, references, the booking date in the statement\u2019s offset', () => {
    expect(statement).toMatchObject({ format: 'camt.053', statementId: '0352C5320112613000001', account: 'DE89370400440532013000' });
    expect(statement.entries.map((e) => [e.position, e.amountMinor, e.currency, e.payerName, e.remittance])).toEqual([
      ['Ntry 1', 123_450, 'EUR', 'Globex GmbH', 'INV-0101 and INV-0102 thank you'],
      ['Ntry 2', 50_000, 'EUR', 'Initech SARL', 'RF18000000000000000000777'],
      ['Ntry 4 TxDtls 1', 10_000, 'EUR', 'Umbrella Corp', 'invoice 0007'],
      ['Ntry 4 TxDtls 2', 20_000, 'EUR', 'Hooli Inc', 'no reference'],
    ]);
    expect(statement.entries[0]).toMatchObject({
      entryId: 'DE89370400440532013000:2026113000123',
      bookingDate: '2026-11-30',
      receivedAt: '2026-11-30T00:00:00+01:00',
      endToEndId: 'E2E-ACME-4471',
      bankRef: '2026113000123',
    });
    // NOTPROVIDED is no end-to-end id; the batch's transactions get the entry's reference with their number.
    expect(statement.entries[1]!.endToEndId).toBeNull();
    expect(statement.entries.slice(2).map((e) => e.entryId)).toEqual(['DE89370400440532013000:2026113000126/1', 'DE89370400440532013000:2026113000126/2']);
  });

  it('ignores the debit and the pending entry, saying why', () => {
    expect(statement.ignored).toEqual([
      { position: 'Ntry 3', reason: 'a debit (money paid out), not a payment received' },
      { position: 'Ntry 5', reason: 'not booked (status PDNG)' },
    ]);
    expect(statement.rejected).toEqual([]);
  });

  it('gives the same entry ids when read again (the queue\u2019s idempotency rests on them)', () => {
    expect(parseBankStatement(fixture('camt053-sample.xml')).entries.map((e) => e.entryId)).toEqual(statement.entries.map((e) => e.entryId));
  });

  it('reads namespace-prefixed documents, Sts/Cd and Dbtr/Pty/Nm of later versions; entries without references get digest ids', () => {
    const xml = `<?xml version="1.0"?><c:Document xmlns:c="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><c:BkToCstmrStmt><c:Stmt><c:Id>S8</c:Id>
      <c:Ntry><c:Amt Ccy="JPY">15000</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd><c:Sts><c:Cd>BOOK</c:Cd></c:Sts><c:BookgDt><c:DtTm>2026-11-30T09:30:00+09:00</c:DtTm></c:BookgDt>
        <c:NtryDtls><c:TxDtls><c:RltdPties><c:Dbtr><c:Pty><c:Nm>Tanaka KK</c:Nm></c:Pty></c:Dbtr></c:RltdPties><c:RmtInf><c:Ustrd>A-1</c:Ustrd><c:Ustrd>A-2</c:Ustrd></c:RmtInf></c:TxDtls></c:NtryDtls></c:Ntry>
      <c:Ntry><c:Amt Ccy="JPY">15000</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd><c:Sts><c:Cd>BOOK</c:Cd></c:Sts><c:BookgDt><c:DtTm>2026-11-30T09:30:00+09:00</c:DtTm></c:BookgDt>
        <c:NtryDtls><c:TxDtls><c:RltdPties><c:Dbtr><c:Pty><c:Nm>Tanaka KK</c:Nm></c:Pty></c:Dbtr></c:RltdPties><c:RmtInf><c:Ustrd>A-1</c:Ustrd><c:Ustrd>A-2</c:Ustrd></c:RmtInf></c:TxDtls></c:NtryDtls></c:Ntry>
    </c:Stmt></c:BkToCstmrStmt></c:Document>`;
    const parsed = parseCamt053(xml);
    expect(parsed.entries).toHaveLength(2);
    expect(parsed.entries[0]).toMatchObject({ amountMinor: 15_000, currency: 'JPY', payerName: 'Tanaka KK', remittance: 'A-1 / A-2', bookingDate: '2026-11-30' });
    // Two identical transfers stay two, with ids that do not change between uploads.
    const [a, b] = parsed.entries.map((e) => e.entryId);
    expect(a).toMatch(/^sha:[0-9a-f]{24}#1$/);
    expect(b).toBe(a!.replace('#1', '#2'));
  });

  it('rejects an entry it cannot read, naming the problem, and keeps the others', () => {
    const xml = `<Document><BkToCstmrStmt><Stmt>
      <Ntry><Amt Ccy="EUR">10.001</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-30</Dt></BookgDt></Ntry>
      <Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-02-30</Dt></BookgDt></Ntry>
      <Ntry><Amt Ccy="QQQ">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-30</Dt></BookgDt></Ntry>
      <Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-30</Dt></BookgDt><AcctSvcrRef>OK1</AcctSvcrRef></Ntry>
    </Stmt></BkToCstmrStmt></Document>`;
    const parsed = parseCamt053(xml);
    expect(parsed.entries.map((e) => e.entryId)).toEqual([':OK1']);
    expect(parsed.rejected).toEqual([
      { position: 'Ntry 1', reason: 'EUR has 2 minor digits; "10.001" has more' },
      { position: 'Ntry 2', reason: 'BookgDt is not a date: "2026-02-30"' },
      { position: 'Ntry 3', reason: 'unknown currency "QQQ"' },
    ]);
  });

  it('a malformed XML file is refused with where it breaks', () => {
    expect(() => parseBankStatement(fixture('malformed.xml'))).toThrow(BankStatementError);
    expect(() => parseBankStatement(fixture('malformed.xml'))).toThrow(/not well-formed XML: .*line 8/);
  });

  it('XML that is no camt.053 statement is refused', () => {
    expect(() => parseCamt053('<Document><CstmrCdtTrfInitn/></Document>')).toThrow('not a camt.053 statement: no Document/BkToCstmrStmt element');
  });
});

describe('bank CSV', () => {
  const statement = parseBankStatement(fixture('statement.csv'));

  it('reads credits with exact amounts, ignores debits, rejects unreadable lines with the column', () => {
    expect(statement.format).toBe('csv');
    expect(statement.entries.map((e) => [e.position, e.amountMinor, e.currency, e.payerName, e.remittance, e.receivedAt])).toEqual([
      ['line 2', 123_450, 'EUR', 'Globex GmbH', 'INV-0101 INV-0102', '2026-11-30T00:00:00Z'],
      ['line 3', 150_000, 'USD', 'Acme Corp', 'Invoice 17, 18', '2026-11-30T00:00:00Z'],
      ['line 8', 2_000, 'EUR', null, '', '2026-11-30T00:00:00Z'],
      ['line 9', 2_000, 'EUR', null, '', '2026-11-30T00:00:00Z'],
    ]);
    expect(statement.ignored).toEqual([{ position: 'line 4', reason: 'a negative amount (money paid out), not a payment received' }]);
    expect(statement.rejected).toEqual([
      { position: 'line 5', reason: 'amount: EUR has 2 minor digits; "12.345" has more' },
      { position: 'line 6', reason: 'date: "2026-11-31" is not a date (YYYY-MM-DD, DD.MM.YYYY or an ISO instant with offset)' },
      { position: 'line 7', reason: 'currency: unknown currency "XYZ"' },
    ]);
    // Two identical lines are two payments, with stable ids.
    const [a, b] = statement.entries.slice(2).map((e) => e.entryId);
    expect(b).toBe(a!.replace('#1', '#2'));
  });

  it('semicolon-separated with a decimal comma, columns in another order, an id column', () => {
    const parsed = parseBankCsv('Text;Amount;ID;Currency;Booking Date;Purpose\nx;1.234,56;TX-9;EUR;01.12.2026;RE 4711\n');
    expect(parsed.entries).toEqual([
      expect.objectContaining({ entryId: 'csv:TX-9', amountMinor: 123_456, currency: 'EUR', bookingDate: '2026-12-01', remittance: 'RE 4711', payerName: null, bankRef: 'TX-9' }),
    ]);
  });

  it('a CSV without the needed columns is refused, naming them', () => {
    expect(() => parseBankCsv('when,how much\n2026-11-30,10.00\n')).toThrow('the CSV header lacks the columns date, amount, currency');
    expect(() => parseBankCsv('')).toThrow(BankStatementError);
  });

  it('control characters are dropped, long texts cut, a reference too long for the queue replaced by its digest', () => {
    const long = 'R'.repeat(500);
    const parsed = parseBankCsv(`date,amount,currency,payer,reference,id\n2026-11-30,1.00,EUR,"Bad\u0000 \u001b[31mName",${'x'.repeat(5_000)},${long}\n`);
    expect(parsed.entries[0]).toMatchObject({ payerName: 'Bad [31mName', bankRef: long.slice(0, 200) });
    expect(parsed.entries[0]!.remittance).toHaveLength(2_000);
    expect(parsed.entries[0]!.entryId).toMatch(/^sha:[0-9a-f]{40}$/);
  });

  it('non-numeric amounts are rejected, never read as floats', () => {
    const parsed = parseBankCsv('date,amount,currency\n2026-11-30,1e3,EUR\n2026-11-30,abc,EUR\n2026-11-30,0.00,EUR\n');
    expect(parsed.entries).toEqual([]);
    expect(parsed.rejected.map((r) => r.reason)).toEqual(['amount: not a decimal amount: "1e3"', 'amount: not a decimal amount: "abc"', 'amount: zero']);
  });
});
