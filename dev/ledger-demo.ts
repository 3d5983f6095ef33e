import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Sql } from '../db/sql';
import { createImport, runImport, type ImportRequest } from '../integrations/import/importer';
import { csvCell } from '../integrations/import/rejects';
import type { DemoPortfolio } from './demo-portfolio';

/**
 * Ledger mode's demo (ERP_KIND=ledger: no ERP API, the imported ledger is the system of record): the demo portfolio
 * written as the project's own import template and imported as a team would (all or nothing), so that the ERP
 * sync's schedule enrolls it from the ledger like any imported file. A second start imports the same file again
 * and changes nothing.
 */
export async function seedLedgerDemo(sql: Sql, tenantId: string, portfolio: DemoPortfolio, dir: string): Promise<{ created: number; unchanged: number }> {
  const byId = new Map(portfolio.customers.map((c) => [c.customerId, c]));
  const decimal = (minor: number) => `${Math.trunc(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
  const lines = [
    'invoice_number,customer_id,customer_name,email,country,currency,amount,open_amount,issue_date,due_date,settled_date,status,disputed,rebill_of',
    ...portfolio.invoices.map((i) => {
      const c = byId.get(i.customerId)!;
      const cells = [i.invoiceNumber, i.customerId, c.name, c.email, c.country, i.currency, decimal(i.amountMinor), decimal(i.amountMinor), i.invoiceDate, i.dueDate, '', 'open', i.disputed ? 'yes' : 'no', ''];
      return cells.map(csvCell).join(',');
    }),
  ];
  const filePath = path.join(dir, 'demo-ledger.csv');
  writeFileSync(filePath, `${lines.join('\n')}\n`);
  const req: ImportRequest = { tenantId, filePath, fileName: 'demo-ledger.csv', preset: 'own', mode: 'all_or_nothing', requestedBy: 'demo-seed', erpKind: 'ledger' };
  const result = await runImport(sql, await createImport(sql, req), req);
  if (result.status !== 'succeeded') throw new Error(`the demo ledger could not be imported: ${result.error ?? 'rows rejected'} (see GET /imports/${result.importId}/report)`);
  return { created: result.created, unchanged: result.unchanged };
}
