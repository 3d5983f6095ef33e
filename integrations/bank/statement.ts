import { createHash } from 'node:crypto';
import { isCurrencyCode, parseDecimalAmount } from '../../domain/money';
import { neutraliseText } from '../../domain/text';

/**
 * A bank statement's incoming payments, as the unapplied-cash queue takes them (api/unapplied-cash-service.ts):
 * parsed from an ISO 20022 camt.053 file (./camt053.ts) or a bank CSV (./bank-csv.ts). Only credits (money
 * received) become entries; debits, reversals and unbooked lines are reported as ignored, unreadable lines as
 * rejected with the reason; a file that is no statement at all throws BankStatementError.
 */

export interface BankEntry {
  /**
   * Stable across uploads of the same statement: the bank's reference (AcctSvcrRef, else EndToEndId) prefixed
   * by the account, else a digest of the entry's data and its occurrence among identical entries of the file.
   * The queue is idempotent on it: re-uploading a statement adds nothing.
   */
  entryId: string;
  /** 1-based: the entry (camt: Ntry, and its transaction when it has several) or the CSV line. */
  position: string;
  amountMinor: number;
  currency: string;
  /** YYYY-MM-DD as the bank booked it. */
  bookingDate: string;
  /** ISO instant with offset: the booking date at midnight in the statement's offset (UTC when it gives none). */
  receivedAt: string;
  payerName: string | null;
  /** Unstructured remittance lines and structured creditor references, joined with ' / '. */
  remittance: string;
  endToEndId: string | null;
  bankRef: string | null;
}

export interface SkippedLine {
  position: string;
  reason: string;
}

export interface ParsedStatement {
  format: 'camt.053' | 'csv';
  /** The statement's own id (camt Stmt/Id), when it has one. */
  statementId: string | null;
  /** The account's IBAN or other id, when given. */
  account: string | null;
  entries: BankEntry[];
  /** Lines that are not incoming payments: debits, reversals, pending entries. */
  ignored: SkippedLine[];
  /** Lines that should be incoming payments but cannot be read: the reason names the field. */
  rejected: SkippedLine[];
}

/** The file is not a statement we can read (malformed XML, not camt.053, a CSV without the needed columns). */
export class BankStatementError extends Error {
  override readonly name = 'BankStatementError';
}

/** An amount as written (decimal string, '.' or ',' as the decimal mark) to minor units: never through a float. */
export function amountToMinor(text: string, currency: string, decimalMark: '.' | ',' = '.'): number {
  const thousands = decimalMark === '.' ? /[,'\s]/g : /[.'\s]/g;
  let t = text.trim().replace(thousands, '');
  if (decimalMark === ',') t = t.replace(',', '.');
  if (t.startsWith('+')) t = t.slice(1);
  return parseDecimalAmount(t, currency);
}

export function checkCurrency(code: string | undefined): string {
  const c = (code ?? '').trim().toUpperCase();
  if (!isCurrencyCode(c)) throw new RangeError(`unknown currency "${code ?? ''}"`);
  return c;
}

/**
 * Ids for entries without a bank reference: a digest of what the entry says, and its occurrence among the
 * file's entries that say the same (two identical transfers on one day stay two, and stay the same two when
 * the file is uploaded again).
 */
export function digestIds() {
  const seen = new Map<string, number>();
  return (parts: (string | number | null)[]): string => {
    const digest = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
    const n = (seen.get(digest) ?? 0) + 1;
    seen.set(digest, n);
    return `sha:${digest}#${n}`;
  };
}

/**
 * Text from a bank file as the queue stores it: control characters (a NUL PostgreSQL cannot store, escapes
 * that would reach a terminal) removed, runs of blanks as one, trimmed, at most `max` characters.
 */
export function bankText(text: string | undefined | null, max: number): string {
  return neutraliseText(text ?? '', { multiLine: false }).replace(/\s+/g, ' ').trim().slice(0, max);
}

/** An entry id within the queue's bound (300): a longer bank reference is replaced by its digest. */
export function boundedId(id: string): string {
  const clean = bankText(id, 100_000);
  return clean.length <= 200 ? clean : `sha:${createHash('sha256').update(clean).digest('hex').slice(0, 40)}`;
}

export const PAYER_MAX = 200;
export const REMITTANCE_MAX = 2_000;
