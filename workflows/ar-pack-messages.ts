/** The weekly AR pack's messages, shared by its workflow, its activity, the API (the schedule) and the tests. */

/** The Temporal Schedule that mails a tenant's weekly AR pack; each action starts arPack with an id of this and its time. */
export const arPackScheduleId = (tenantId: string): string => `ar-pack:${tenantId}`;

export interface ArPackInput {
  tenantId: string;
}

export interface ArPackMailRequest {
  tenantId: string;
  /** The workflow id: one pack mailed per schedule run (the audit event 'ar_pack_mailed' is keyed by it). */
  idempotencyKey: string;
}

export interface ArPackMailResult {
  /**
   * sent: mailed by this call; already_sent: an earlier attempt mailed it; uncertain: an earlier attempt began the SMTP
   * transaction and its outcome is unknown (not sent again: at most once); no_recipients: weeklyPack.recipients is empty.
   */
  status: 'sent' | 'already_sent' | 'uncertain' | 'no_recipients';
  asOf: string;
  month: string;
  recipients: string[];
  messageId: string | null;
  sheets: string[];
}
