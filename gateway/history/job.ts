/**
 * The history's look at the gateway, on a node-cron schedule with `noOverlap` (node-cron 4 runs
 * overlapping executions by default): each run builds what the page sees and hands it to the
 * recorder. `stop()` does not wait for a running look; the recorder's close does.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../../lib/logger.js';
import type { HistoryInput, HistoryRecorder } from './recorder.js';

export const HISTORY_JOB_NAME = 'tillgate-history';

export class HistoryJob {
  readonly #task: ScheduledTask;

  constructor(pattern: string, recorder: HistoryRecorder, look: () => Promise<HistoryInput>, logger: Logger) {
    if (!cron.validate(pattern)) throw new TypeError(`invalid historyCron "${pattern}"`);
    this.#task = cron.schedule(
      pattern,
      async () => {
        try {
          await recorder.tick(await look());
        } catch (err) {
          logger.warn('history look failed', { err });
        }
      },
      { name: HISTORY_JOB_NAME, noOverlap: true },
    );
  }

  async stop(): Promise<void> {
    await this.#task.destroy();
  }
}
