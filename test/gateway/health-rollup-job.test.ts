/** The health roll-up job: one run rolls up and prunes on a fake clock; the node-cron schedule runs it. */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHealthStore } from '../../gateway/health/memory-health-store.js';
import { HealthRollupJob, runHealthJob, type HealthJobOptions } from '../../gateway/jobs/health-rollup.js';
import { silentLogger } from '../../lib/logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { waitFor } from '../support/wait.js';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const OPTIONS: HealthJobOptions = {
  cron: '* * * * * *', graceMs: 1_000, maxMinutesPerRun: 180,
  wanProbesKeep: 5, minuteRollupDays: 7, hourRollupDays: 90, maxDeletesPerRun: 1_000,
};
const LIMITS = { perTerminal: 100, queueMax: 100, maxTerminals: 10 };

const jobs: HealthRollupJob[] = [];
afterEach(async () => {
  for (const j of jobs.splice(0)) await j.stop();
});

describe('health roll-up job', () => {
  it('health job - one run writes the finished minutes and trims the probes', async () => {
    const clock = new FakeClock(T0);
    const store = new MemoryHealthStore(clock, LIMITS);
    for (let i = 0; i < 8; i++) {
      store.record('t-1', JSON.stringify({ at: 'x', errors: i }));
      store.recordWan({ atMs: clock.now(), ok: i % 2 === 0, rttMs: 30 });
      clock.advance(30_000);
    }
    clock.advance(60_000);
    const run = await runHealthJob(store, clock, OPTIONS);
    expect(run.rollup.written).toBeGreaterThan(0);
    expect(await store.rollups({ kind: 'terminal', terminal: 't-1' }, '1m', 0, 100)).toHaveLength(4);
    expect(run.prune.deleted).toBe(3);
    expect(await store.recentWan(0, 100)).toHaveLength(5);
  });

  it('health job - runs on its node-cron schedule and waits for a run in progress when stopped', async () => {
    const clock = new FakeClock(T0);
    const store = new MemoryHealthStore(clock, LIMITS);
    store.record('t-1', JSON.stringify({ at: 'x', errors: 1 }));
    clock.advance(120_000);
    const job = new HealthRollupJob(store, clock, silentLogger, OPTIONS);
    jobs.push(job);
    await waitFor(() => job.lastRun !== null, { timeoutMs: 5_000, what: 'a scheduled run' });
    expect(await store.rollups({ kind: 'terminal', terminal: 't-1' }, '1m', 0, 10)).toHaveLength(1);
    await job.stop();
    expect(job.state).toBe('stopped');
    await store.close();
  });

  it('health job - refuses an invalid cron pattern', () => {
    expect(() => new HealthRollupJob(new MemoryHealthStore(new FakeClock(T0), LIMITS), new FakeClock(T0), silentLogger, { ...OPTIONS, cron: 'every minute' })).toThrow(TypeError);
  });
});
