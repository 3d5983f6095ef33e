import { activityReports } from './activity-reports';
import { ledgerReports } from './ledger-reports';
import type { ReportDefinition } from './types';

/** Every report, in the order of the AR pack's sheets. */
export const allReports: readonly ReportDefinition[] = [...ledgerReports, ...activityReports];
