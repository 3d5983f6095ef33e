import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { userWithToken } from '../support/auth';

/**
 * An owner team working its disputes and a manager running the approval queue, through the HTTP API
 * only, against the product as it runs (API and worker processes, Temporal dev server, PostgreSQL,
 * SMTP peer, ERP simulator); the ERP simulator shows what the decisions did.
 */
let stack: Stack;
const USERS = {
  anna: { role: 'collector' },
  lena: { role: 'team_lead', team: 'ar' },
  mark: { role: 'ar_manager', approvalLimitMinor: 5_000_000 },
  tom: { role: 'ar_manager', approvalLimitMinor: 10_000 }, // 100.00 EUR: too little for most write-offs
  pia: { role: 'team_member', team: 'pricing' },
  luis: { role: 'team_member', team: 'logistics' },
} as const;
type Who = keyof typeof USERS;
const tokens = {} as Record<Who, string>;

beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-collector.json' });
  for (const [userId, u] of Object.entries(USERS)) {
    const created = await userWithToken(stack.sql, stack.tenantId, { userId, role: u.role, ...('approvalLimitMinor' in u ? { approvalLimitMinor: u.approvalLimitMinor } : {}) });
    if ('team' in u) await stack.sql`update users set team = ${u.team} where tenant_id = ${stack.tenantId} and user_id = ${userId}`;
    tokens[userId as Who] = created.token;
  }
  for (const [number, amountMinor] of [['DSP-1', 300_000], ['DSP-2', 60_000], ['DSP-3', 2_000_000]] as const) {
    const res = await createAndEnroll(stack, { number, customerId: 'CUST-D', amountMinor, dueDate: '2026-09-01' }, 'ap@cust-d.example', { collectorId: 'anna' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});
afterAll(async () => {
  await stack?.stop();
});

const as = (who: Who) => (method: string, url: string, body?: unknown) => stack.api(method, url, body, tokens[who]);
const erpGet = async (url: string) =>
  (await fetch(`${stack.erp.url}${url}`, { headers: { authorization: `Bearer ${stack.env.ERP_API_KEY}` } })).json() as Promise<any>;

describe('disputes and approvals through the API', () => {
  it('an owner team works its dispute: routed by the matrix, a partial credit in the ERP, the rest still collected', async () => {
    const bad = await as('anna')('POST', '/disputes', { invoiceNumber: 'DSP-1', reasonCode: 'too_expensive', note: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body.note', 'body.reasonCode']);
    const opened = await as('anna')('POST', '/disputes', { invoiceNumber: 'DSP-1', reasonCode: 'pricing', disputedAmountMinor: 100_000, note: 'Unit price 10.00 instead of the contract 8.00 on 500 units' });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body).toMatchObject({ amountMinor: 100_000, stage: 'active', route: { ownerTeam: 'pricing', owner: 'pia' } }); // partial: the rest stays in dunning
    const { disputeId } = opened.body;

    // Pia's queue and notification; the logistics team neither sees nor resolves it.
    const queue = (await as('pia')('GET', '/disputes?ownerTeam=pricing')).body;
    expect(queue.items.map((d: { disputeId: string }) => d.disputeId)).toEqual([disputeId]);
    expect(queue.items[0]).toMatchObject({ invoiceNumber: 'DSP-1', reasonCode: 'pricing', status: 'open', overdue: false, ageDays: 0 });
    expect((await as('pia')('GET', '/notifications')).body.items).toEqual([expect.objectContaining({ kind: 'dispute_assigned', disputeId, to: 'pia' })]);
    expect((await as('luis')('GET', `/disputes/${disputeId}`)).status).toBe(403);
    expect((await as('luis')('POST', `/disputes/${disputeId}/resolution`, { resolution: 'invalid', rootCause: 'customer_error', note: 'no' })).status).toBe(403);
    expect((await as('pia')('POST', `/disputes/${disputeId}/resolution`, { resolution: 'valid', rootCause: 'pricing_error', note: 'x' })).status).toBe(400); // no credit amount

    const resolved = await as('pia')('POST', `/disputes/${disputeId}/resolution`, { resolution: 'valid', creditAmountMinor: 40_000, rootCause: 'pricing_error', note: 'Old price list on 200 units: credit 400.00' });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved_valid', creditAmountMinor: 40_000, openAmountMinorAfter: 260_000 });
    expect(await erpGet('/credit-memos?invoiceNumber=DSP-1')).toEqual([expect.objectContaining({ creditMemoId: resolved.body.creditMemoId, amountMinor: 40_000, currency: 'EUR' })]);
    await expect.poll(async () => (await as('anna')('GET', '/invoices/DSP-1')).body.invoice.openAmountMinor, { timeout: 15_000 }).toBe(260_000);
    expect((await as('pia')('POST', `/disputes/${disputeId}/resolution`, { resolution: 'invalid', rootCause: 'customer_error', note: 'again' })).status).toBe(409);

    const report = (await as('lena')('GET', '/reports/disputes')).body;
    expect(report.byReason).toEqual([expect.objectContaining({ reasonCode: 'pricing', opened: 1, resolvedValid: 1, open: 0 })]);
    expect(report.byRootCause).toEqual([{ rootCause: 'pricing_error', currency: 'EUR', resolved: 1, creditedMinor: 40_000 }]);
  });

  it('a manager runs the approval queue: no self-approval, no approval above one’s limit, the write-off journal and the credit hold land in the ERP', async () => {
    // 600.00 EUR write-off: above a team lead's 500.00 rule, so an AR manager's.
    const malformed = await as('anna')('POST', '/invoices/DSP-2/approval-requests', { action: 'settlement', reason: 'Customer offers 450.00' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.issues.map((i: { path: string }) => i.path)).toEqual(['body.settlement']);
    const req = await as('anna')('POST', '/invoices/DSP-2/approval-requests', { action: 'write_off', reason: 'Customer insolvent: claim filed, nothing to expect' });
    expect(req.status, JSON.stringify(req.body)).toBe(201);
    expect(req.body).toMatchObject({ requiredRole: 'ar_manager', amountMinor: 60_000, stage: 'awaiting_approval' });
    const { requestId } = req.body;

    expect((await as('anna')('POST', `/approval-requests/${requestId}/decision`, { decision: 'approve', note: 'mine' })).body).toMatchObject({ error: 'self_approval' });
    const lena = await as('lena')('POST', `/approval-requests/${requestId}/decision`, { decision: 'approve', note: 'ok' });
    expect([lena.status, lena.body.error]).toEqual([403, 'role_too_low']);
    const tom = await as('tom')('POST', `/approval-requests/${requestId}/decision`, { decision: 'approve', note: 'ok' });
    expect([tom.status, tom.body.error]).toEqual([403, 'over_limit']);
    expect((await as('mark')('POST', `/approval-requests/${requestId}/decision`, { decision: 'maybe', note: 'x' })).status).toBe(400);
    // Mark's queue has it, decidable; Tom's does not list what he may not decide.
    expect((await as('mark')('GET', '/approval-requests')).body.items).toEqual([expect.objectContaining({ requestId, canDecide: true, requestedBy: 'anna' })]);
    expect((await as('tom')('GET', '/approval-requests')).body.items).toEqual([]);

    const approved = await as('mark')('POST', `/approval-requests/${requestId}/decision`, { decision: 'approve', note: 'Claim filed with the insolvency administrator' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('approved');
    await expect.poll(async () => (await as('anna')('GET', '/invoices/DSP-2')).body.stage, { timeout: 15_000 }).toBe('written_off');
    expect(await erpGet('/journals?invoiceNumber=DSP-2')).toEqual([expect.objectContaining({ amountMinor: 60_000, currency: 'EUR', account: 'bad_debt_expense' })]);
    expect((await as('mark')('POST', `/approval-requests/${requestId}/decision`, { decision: 'reject', note: 'late' })).status).toBe(409);
    await expect.poll(async () => (await as('mark')('GET', `/approval-requests/${requestId}`)).body.effect, { timeout: 10_000 }).toMatchObject({ journalId: expect.any(String) });

    // A credit hold requested by the team lead: she may not approve it herself; Mark does; the ERP holds the account.
    const hold = await as('lena')('POST', '/invoices/DSP-3/approval-requests', { action: 'credit_hold', reason: '20 000.00 overdue for 80 days' });
    expect(hold.status, JSON.stringify(hold.body)).toBe(201);
    expect((await as('lena')('POST', `/approval-requests/${hold.body.requestId}/decision`, { decision: 'approve', note: 'x' })).body.error).toBe('self_approval');
    expect((await as('mark')('POST', `/approval-requests/${hold.body.requestId}/decision`, { decision: 'approve', note: 'Agreed' })).status).toBe(200);
    await expect.poll(async () => (await erpGet('/customers/CUST-D/credit-status')).onHold, { timeout: 15_000 }).toBe(true);
    await expect.poll(async () => (await as('anna')('GET', '/invoices/DSP-3')).body.stage, { timeout: 15_000 }).toBe('active');

    const audit = await stack.sql<{ actor: string; event_type: string }[]>`
      select actor, event_type from audit_events where tenant_id = ${stack.tenantId} and event_type like 'approval_%' order by id`;
    expect(audit.map((a) => `${a.actor}:${a.event_type}`)).toEqual(expect.arrayContaining(['anna:approval_requested', 'mark:approval_approved', 'workflow:approval_effect', 'lena:approval_requested']));
  });

  it('a short payment with a reason code from the ERP opens a dispute for the deducted amount', async () => {
    const enrolled = await createAndEnroll(stack, { number: 'DSP-4', customerId: 'CUST-E', amountMinor: 100_000, dueDate: '2026-09-15' }, 'ap@cust-e.example', { collectorId: 'anna' });
    expect(enrolled.status).toBe(201);
    const paid = await stack.erpCall('/payments', { paymentId: 'PAY-DSP-4', invoiceNumber: 'DSP-4', amountMinor: 80_000, currency: 'EUR', deduction: { amountMinor: 20_000, reasonCode: 'damaged_goods' } });
    expect(paid.ok, await paid.clone().text()).toBe(true);
    await expect.poll(async () => (await as('lena')('GET', '/disputes?customerId=CUST-E')).body.items, { timeout: 20_000 }).toEqual([
      expect.objectContaining({ disputeId: 'ERP-PAY-DSP-4', source: 'erp', reasonCode: 'damaged_goods', disputedAmountMinor: 20_000, ownerTeam: 'customer_service', owner: 'cara' }),
    ]);
    await expect.poll(async () => (await as('anna')('GET', '/invoices/DSP-4')).body, { timeout: 10_000 }).toMatchObject({ stage: 'disputed', disputedAmountMinor: 20_000, invoice: { openAmountMinor: 20_000 } });
  });
});
