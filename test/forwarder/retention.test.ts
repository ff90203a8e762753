/**
 * Retention on a fake clock: only events the cloud accepted more than the retention window ago are
 * deleted (age counts from the acceptance), bounded per run; nothing past the cursor is ever
 * touched (dead letters: test/forwarder/forward-queue.conformance.ts); the node-cron job is
 * scheduled with noOverlap and removed on stop.
 */
import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { RETENTION_JOB_NAME, RetentionJob, runRetention } from '../../gateway/jobs/retention.js';
import { silentLogger } from '../../lib/logger.js';
import { signChain, testSigner } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { MemoryForwardQueue } from './memory-forward-queue.js';

const DAY_MS = 86_400_000;
const options = { retentionDays: 30, retentionCron: '17 3 * * *', retentionMaxEntriesPerRun: 1_000 };

async function queueWithHistory(clock: FakeClock) {
  const queue = new MemoryForwardQueue(() => clock.now());
  const events = await signChain(testSigner('t-1'), 's-1', 't-1', 30);
  queue.appendEvents('t-1', events.slice(0, 10)); // day 0
  clock.advance(10 * DAY_MS);
  queue.appendEvents('t-1', events.slice(10, 20)); // day 10
  clock.advance(10 * DAY_MS);
  queue.appendEvents('t-1', events.slice(20)); // day 20
  return queue;
}

describe('retention', () => {
  it('retention - deletes events the cloud accepted more than the window ago, counting from the acceptance', async () => {
    const clock = new FakeClock();
    const queue = await queueWithHistory(clock);
    await queue.advanceCursor(15); // day 20: the cloud accepts seq 1–15 (stored on days 0 and 10)
    clock.advance(15 * DAY_MS); // day 35: stored up to 35 days ago, but accepted only 15 days ago
    expect(await runRetention(queue, clock, options)).toMatchObject({ deleted: 0, bounded: false });
    clock.advance(16 * DAY_MS); // day 51: accepted 31 days ago
    const run = await runRetention(queue, clock, options);
    expect(run).toMatchObject({ deleted: 15, bounded: false });
    expect(queue.entries.map((e) => (e.kind === 'event' ? e.seq : 0))[0]).toBe(16);
    clock.advance(100 * DAY_MS); // everything is old now, but only pos ≤ 15 is accepted
    const again = await runRetention(queue, clock, options);
    expect(again.deleted).toBe(0);
    expect(queue.entries.length).toBe(15);
    expect(queue.backlog().events).toBe(15);
  });

  it('retention - a run stops at its bound and the next run goes on', async () => {
    const clock = new FakeClock();
    const queue = await queueWithHistory(clock);
    await queue.advanceCursor(30);
    clock.advance(365 * DAY_MS); // accepted a year ago
    const first = await runRetention(queue, clock, { ...options, retentionMaxEntriesPerRun: 12 });
    expect(first).toMatchObject({ deleted: 12, bounded: true });
    const second = await runRetention(queue, clock, { ...options, retentionMaxEntriesPerRun: 12 });
    expect(second).toMatchObject({ deleted: 12, bounded: true });
    const third = await runRetention(queue, clock, { ...options, retentionMaxEntriesPerRun: 12 });
    expect(third).toMatchObject({ deleted: 6, bounded: false });
  });

  it('retention - the node-cron job is scheduled without overlap and removed on stop', async () => {
    const clock = new FakeClock();
    const queue = new MemoryForwardQueue(() => clock.now());
    const job = new RetentionJob(queue, clock, silentLogger, options);
    const task = [...cron.getTasks().values()].find((t) => t.name === RETENTION_JOB_NAME);
    expect(task).toBe(job.task);
    expect(task?.getPattern()).toBe('17 3 * * *');
    await job.task.execute(); // node-cron runs the task function itself
    expect(job.lastRun).toMatchObject({ deleted: 0 });
    await job.stop();
    expect(job.state).toBe('stopped');
    expect([...cron.getTasks().values()].some((t) => t.name === RETENTION_JOB_NAME)).toBe(false);
    expect(() => new RetentionJob(queue, clock, silentLogger, { ...options, retentionCron: 'not a pattern' })).toThrow(TypeError);
  });
});
