import { activityReports } from './activity';
import { ledgerReports } from './ledger';
import type { ReportDefinition } from './definition';

/** Every report, in the order of the AR pack's sheets. */
export const allReports: readonly ReportDefinition[] = [...ledgerReports, ...activityReports];
