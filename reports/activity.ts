import type { ReportDefinition } from './definition';

/** Collector effectiveness, dispute cycle time, write-offs and the cash forecast: reports over the collectors' work. */
export const activityReports: ReportDefinition[] = [];
