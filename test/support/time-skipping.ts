import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import type { Cadence } from '../../domain/cadence';
import { invoiceWorkflowId } from '../../domain/ids';
import { SEARCH_ATTRIBUTES, type InvoiceDunningInput } from '../../workflows/messages';
import { temporal } from '@temporalio/proto';
import standard from '../../config/cadences/standard.json';

Runtime.install({ logger: new DefaultLogger('WARN') });

/** No vitest import here: the history recorder runs these helpers outside vitest. */

/** Temporal's time-skipping test server, the binary from scripts/setup (the SDK's own download cannot run here). */
export async function createTimeSkippingEnv(serverPath: string): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: serverPath } } });
  // The test server starts with no custom search attributes; the workflow upserts its stage.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return env;
}

export async function createTestWorker(env: TestWorkflowEnvironment, activities: object, bundlePath: string) {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: bundlePath },
    activities,
  });
  return { worker, taskQueue };
}

export const standardCadence = standard as Cadence;

/** An invoice of a customer in Berlin, due on `dueDate`, with a fresh number per test. */
export function invoiceInput(dueDate: string, overrides: Partial<InvoiceDunningInput> = {}): InvoiceDunningInput & { workflowId: string } {
  const number = `INV-${randomUUID().slice(0, 8)}`;
  const input: InvoiceDunningInput = {
    tenantId: 'test',
    invoice: { number, customerId: 'C1', currency: 'EUR', amountMinor: 125_000, issueDate: '2020-01-01', dueDate },
    customer: { id: 'C1', name: 'Müller & Söhne GmbH', email: 'ap@mueller.example', timeZone: 'Europe/Berlin', locale: 'de-DE', collectorId: 'col-1' },
    cadence: standardCadence,
    ...overrides,
  };
  return { ...input, workflowId: invoiceWorkflowId(input.tenantId, input.invoice.number) };
}
