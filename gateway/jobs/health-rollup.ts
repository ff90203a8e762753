/**
 * Health roll-ups and retention (DESIGN §5.1 "node-cron: health data roll-ups"): every minute a
 * node-cron job (`noOverlap`: node-cron 4 overlaps runs by default) writes the finished 1-minute
 * and 1-hour roll-ups of terminal samples and WAN probes, then deletes what is past retention,
 * both bounded per run.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { HealthRetention, HealthStore, PruneRun, RollupOptions, RollupRun } from '../health/health-store.js';

export interface HealthJobOptions extends RollupOptions, HealthRetention {
  readonly cron: string;
}

export interface HealthJobRun {
  readonly rollup: RollupRun;
  readonly prune: PruneRun;
}

/** One run: the task function, callable directly (tests use a fake clock). */
export async function runHealthJob(store: HealthStore, clock: Clock, options: HealthJobOptions): Promise<HealthJobRun> {
  const nowMs = clock.now();
  const rollup = await store.rollUp(nowMs, options);
  const prune = await store.prune(nowMs, options);
  return { rollup, prune };
}

export const HEALTH_JOB_NAME = 'tillgate-health-rollup';

export class HealthRollupJob {
  readonly #task: ScheduledTask;
  #state: 'scheduled' | 'stopped' = 'scheduled';
  #running: Promise<void> | null = null;
  lastRun: HealthJobRun | null = null;

  constructor(store: HealthStore, clock: Clock, logger: Logger, options: HealthJobOptions) {
    if (!cron.validate(options.cron)) throw new TypeError(`invalid healthRollupCron "${options.cron}"`);
    this.#task = cron.schedule(
      options.cron,
      async () => {
        if (store.state !== 'open' || this.#state !== 'scheduled') return;
        this.#running = (async () => {
          try {
            this.lastRun = await runHealthJob(store, clock, options);
            logger.debug('health roll-up run', { minutes: this.lastRun.rollup.minutes, written: this.lastRun.rollup.written, deleted: this.lastRun.prune.deleted });
          } catch (err) {
            logger.error('health roll-up run failed', { err });
          }
        })();
        await this.#running;
        this.#running = null;
      },
      { name: HEALTH_JOB_NAME, noOverlap: true },
    );
  }

  get state(): 'scheduled' | 'stopped' {
    return this.#state;
  }

  /** Stops and removes the schedule, and waits for a run in progress (node-cron does not), so the
   * store can close after it. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    await this.#task.destroy();
    await this.#running;
  }
}
