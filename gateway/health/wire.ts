/**
 * The gateway's health history, wired in one call from gateway/index.ts: the LevelDB HealthStore
 * over the store's health keyspaces and the node-cron roll-up and retention job. `close()` stops
 * the job (waiting for a run in progress), then flushes and closes the store.
 */
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayOptions } from '../config.js';
import { HealthRollupJob } from '../jobs/health-rollup.js';
import type { LevelEventStore } from '../store/level-event-store.js';
import type { ProbeResult } from '../wan/wan-monitor.js';
import type { HealthStore, WanProbe } from './health-store.js';
import { LevelHealthStore } from './level-health-store.js';
import { DEFAULT_HEALTH_ROLLUP_GRACE_MS } from './options.js';

export interface HealthWiring {
  readonly store: LevelHealthStore;
  readonly job: HealthRollupJob;
  close(): Promise<void>;
}

export async function openHealth(events: LevelEventStore, options: GatewayOptions, clock: Clock, logger: Logger): Promise<HealthWiring> {
  const log = logger.child({ part: 'health' });
  const store = await LevelHealthStore.open(
    events.db,
    events.healthSections,
    clock,
    { perTerminal: options.healthSamplesPerTerminal, queueMax: options.healthQueueMax, maxTerminals: options.maxTerminals },
    log,
  );
  const job = new HealthRollupJob(store, clock, log, {
    cron: options.healthRollupCron,
    graceMs: DEFAULT_HEALTH_ROLLUP_GRACE_MS,
    maxMinutesPerRun: options.healthRollupMaxMinutesPerRun,
    wanProbesKeep: options.wanProbesKeep,
    minuteRollupDays: options.healthMinuteRollupDays,
    hourRollupDays: options.healthHourRollupDays,
    maxDeletesPerRun: options.healthPruneMaxDeletesPerRun,
  });
  return {
    store,
    job,
    async close() {
      await job.stop();
      await store.close();
    },
  };
}

/**
 * Keeps every WAN probe result in the health history and hands what was kept to `onKept` (the
 * live scorer, so it scores exactly what a replay of the history would); returns the unsubscribe
 * function.
 */
export function recordWanProbes(
  health: Pick<HealthStore, 'state' | 'recordWan'>,
  monitor: { onProbe(listener: (p: ProbeResult) => void): () => void },
  onKept: (probe: WanProbe) => void = () => undefined,
): () => void {
  return monitor.onProbe((probe) => {
    if (health.state === 'open') onKept(health.recordWan(probe));
  });
}
