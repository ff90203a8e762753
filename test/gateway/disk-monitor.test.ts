/**
 * The disk monitor's rules with an injected disk probe (the fault at the filesystem edge) and a real
 * reserve file in a temp dir: the mark is checked against the bytes about to be written, the reserve
 * counts as used whether it is on disk or released (so releasing it never reopens the gate), it is
 * released when the disk is nearly full or a write failed for lack of space, and put back when there
 * is room. The really full filesystem is test/chaos/disk-full.test.ts.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskMonitor, LEVELDB_PENDING_BYTES, RESERVE_FILE, WRITE_AMPLIFICATION, type DiskUsage } from '../../gateway/disk-monitor.js';
import { silentLogger } from '../../lib/logger.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
let dir: string | undefined;
let monitor: DiskMonitor | undefined;
afterEach(async () => {
  await monitor?.close();
  if (dir !== undefined) await removeDir(dir);
  dir = monitor = undefined;
});

async function monitorOn(usage: () => DiskUsage, reserveBytes = 8 * MiB): Promise<DiskMonitor> {
  dir = await makeTempDir('tillgate-disk-');
  monitor = new DiskMonitor({ dir, highWaterPct: 90, intervalMs: 3_600_000, reserveBytes, probe: async () => usage(), logger: silentLogger });
  await monitor.start();
  return monitor;
}

const reserveOnDisk = async () => stat(join(dir!, RESERVE_FILE)).then((s) => s.size, () => 0);

describe('disk monitor', () => {
  it('disk monitor - checks the mark against the bytes about to be written, not only the last probe', async () => {
    let used = 50 * GiB;
    const m = await monitorOn(() => ({ totalBytes: 100 * GiB, freeBytes: 100 * GiB - used }));
    expect(m.admits(1_000)).toBe(true);
    // Written since the probe, counted with LevelDB's amplification: the mark is reached before a probe says so.
    const room = 90 * GiB - 50 * GiB - 8 * MiB - LEVELDB_PENDING_BYTES;
    m.wrote(Math.floor(room / WRITE_AMPLIFICATION) - 10 * MiB);
    expect(m.admits(1_000)).toBe(true);
    m.wrote(20 * MiB);
    used = 50 * GiB; // the probe it triggers sees what a real disk would not have flushed yet
    expect(m.admits(1_000)).toBe(false);
  });

  it('disk monitor - forecasts when a filling disk reaches its mark, through the saw of compactions, and not for a steady one', async () => {
    dir = await makeTempDir('tillgate-disk-');
    let t = Date.UTC(2026, 0, 5, 9);
    let usedPct = 60;
    monitor = new DiskMonitor({ dir, highWaterPct: 90, intervalMs: 3_600_000, reserveBytes: 0, logger: silentLogger, now: () => t, probe: async () => ({ totalBytes: 100 * GiB, freeBytes: ((100 - usedPct) / 100) * 100 * GiB }) });
    await monitor.start();
    expect(monitor.fillForecast()).toBeNull();
    // Three hours of probes every 5 minutes: 0.5 % an hour, and a compaction's saw of ±0.1 %.
    for (let i = 1; i <= 36; i++) {
      t += 5 * 60_000;
      usedPct = 60 + 0.5 * (i / 12) + (i % 3 === 0 ? -0.1 : 0.1);
      await monitor.check();
    }
    const f = monitor.fillForecast();
    expect(f?.risingPctPerH).toBeCloseTo(0.5, 1);
    // From about 61.5 % at 0.5 %/h, the 90 % mark is about 57 hours away.
    expect(f!.fullInMs / 3_600_000).toBeGreaterThan(52);
    expect(f!.fullInMs / 3_600_000).toBeLessThan(62);
    // It stops filling: five hours later the mark is more than a week away (or never reached).
    const held = usedPct;
    for (let i = 0; i < 60; i++) {
      t += 5 * 60_000;
      usedPct = held + (i % 2 === 0 ? 0.05 : -0.05);
      await monitor.check();
    }
    expect(monitor.fillForecast()?.fullInMs ?? Number.POSITIVE_INFINITY).toBeGreaterThan(7 * 24 * 3_600_000);
  });

  it('disk monitor - the reserve counts as used on disk or released, is released when the disk is nearly full, and comes back', async () => {
    let free = 50 * GiB;
    const m = await monitorOn(() => ({ totalBytes: 100 * GiB, freeBytes: free }));
    await waitFor(async () => m.reserve === 'held' && (await reserveOnDisk()) === 8 * MiB, { what: 'the reserve written' });
    // Someone else fills the disk: the reserve goes, the gate stays closed (it is still counted).
    free = 4 * MiB;
    await m.check();
    expect(m.reserve).toBe('released');
    expect(await reserveOnDisk()).toBe(0);
    expect(m.accepting()).toBe(false);
    free = 4 * MiB + 8 * MiB; // what the released reserve gave back
    await m.check();
    expect(m.accepting()).toBe(false);
    // Room again: accepting, and the reserve is put back.
    free = 60 * GiB;
    await m.check();
    expect(m.accepting()).toBe(true);
    await waitFor(async () => m.reserve === 'held' && (await reserveOnDisk()) === 8 * MiB, { what: 'the reserve back' });
  });

  it('disk monitor - a write that failed for lack of space releases the reserve and stops accepting', async () => {
    let free = 50 * GiB;
    const m = await monitorOn(() => ({ totalBytes: 100 * GiB, freeBytes: free }));
    await waitFor(() => m.reserve === 'held', { what: 'the reserve written' });
    free = 0;
    await m.diskFull();
    expect(m.reserve).toBe('released');
    expect(m.accepting()).toBe(false);
    expect(m.admits(1)).toBe(false);
  });

  it('disk monitor - before the store opens, a full disk gets the reserve back; the error at start names the cause', async () => {
    let free = 50 * GiB;
    const m = await monitorOn(() => ({ totalBytes: 100 * GiB, freeBytes: free }));
    await waitFor(() => m.reserve === 'held', { what: 'the reserve written' });
    await m.close();
    monitor = undefined;
    free = MiB;
    const usage = await DiskMonitor.beforeOpen(dir!, 8 * MiB, async () => ({ totalBytes: 100 * GiB, freeBytes: free }), silentLogger);
    expect(usage?.freeBytes).toBe(MiB);
    expect(await reserveOnDisk()).toBe(0);
    const err = DiskMonitor.diskFullAtStart(dir!, { totalBytes: 100 * GiB, freeBytes: 0 }, new Error('IO error: No space left on device'));
    expect(err).toMatchObject({ code: 'DISK_FULL' });
    expect(err.message).toContain('0 bytes free');
  });
});
