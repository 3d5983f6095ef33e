import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { amountToMinor, bankText, BankStatementError, boundedId, checkCurrency, digestIds, PAYER_MAX, REMITTANCE_MAX, type BankEntry, type ParsedStatement, type SkippedLine } from './statement';

/**
 * ISO 20022 camt.053 (BankToCustomerStatement), versions .001.02 to .001.08 alike: `Document/BkToCstmrStmt/Stmt`,
 * each `Ntry` with `Amt@Ccy`, `CdtDbtInd`, `Sts` (BOOK, or `Sts/Cd` from .06), `RvslInd`, `BookgDt/Dt|DtTm`,
 * `AcctSvcrRef` and `NtryDtls/TxDtls` (per transaction: `Refs/EndToEndId|AcctSvcrRef`, `Amt` or
 * `AmtDtls/TxAmt/Amt`, `RltdPties/Dbtr/Nm` or `Dbtr/Pty/Nm` from .08, `RmtInf/Ustrd` and
 * `RmtInf/Strd/CdtrRefInf/Ref`). Namespace prefixes are ignored. Every value is read as text (amounts are
 * decimal strings turned into minor units exactly). Credits (CRDT) that are booked and not reversals become
 * entries; a batch entry with several transactions becomes one entry per transaction when they carry their
 * own amounts.
 */

type Node = Record<string, unknown>;

const ARRAYS = new Set(['Stmt', 'Ntry', 'NtryDtls', 'TxDtls', 'Ustrd', 'Strd']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: false,
  isArray: (name) => ARRAYS.has(name),
});

const node = (v: unknown): Node | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
/** The text of an element (a leaf, or an element with attributes whose text is '#text'). */
const text = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v;
  const n = node(v);
  return n && typeof n['#text'] === 'string' ? n['#text'] : undefined;
};
const at = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, key) => node(cur)?.[key], v);

export function parseCamt053(xml: string): ParsedStatement {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new BankStatementError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    throw new BankStatementError(`not well-formed XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const root = at(doc, 'Document', 'BkToCstmrStmt');
  if (!node(root)) throw new BankStatementError('not a camt.053 statement: no Document/BkToCstmrStmt element');
  const statements = list(at(root, 'Stmt'));
  if (statements.length === 0) throw new BankStatementError('the camt.053 document holds no Stmt');

  const entries: BankEntry[] = [];
  const ignored: SkippedLine[] = [];
  const rejected: SkippedLine[] = [];
  const ids = digestIds();
  let statementId: string | null = null;
  let account: string | null = null;

  statements.forEach((stmt, s) => {
    const stmtId = text(at(stmt, 'Id')) ?? null;
    const acct = text(at(stmt, 'Acct', 'Id', 'IBAN')) ?? text(at(stmt, 'Acct', 'Id', 'Othr', 'Id')) ?? null;
    statementId ??= stmtId;
    account ??= acct;
    const offset = zoneOffset(text(at(stmt, 'CreDtTm')) ?? text(at(root, 'GrpHdr', 'CreDtTm')));
    list(at(stmt, 'Ntry')).forEach((ntry, n) => {
      const where = statements.length > 1 ? `Stmt ${s + 1} Ntry ${n + 1}` : `Ntry ${n + 1}`;
      const indicator = text(at(ntry, 'CdtDbtInd'));
      const status = text(at(ntry, 'Sts', 'Cd')) ?? text(at(ntry, 'Sts'));
      if (indicator === 'DBIT') return ignored.push({ position: where, reason: 'a debit (money paid out), not a payment received' });
      if (text(at(ntry, 'RvslInd')) === 'true') return ignored.push({ position: where, reason: 'a reversal of an earlier entry' });
      if (status !== undefined && status !== 'BOOK') return ignored.push({ position: where, reason: `not booked (status ${status})` });
      if (indicator !== 'CRDT') return rejected.push({ position: where, reason: `CdtDbtInd must be CRDT or DBIT, found "${indicator ?? ''}"` });
      try {
        const booked = bookingDate(ntry);
        const entryRef = text(at(ntry, 'AcctSvcrRef')) ?? null;
        const txs = list(at(ntry, 'NtryDtls')).flatMap((d) => list(at(d, 'TxDtls')));
        const ownAmounts = txs.length > 1 && txs.every((tx) => txAmount(tx) !== undefined);
        const parts = ownAmounts ? txs.map((tx, t) => ({ tx, amount: txAmount(tx)!, where: `${where} TxDtls ${t + 1}`, suffix: `/${t + 1}` })) : [{ tx: txs[0], amount: node(at(ntry, 'Amt')), where, suffix: '' }];
        const made: BankEntry[] = [];
        for (const { tx, amount, where: position, suffix } of parts) {
          const currency = checkCurrency(text(amount?.['@Ccy']));
          const value = text(amount);
          if (value === undefined) throw new RangeError('no Amt');
          const amountMinor = amountToMinor(value, currency);
          if (amountMinor <= 0) throw new RangeError(`amount must be positive, found ${value}`);
          const endToEnd = text(at(tx, 'Refs', 'EndToEndId'));
          const endToEndId = endToEnd && endToEnd !== 'NOTPROVIDED' ? bankText(endToEnd, 200) || null : null;
          const bankRef = bankText(text(at(tx, 'Refs', 'AcctSvcrRef')) ?? (entryRef ? `${entryRef}${suffix}` : null), 200) || null;
          const payerName = bankText(text(at(tx, 'RltdPties', 'Dbtr', 'Nm')) ?? text(at(tx, 'RltdPties', 'Dbtr', 'Pty', 'Nm')), PAYER_MAX) || null;
          const remittance = bankText([
            ...list(at(tx, 'RmtInf', 'Ustrd')).map(text),
            ...list(at(tx, 'RmtInf', 'Strd')).map((st) => text(at(st, 'CdtrRefInf', 'Ref'))),
          ]
            .filter((r): r is string => r !== undefined && r !== '')
            .join(' / '), REMITTANCE_MAX);
          const ref = bankRef ?? endToEndId;
          made.push({
            entryId: ref ? boundedId(`${acct ?? stmtId ?? ''}:${ref}`) : ids([acct, booked, amountMinor, currency, payerName, remittance]),
            position,
            amountMinor,
            currency,
            bookingDate: booked,
            receivedAt: `${booked}T00:00:00${offset}`,
            payerName,
            remittance,
            endToEndId,
            bankRef,
          });
        }
        entries.push(...made);
      } catch (err) {
        rejected.push({ position: where, reason: err instanceof Error ? err.message : String(err) });
      }
    });
  });
  return { format: 'camt.053', statementId, account, entries, ignored, rejected };
}

function txAmount(tx: unknown): Node | undefined {
  return node(at(tx, 'Amt')) ?? node(at(tx, 'AmtDtls', 'TxAmt', 'Amt'));
}

function bookingDate(ntry: unknown): string {
  const date = text(at(ntry, 'BookgDt', 'Dt')) ?? text(at(ntry, 'BookgDt', 'DtTm'))?.slice(0, 10);
  if (date === undefined) throw new RangeError('no BookgDt');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date)
    throw new RangeError(`BookgDt is not a date: "${date}"`);
  return date;
}

/** The offset of an ISO date-time ('+01:00', 'Z'); 'Z' when it has none or there is none. */
function zoneOffset(dateTime: string | undefined): string {
  const m = dateTime ? /(Z|[+-]\d{2}:\d{2})$/.exec(dateTime) : null;
  return m ? m[1]! : 'Z';
}
