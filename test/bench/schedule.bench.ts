import { DateTime } from 'luxon';
import { loadCadence, loadEmailTemplates } from '../../config/load';
import { planNextStep, planRemainingSteps, type HandledStep, type ScheduleContext } from '../../domain/schedule';
import { renderEmail, type TemplateValues } from '../../domain/templates';
import { check, fmt, opsPerSecond, seededRandom, table, type Bench } from './harness';

const PAIRS = 100_000;
const RENDERS = 100_000;
const standardCadence = loadCadence('config/cadences/standard.json');
const ZONES = ['Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Sydney', 'UTC'];

interface Pair {
  ctx: ScheduleContext;
  handled: HandledStep[];
  now: Date;
}

/**
 * Invoices due within a year (DST changes included), asked about at -3..+30 days from their due date.
 * Three in four have handled the steps already due, as a running workflow has; one in four has handled
 * nothing, as an invoice enrolled late does (catch-up: superseded steps).
 */
function pairs(): Pair[] {
  const random = seededRandom(42);
  const base = DateTime.fromISO('2026-01-01', { zone: 'UTC' });
  return Array.from({ length: PAIRS }, (_, i) => {
    const ctx = { dueDate: base.plus({ days: Math.floor(random() * 365) }).toISODate()!, timeZone: ZONES[i % ZONES.length]! };
    const now = new Date(Date.parse(`${ctx.dueDate}T00:00:00Z`) + (random() * 33 - 3) * 86_400_000);
    const handled = i % 4 === 0 ? [] : planRemainingSteps(standardCadence, ctx, [], now).filter((p) => Date.parse(p.at) <= now.getTime()).map((p) => ({ stepId: p.step.id, at: p.at }));
    return { ctx, handled, now };
  });
}

export const bench: Bench = {
  async run() {
    const inputs = pairs();
    let planned = 0;
    const plan = opsPerSecond(PAIRS, () => {
      planned = 0;
      for (const { ctx, handled, now } of inputs) if (planNextStep(standardCadence, ctx, handled, now)) planned++;
    });
    // Invoices past the last step with every step handled have nothing left to plan; all others do.
    check(planned > PAIRS / 2 && planned < PAIRS, `planNextStep planned ${planned} of ${PAIRS} pairs`);

    const templates = Object.values(loadEmailTemplates());
    const values: TemplateValues = {
      customerName: 'Müller & Söhne <GmbH>',
      invoiceNumber: 'INV-2026-00042',
      amountDue: '1.250,00 €',
      originalAmount: '1.250,00 €',
      dueDate: '23. Nov. 2026',
      daysPastDue: '7',
      senderName: 'Accounts Receivable, Example AG',
    };
    let chars = 0;
    const render = opsPerSecond(RENDERS, () => {
      for (let i = 0; i < RENDERS; i++) chars += renderEmail(templates[i % templates.length]!, values).html.length;
    });
    check(chars > 0, 'renderEmail rendered nothing');

    table(`schedule: pure functions, median of 5 runs after a warm-up (${ZONES.length} time zones, ${templates.length} templates)`, [
      ['', 'ops', 'ops/s', 'µs/op', 'runs'],
      ['planNextStep (standard cadence)', fmt(PAIRS), plan.opsPerSec, plan.usPerOp, plan.spread],
      ['renderEmail (subject+text+html)', fmt(RENDERS), render.opsPerSec, render.usPerOp, render.spread],
    ]);
  },
};
