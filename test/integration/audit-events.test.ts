import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appendAuditEvent, type AuditEvent } from '../../db/audit-events';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';

/** appendAuditEvent against PostgreSQL: one row per event key, the first write wins, inside a caller's transaction too. */
const tenantId = `audit-${randomUUID().slice(0, 8)}`;
let sql: Sql;

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 2 });
  await migrate(sql);
});
afterAll(async () => {
  await sql?.end();
});

const rows = (eventKey: string) => sql`select actor, invoice_number, workflow_id, event_type, details from audit_events where event_key = ${eventKey}`;

describe('appendAuditEvent', () => {
  it('writes an event once per key: a repeat (with other details) changes nothing and says so', async () => {
    const event: AuditEvent = { eventKey: `config:${tenantId}:authority_matrix:3`, tenantId, actor: 'mark', type: 'config_document_saved', details: { name: 'authority_matrix', version: 3 } };
    expect(await appendAuditEvent(sql, event)).toBe(true);
    expect(await appendAuditEvent(sql, { ...event, details: { name: 'authority_matrix', version: 4 } })).toBe(false);
    expect(await rows(event.eventKey)).toEqual([
      { actor: 'mark', invoice_number: null, workflow_id: null, event_type: 'config_document_saved', details: { name: 'authority_matrix', version: 3 } },
    ]);
  });

  it('takes part in the caller transaction: rolled back with it', async () => {
    const eventKey = `approval:${tenantId}:A-1:escalated:1`;
    await sql
      .begin(async (tx) => {
        await appendAuditEvent(tx, { eventKey, tenantId, actor: 'workflow', invoiceNumber: 'INV-1', type: 'approval_escalated', details: { requestId: 'A-1', toRole: 'ar_manager', level: 1 } });
        throw new Error('the rest of the transaction failed');
      })
      .catch(() => undefined);
    expect(await rows(eventKey)).toEqual([]);
  });

  it('types the details by event type and requires a key', () => {
    const ok: AuditEvent = { eventKey: 'k', tenantId, actor: 'a', type: 'cadence_assigned', details: { segment: 'strategic', cadenceId: 'gentle' } };
    // @ts-expect-error a cadence assignment names its segment and cadence
    const wrongDetails: AuditEvent = { eventKey: 'k', tenantId, actor: 'a', type: 'cadence_assigned', details: { cadenceId: 'gentle' } };
    // @ts-expect-error no event without its deterministic key
    const noKey: AuditEvent = { tenantId, actor: 'a', type: 'cadence_unassigned', details: { segment: 'standard' } };
    // @ts-expect-error only the types the code writes
    const unknownType: AuditEvent = { eventKey: 'k', tenantId, actor: 'a', type: 'something_else', details: {} };
    expect([ok, wrongDetails, noKey, unknownType]).toHaveLength(4);
  });
});
