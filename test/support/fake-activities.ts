import { AsyncLocalStorage } from 'node:async_hooks';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { tsToMs } from '@temporalio/common/lib/time';
import type { TestService } from '@temporalio/client/lib/types';
import { loadAuthorityMatrix, loadReportingConfig, loadResolutionMatrix } from '../../config/load';
import { requiredRole, type AuthorityMatrix } from '../../domain/authority-matrix';
import { convertMinor } from '../../domain/fx';
import { dateDisputeRoute, resolveDisputeRoute, type ResolutionMatrix } from '../../domain/resolution-matrix';
import type { createActivities } from '../../activities';
import type { ErpInvoiceBalance } from '../../integrations/erp/adapter';
import type { Segment } from '../../domain/cadence';
import { customerContactWorkflowId, queueCustomerMessageSignal } from '../../workflows/customer-messages';
import { messageWantedQuery } from '../../workflows/messages';
import type { BeforeSendVerdict } from '../../domain/customer-messages';
import { WorkflowNotFoundError } from '@temporalio/client';

type Activities = ReturnType<typeof createActivities>;

/**
 * The time-skipping server's time when the current fake activity started. Local activities carry the worker's
 * wall-clock time in their info, not the server's skipped time: each fake runs with the server's time, asked once.
 */
const serverClock = new AsyncLocalStorage<number>();
const nowMs = (): number => serverClock.getStore() ?? Context.current().info.currentAttemptScheduledTimestampMs;

async function serverNowMs(): Promise<number> {
  const { client, info } = Context.current();
  const testService = (client.connection as { testService?: TestService }).testService;
  if (!testService) return info.isLocal ? Date.now() : info.currentAttemptScheduledTimestampMs;
  return tsToMs((await testService.getCurrentTime({})).time);
}

function onServerClock(activities: Activities): Activities {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [name, async (...args: unknown[]) => serverClock.run(await serverNowMs(), () => (fn as (...a: unknown[]) => unknown)(...args))]),
  ) as Activities;
}
export type ActivityName = keyof Activities;

export interface RecordedCall {
  name: ActivityName;
  args: unknown[];
  /** Server time at which the attempt was scheduled: skipped time in the time-skipping server. */
  scheduledAt: number;
}

/**
 * Recording fakes for workflow tests: same signatures as the real activities, an in-memory ERP
 * whose balances a test can change, and a log of every call with its (skipped) time.
 */
export interface FakeOptions {
  /** Customer facts by customer id (default: standard segment, contact allowed). */
  customers?: Record<string, { segment?: Segment; doNotContact?: boolean; preferredChannel?: 'email' | 'phone' | 'letter' }>;
  /** Public holidays the fake calendar returns. */
  holidays?: string[];
  /** The customer workflow's gathering delay. */
  gatherMs?: number;
  /** Authority matrix in force (default: config/authority-matrix.json); whether a cadence credit hold needs approval overrides it. */
  authorityMatrix?: AuthorityMatrix;
  /** Resolution matrix in force (default: config/resolution-matrix.json). */
  resolutionMatrix?: ResolutionMatrix;
  /** What the fake mail server reports for customer messages (default 'sent'). */
  sendStatus?: 'sent' | 'already_sent' | 'uncertain';
  /** While this answers true, outbound webhooks fail for good as an endpoint that is not configured. */
  webhookEndpointMissing?: () => boolean;
}

export function createFakeActivities(initial: Record<string, Partial<ErpInvoiceBalance> & { amountMinor: number }>, options: FakeOptions = {}) {
  const calls: RecordedCall[] = [];
  const erp = new Map(Object.entries(initial));
  const record = (name: ActivityName, args: unknown[]) =>
    calls.push({ name, args, scheduledAt: nowMs() });
  const erpActions = fakeErpActions(erp);

  const activities: Activities = {
    ...fakePeopleWork(record, options),
    async getInvoiceBalance(invoiceNumber) {
      record('getInvoiceBalance', [invoiceNumber]);
      const inv = erp.get(invoiceNumber);
      if (!inv) throw new Error(`fake ERP has no invoice ${invoiceNumber}`);
      const open = inv.openAmountMinor ?? inv.amountMinor;
      return {
        invoiceNumber,
        customerId: inv.customerId ?? 'C1',
        currency: inv.currency ?? 'EUR',
        amountMinor: inv.amountMinor,
        openAmountMinor: open,
        status: inv.status ?? (open === 0 ? 'paid' : 'open'),
        asOf: new Date(nowMs()).toISOString(),
      };
    },
    /** As the real one: asks each invoice workflow (a real query on the test server), then the fake ERP. */
    async recheckBeforeSend(items) {
      record('recheckBeforeSend', [items]);
      const { client } = Context.current();
      const verdicts: BeforeSendVerdict[] = [];
      for (const item of items) {
        const inv = erp.get(item.invoiceNumber);
        if (!inv) throw new Error(`fake ERP has no invoice ${item.invoiceNumber}`);
        const open = inv.openAmountMinor ?? inv.amountMinor;
        if ((inv.status ?? (open === 0 ? 'paid' : 'open')) !== 'open' || open <= 0) {
          verdicts.push({ requestId: item.requestId, verdict: 'paid' });
          continue;
        }
        let wanted: boolean;
        try {
          wanted = await client.workflow.getHandle(item.invoiceWorkflowId).query(messageWantedQuery, item.requestId);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          wanted = false;
        }
        verdicts.push(wanted ? { requestId: item.requestId, verdict: 'send', openAmountMinor: open } : { requestId: item.requestId, verdict: 'withdrawn' });
      }
      return verdicts;
    },
    async sendDunningEmail(req) {
      record('sendDunningEmail', [req]);
      return { status: 'sent', messageId: `<${req.idempotencyKey}>` };
    },
    async createCallTask(req) {
      record('createCallTask', [req]);
      return { taskId: calls.length, created: true, collectorId: req.collectorId, dueAt: req.dueAt };
    },
    async recordDunningEvent(event) {
      record('recordDunningEvent', [event]);
    },
    async sendCustomerMessage(req) {
      record('sendCustomerMessage', [req]);
      const status = options.sendStatus ?? 'sent';
      return { status, messageId: `<${req.idempotencyKey}>`, ...(status === 'sent' ? { sentAt: new Date(nowMs()).toISOString() } : {}) };
    },
    async getCustomerFacts(req) {
      record('getCustomerFacts', [req]);
      const facts = options.customers?.[req.customerId];
      return { segment: facts?.segment ?? 'standard', doNotContact: facts?.doNotContact ?? false, preferredChannel: facts?.preferredChannel ?? 'email' };
    },
    async getBusinessCalendar(req) {
      record('getBusinessCalendar', [req]);
      return { holidays: options.holidays ?? [] };
    },
    /** Real: signals (and starts) the customer workflow on the test server, on the worker's own task queue. */
    async queueCustomerMessage(request) {
      record('queueCustomerMessage', [request]);
      const { client, info } = Context.current();
      const input = { tenantId: request.tenantId, customerId: request.customer.id, gatherMs: options.gatherMs ?? 60_000 };
      await client.workflow.signalWithStart('customerContact', {
        workflowId: customerContactWorkflowId(input.tenantId, input.customerId),
        taskQueue: info.taskQueue,
        args: [input],
        signal: queueCustomerMessageSignal,
        signalArgs: [request],
      });
    },
    async notifyInternal(req) {
      record('notifyInternal', [req]);
      return { notificationId: calls.length };
    },
    async placeCreditHold(req) {
      record('placeCreditHold', [req]);
      return { customerId: req.customerId, onHold: true, heldSince: new Date(nowMs()).toISOString() };
    },
    async requestCreditMemo(req) {
      record('requestCreditMemo', [req]);
      return erpActions.adjust('credit_memo', req);
    },
    async postWriteOff(req) {
      record('postWriteOff', [req]);
      return erpActions.adjust('write_off', req);
    },
    async createRebill(req) {
      record('createRebill', [req]);
      return erpActions.rebill(req);
    },
    async releaseCreditHold(req) {
      record('releaseCreditHold', [req]);
      return { customerId: req.customerId, onHold: false };
    },
    async buildHandoffPackage(req) {
      record('buildHandoffPackage', [req]);
      return erpActions.handoff(req);
    },
    async postWebhook(req) {
      record('postWebhook', [req]);
      if (options.webhookEndpointMissing?.()) throw ApplicationFailure.nonRetryable(`webhook endpoint "${req.endpoint}" is not configured`, 'UnknownWebhookEndpoint');
      return { status: 202 };
    },
    async recordPromise(rec) {
      record('recordPromise', [rec]);
    },
    async recordPromiseVerdict(rec) {
      record('recordPromiseVerdict', [rec]);
    },
    async recordCustomerActivity(rec) {
      record('recordCustomerActivity', [rec]);
    },
    // The ERP sync's activities (activities/erp-sync.ts) are no invoice workflow's: its tests run the real ones.
    ...(Object.fromEntries(
      (['erpSyncStartRun', 'erpSyncPage', 'erpSyncAdmitDue', 'erpSyncFinishRun'] as const).map((name) => [
        name,
        async () => {
          throw new Error(`${name} is not faked: the ERP sync's tests run the real activities`);
        },
      ]),
    ) as unknown as Pick<Activities, 'erpSyncStartRun' | 'erpSyncPage' | 'erpSyncAdmitDue' | 'erpSyncFinishRun'>),
    // The weekly AR pack (activities/ar-pack.ts) is no invoice workflow's either: its test runs the real one.
    async mailArPack() {
      throw new Error('mailArPack is not faked: the AR pack\'s test runs the real activity');
    },
  };
  return {
    activities: onServerClock(activities),
    calls,
    setOpenAmount(invoiceNumber: string, openAmountMinor: number) {
      erp.get(invoiceNumber)!.openAmountMinor = openAmountMinor;
    },
    callsOf: <N extends ActivityName>(name: N) => calls.filter((c) => c.name === name) as (RecordedCall & { args: Parameters<Activities[N]> })[],
    /** The fake ERP's record of an invoice (rebills included), as credit memos and write-offs left it. */
    erpInvoice: (invoiceNumber: string) => erp.get(invoiceNumber),
  };
}

type FakeErpInvoice = Partial<ErpInvoiceBalance> & { amountMinor: number };

/**
 * Credit memos, write-offs and rebills as the ERP simulator applies them: the open amount goes down,
 * at 0 the status becomes 'credited' or 'written_off' (seen by getInvoiceBalance); an amount above
 * the open amount or in another currency fails without retry (ErpRequestRejected, 422); the same
 * idempotency key answers the first result again. Hand-off packages: one per invoice and recipient.
 */
function fakeErpActions(erp: Map<string, FakeErpInvoice>) {
  const replies = new Map<string, unknown>();
  const packages = new Map<string, { invoiceNumber: string; handedTo: 'legal' | 'agency'; sizeBytes: number; createdAt: string }>();
  let seq = 0;
  const now = () => new Date(nowMs()).toISOString();
  const invoiceOf = (invoiceNumber: string) => {
    const inv = erp.get(invoiceNumber);
    if (!inv) throw ApplicationFailure.nonRetryable(`fake ERP has no invoice ${invoiceNumber}`, 'ErpInvoiceNotFound');
    return inv;
  };
  const rejected = (message: string, code: string) => ApplicationFailure.nonRetryable(message, 'ErpRequestRejected', { status: 422, code });
  const once = <T>(key: string, make: () => T): T => {
    if (!replies.has(key)) replies.set(key, make());
    return replies.get(key) as T;
  };
  return {
    adjust<K extends 'credit_memo' | 'write_off'>(kind: K, req: { invoiceNumber: string; amountMinor: number; currency: string; idempotencyKey: string }) {
      return once(req.idempotencyKey, () => {
        const inv = invoiceOf(req.invoiceNumber);
        const open = inv.openAmountMinor ?? inv.amountMinor;
        if ((inv.currency ?? 'EUR') !== req.currency) throw rejected(`invoice ${req.invoiceNumber} is not in ${req.currency}`, 'currency_mismatch');
        if (req.amountMinor > open) throw rejected(`the amount exceeds the open amount of invoice ${req.invoiceNumber} (${open})`, 'amount_exceeds_open_amount');
        inv.openAmountMinor = open - req.amountMinor;
        if (inv.openAmountMinor === 0) inv.status = kind === 'credit_memo' ? 'credited' : 'written_off';
        const invoice: ErpInvoiceBalance = {
          invoiceNumber: req.invoiceNumber,
          customerId: inv.customerId ?? 'C1',
          currency: inv.currency ?? 'EUR',
          amountMinor: inv.amountMinor,
          openAmountMinor: inv.openAmountMinor,
          status: inv.status ?? 'open',
          asOf: now(),
        };
        const id = `${kind === 'credit_memo' ? 'CM' : 'JE'}-${++seq}`;
        return (kind === 'credit_memo' ? { creditMemoId: id, invoice } : { journalId: id, invoice }) as K extends 'credit_memo'
          ? { creditMemoId: string; invoice: ErpInvoiceBalance }
          : { journalId: string; invoice: ErpInvoiceBalance };
      });
    },
    rebill(req: { originalInvoiceNumber: string; amountMinor: number; currency: string; idempotencyKey: string }) {
      return once(req.idempotencyKey, () => {
        const original = invoiceOf(req.originalInvoiceNumber);
        if ((original.currency ?? 'EUR') !== req.currency) throw rejected(`invoice ${req.originalInvoiceNumber} is not in ${req.currency}`, 'currency_mismatch');
        let n = 1;
        while (erp.has(`${req.originalInvoiceNumber}-R${n}`)) n++;
        const invoiceNumber = `${req.originalInvoiceNumber}-R${n}`;
        erp.set(invoiceNumber, { amountMinor: req.amountMinor, currency: req.currency, customerId: original.customerId ?? 'C1' });
        return { invoiceNumber };
      });
    },
    handoff(req: { invoiceNumber: string; handedTo: 'legal' | 'agency' }) {
      const key = `${req.invoiceNumber}:${req.handedTo}`;
      if (!packages.has(key)) packages.set(key, { invoiceNumber: req.invoiceNumber, handedTo: req.handedTo, sizeBytes: 4096, createdAt: now() });
      return packages.get(key)!;
    },
  };
}

/**
 * Disputes and approvals with the real matrices and the real lookups (config/*.json unless given),
 * dates from the test server's clock; the database writes are only recorded.
 */
function fakePeopleWork(record: (name: ActivityName, args: unknown[]) => void, options: FakeOptions) {
  const fx = loadReportingConfig();
  const resolution = options.resolutionMatrix ?? loadResolutionMatrix();
  const authority = options.authorityMatrix ?? loadAuthorityMatrix();
  const impl: Pick<
    Activities,
    'routeDispute' | 'recordDispute' | 'disputeDeadlineEvent' | 'recordDisputeOutcome' | 'registerApprovalRequest' | 'escalateApprovalRequest' | 'recordApprovalDecision' | 'recordApprovalEffect' | 'approvalNeeded'
  > = {
    async routeDispute(req) {
      record('routeDispute', [req]);
      const segment = options.customers?.[req.customerId]?.segment ?? 'standard';
      const route = resolveDisputeRoute(resolution, { reasonCode: req.reasonCode, segment, amountReportingMinor: convertMinor(req.amountMinor, req.currency, fx) });
      return dateDisputeRoute(route, nowMs(), req.timeZone, req.calendar);
    },
    async recordDispute(req) {
      record('recordDispute', [req]);
    },
    async disputeDeadlineEvent(req) {
      record('disputeDeadlineEvent', [req]);
    },
    async recordDisputeOutcome(req) {
      record('recordDisputeOutcome', [req]);
    },
    async registerApprovalRequest(req) {
      record('registerApprovalRequest', [req]);
      const amountReportingMinor = convertMinor(req.amountMinor, req.currency, fx);
      return { requiredRole: requiredRole(authority, req.action, amountReportingMinor), amountReportingMinor, escalateAfterMs: authority.escalateAfterHours * 3_600_000 };
    },
    async escalateApprovalRequest(req) {
      record('escalateApprovalRequest', [req]);
    },
    async recordApprovalDecision(req) {
      record('recordApprovalDecision', [req]);
    },
    async recordApprovalEffect(req) {
      record('recordApprovalEffect', [req]);
    },
    async approvalNeeded(req) {
      record('approvalNeeded', [req]);
      return authority.creditHoldNeedsApproval;
    },
  };
  return impl;
}
