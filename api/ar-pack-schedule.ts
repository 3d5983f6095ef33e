import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type DayOfWeek, type ScheduleOptionsAction, type ScheduleSpec } from '@temporalio/client';
import type { ReportsConfig } from '../domain/reports/config';
import { arPackScheduleId, type ArPackInput } from '../workflows/ar-pack-messages';

/**
 * The weekly AR pack's Temporal Schedule ar-pack:<tenant> (issue 13, docs/reports-formats.md), kept in step with
 * config/reports.json at every API start, as the ERP sync's is (api/erp-sync-service.ts): weeklyPack.enabled creates
 * it, or brings its calendar (dayOfWeek at hour:00 in timeZone) and action up to date and unpauses it; disabled pauses
 * an existing one (its history stays; enabling it again resumes it). Each run starts workflows/ar-pack.ts on the
 * worker's task queue.
 */

// config/reports.json counts 1 = Monday ... 7 = Sunday (ISO 8601).
const DAYS: readonly DayOfWeek[] = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

export interface ArPackScheduleDeps {
  temporal: Client;
  tenantId: string;
  taskQueue: string;
  config: ReportsConfig;
}

export const PAUSED_NOTE = 'weeklyPack.enabled is false in config/reports.json';

/** The schedule's calendar: the configured weekday and hour, minute 0, in the reporting zone. */
export function arPackSpec(config: ReportsConfig): ScheduleSpec {
  return {
    calendars: [{ dayOfWeek: DAYS[config.weeklyPack.dayOfWeek - 1]!, hour: config.weeklyPack.hour, minute: 0, second: 0, comment: 'the weekly AR pack' }],
    timezone: config.timeZone,
  };
}

export function createArPackSchedule(deps: ArPackScheduleDeps) {
  const scheduleId = arPackScheduleId(deps.tenantId);
  const handle = () => deps.temporal.schedule.getHandle(scheduleId);
  const input: ArPackInput = { tenantId: deps.tenantId };
  const action: ScheduleOptionsAction = { type: 'startWorkflow', workflowType: 'arPack', workflowId: scheduleId, taskQueue: deps.taskQueue, args: [input] };

  return {
    scheduleId,
    /** Idempotent: what config/reports.json says, made so. */
    async ensure(): Promise<{ state: 'created' | 'updated' | 'paused' | 'absent' }> {
      const spec = arPackSpec(deps.config);
      if (!deps.config.weeklyPack.enabled) {
        try {
          const description = await handle().describe();
          if (!description.state.paused) await handle().pause(PAUSED_NOTE);
          return { state: 'paused' };
        } catch (err) {
          if (err instanceof ScheduleNotFoundError) return { state: 'absent' };
          throw err;
        }
      }
      try {
        await deps.temporal.schedule.create({
          scheduleId,
          spec,
          action,
          // A week is long: a run the server missed (down at that hour) still starts within a day.
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
          state: { note: `weekly AR pack of tenant ${deps.tenantId}` },
        });
        return { state: 'created' };
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      }
      await handle().update((previous) => ({ ...previous, spec, action, policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP } }));
      const description = await handle().describe();
      if (description.state.paused) await handle().unpause('weeklyPack.enabled is true in config/reports.json');
      return { state: 'updated' };
    },
  };
}

/**
 * At API start: the schedule made to match the configuration in the background (the API serves while Temporal is
 * still coming up), tried again every 15 s until it is. Returns what stops the retries (on close).
 */
export function keepArPackSchedule(deps: ArPackScheduleDeps, log: { info(o: object, m: string): void; warn(o: object, m: string): void }): () => void {
  const schedule = createArPackSchedule(deps);
  let timer: NodeJS.Timeout | undefined;
  const attempt = (): void =>
    void schedule.ensure().then(
      ({ state }) => log.info({ scheduleId: schedule.scheduleId, state }, 'weekly AR pack schedule in step with config/reports.json'),
      (err: Error) => {
        log.warn({ err, scheduleId: schedule.scheduleId }, 'weekly AR pack schedule not in place yet; trying again in 15 s');
        timer = setTimeout(attempt, 15_000);
        timer.unref();
      },
    );
  attempt();
  return () => clearTimeout(timer);
}
