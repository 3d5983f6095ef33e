import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ArPackActivities } from '../activities/ar-pack';
import type { ArPackInput, ArPackMailResult } from './ar-pack-messages';

/**
 * The weekly AR pack (issue 13), started by the tenant's Schedule ar-pack:<tenant> (api/ar-pack-schedule.ts): one
 * activity builds the pack as of today in the reporting zone and mails it as an XLSX attachment to the AR managers
 * (config/reports.json weeklyPack.recipients). The workflow id is the idempotency key: a retried activity finds the
 * audit event of its own run and does not mail twice.
 */
const { mailArPack } = proxyActivities<ArPackActivities>({
  // Every pack report's SQL plus the workbook and the SMTP transaction: seconds, minutes on a very large ledger.
  startToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '30 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    maximumAttempts: 8,
    // A currency without a rate, a recipient the SMTP server refuses: retrying changes nothing.
    nonRetryableErrorTypes: ['NoExchangeRateError', 'ArPackRefused'],
  },
});

export async function arPack(input: ArPackInput): Promise<ArPackMailResult> {
  return mailArPack({ tenantId: input.tenantId, idempotencyKey: workflowInfo().workflowId });
}
