import { parseBankCsv } from './bank-csv';
import { parseCamt053 } from './camt053';
import type { ParsedStatement } from './statement';

export { BankStatementError, type BankEntry, type ParsedStatement, type SkippedLine } from './statement';
export { parseBankCsv, parseCamt053 };

/** Reads a statement upload: camt.053 when it looks like XML (after a BOM and blanks), else a bank CSV. */
export function parseBankStatement(content: Buffer | string): ParsedStatement {
  const text = (typeof content === 'string' ? content : content.toString('utf8')).replace(/^\uFEFF/, '');
  return text.trimStart().startsWith('<') ? parseCamt053(text) : parseBankCsv(text);
}
