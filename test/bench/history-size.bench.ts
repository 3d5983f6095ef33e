import { readFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { fmt, table, type Bench } from './harness';
import { checkFullCadence, invoiceRun } from './temporal';

/** The history recorded for the replay tests with the same scenario: the baseline a change is compared with. */
const RECORDED = path.resolve(__dirname, '../histories/invoice-dunning.v6.standard-full-cadence-v5.json');

export const bench: Bench = {
  async run() {
    const run = await invoiceRun(1);
    const history = await run.worker.runUntil(async () => {
      const [handle] = await run.start();
      await run.env.sleep('30 days');
      checkFullCadence(await run.close([handle!]), 'paid');
      return handle!.fetchHistory();
    });
    const events = history.events ?? [];
    const json = historyToJSON(history) + '\n'; // as the recorder writes it
    const recordedJson = readFileSync(RECORDED, 'utf8');
    const recorded = JSON.parse(recordedJson) as { events: { eventType: string }[] };

    const byType = new Map<string, [number, number]>();
    const typeName = (t: unknown) => String(typeof t === 'number' ? temporal.api.enums.v1.EventType[t] : t).replace(/^EVENT_TYPE_/, '');
    const count = (list: { eventType?: unknown }[], column: 0 | 1) =>
      list.forEach(({ eventType }) => {
        const counts = byType.get(typeName(eventType)) ?? [0, 0];
        counts[column]++;
        byType.set(typeName(eventType), counts);
      });
    count(events, 0);
    count(recorded.events, 1);
    const [bytes, recordedBytes] = [json, recordedJson].map((s) => Buffer.byteLength(s)) as [number, number];

    table('history-size: one full standard cadence (4 steps, then a payment signal)', [
      ['', 'this run', 'recorded baseline', 'delta'],
      ['history events', events.length, recorded.events.length, events.length - recorded.events.length],
      ['history JSON bytes', bytes, recordedBytes, bytes - recordedBytes],
      ['history protobuf bytes', temporal.api.history.v1.History.encode(history).finish().length, '', ''],
      ...[...byType].sort((a, b) => b[1][0] - a[1][0]).map(([type, [now, then]]) => [`  ${type}`, now, then, now - then]),
    ]);
    console.log(`  (baseline: ${path.relative(process.cwd(), RECORDED)}; ${fmt(bytes / events.length)} JSON bytes/event)`);
  },
};
