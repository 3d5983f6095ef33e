import type { ReportDefinition } from './definition';

/** Aging, past-due %, DSO (count-back, standard, best possible, ADD) and CEI: reports over the receivables ledger. */
export const ledgerReports: ReportDefinition[] = [];
