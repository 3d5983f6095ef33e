import type { Env } from '../../config/env';
import type { Sql } from '../../db/sql';
import type { ErpAdapter } from './adapter';
import { createHttpErp } from './http-erp';
import { createLedgerErp } from './ledger-erp';
import { createTrytonErp } from './tryton-erp';

/**
 * The ERP connection ERP_KIND names, for the worker and the API alike: 'simulator' (the reference ERP over
 * HTTP), 'tryton' (a real Tryton over JSON-RPC), 'ledger' (the imported ledger in PostgreSQL).
 */
export function createErp(
  env: Pick<Env, 'ERP_KIND' | 'ERP_BASE_URL' | 'ERP_API_KEY' | 'TRYTON_URL' | 'TRYTON_DB' | 'TRYTON_USER' | 'TRYTON_PASSWORD' | 'TENANT_ID'>,
  deps: { sql: Sql },
  options: { timeoutMs?: number } = {},
): ErpAdapter {
  switch (env.ERP_KIND) {
    case 'simulator':
      return createHttpErp({ baseUrl: env.ERP_BASE_URL, apiKey: env.ERP_API_KEY, ...options });
    case 'tryton':
      return createTrytonErp({ url: env.TRYTON_URL, database: env.TRYTON_DB, user: env.TRYTON_USER, password: env.TRYTON_PASSWORD, ...options });
    case 'ledger':
      return createLedgerErp({ sql: deps.sql, tenantId: env.TENANT_ID });
  }
}
