/**
 * Retention (DESIGN §5.1): a node-cron job deletes events the cloud accepted more than
 * `retentionDays` ago, in bounded chunks, at most `maxEntriesPerRun` per run (the next run goes on).
 * Never anything not yet accepted: `ForwardQueue.pruneAccepted` only looks at or behind the cursor
 * (DESIGN §4 "never drop a financial record").
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { ForwardQueue } from '../forward-queue.js';

const DAY_MS = 86_400_000;
/** Entries per pruneAccepted call: one LevelDB batch of a few MB, short enough not to stall ingest. */
export const RETENTION_CHUNK_ENTRIES = 5_000;

export interface RetentionOptions {
  readonly retentionDays: number;
  readonly retentionCron: string;
  readonly retentionMaxEntriesPerRun: number;
}

export interface RetentionRun {
  readonly deleted: number;
  /** Events older than this (ms since epoch) were eligible. */
  readonly olderThanMs: number;
  /** True when the run stopped at its bound with more possibly left. */
  readonly bounded: boolean;
}

/** One retention run: the task function, callable directly (tests use a fake clock). */
export async function runRetention(queue: ForwardQueue, clock: Clock, options: RetentionOptions): Promise<RetentionRun> {
  const olderThanMs = clock.now() - options.retentionDays * DAY_MS;
  let deleted = 0;
  while (deleted < options.retentionMaxEntriesPerRun) {
    const chunk = Math.min(RETENTION_CHUNK_ENTRIES, options.retentionMaxEntriesPerRun - deleted);
    const n = await queue.pruneAccepted(olderThanMs, chunk);
    deleted += n;
    if (n < chunk) return { deleted, olderThanMs, bounded: false };
  }
  return { deleted, olderThanMs, bounded: true };
}

export const RETENTION_JOB_NAME = 'tillgate-retention';

/** The scheduled job: node-cron with `noOverlap` (node-cron 4 overlaps runs by default). */
export class RetentionJob {
  readonly #task: ScheduledTask;
  #state: 'scheduled' | 'stopped' = 'scheduled';
  lastRun: RetentionRun | null = null;

  constructor(queue: ForwardQueue, clock: Clock, logger: Logger, options: RetentionOptions) {
    if (!cron.validate(options.retentionCron)) throw new TypeError(`invalid retentionCron "${options.retentionCron}"`);
    this.#task = cron.schedule(
      options.retentionCron,
      async () => {
        try {
          this.lastRun = await runRetention(queue, clock, options);
          logger.info('retention run', { ...this.lastRun });
        } catch (err) {
          logger.error('retention run failed', { err });
        }
      },
      { name: RETENTION_JOB_NAME, noOverlap: true },
    );
  }

  get state(): 'scheduled' | 'stopped' {
    return this.#state;
  }

  get task(): ScheduledTask {
    return this.#task;
  }

  /** Stops and removes the schedule. A run in progress finishes on its own (node-cron does not wait). */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    await this.#task.destroy();
  }
}
