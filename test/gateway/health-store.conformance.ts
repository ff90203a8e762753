/**
 * The HealthStore behaviour, written once and run against every implementation: samples
 * kept in arrival order with bounded history, WAN probes, 1-minute and 1-hour roll-ups by the
 * cursor (idempotent, bounded per run), retention, reopening (durable ones), and a closed store
 * failing with a code.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthStore, HealthRetention, RollupOptions, TerminalRollup, WanRollup } from '../../gateway/health/health-store.js';
import { codeOf, codeOfAsync } from '../support/codes.js';
import { FakeClock } from '../support/fake-clock.js';

export interface HealthStoreFixture {
  readonly store: HealthStore;
  /** A new instance over the same storage (durable implementations only). */
  reopen?(): Promise<HealthStore>;
  cleanup(): Promise<void>;
}

export interface HealthStoreFactory {
  make(clock: FakeClock, limits: { perTerminal: number; queueMax: number; maxTerminals: number }): Promise<HealthStoreFixture>;
  readonly durable: boolean;
}

/** 09:00:00 UTC: minute and hour boundaries are easy to read. */
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const MIN = 60_000;
const ROLLUP: RollupOptions = { graceMs: 1_000, maxMinutesPerRun: 600 };
const KEEP_ALL: HealthRetention = { wanProbesKeep: 1_000_000, minuteRollupDays: 365, hourRollupDays: 365, maxDeletesPerRun: 1_000_000 };
const LIMITS = { perTerminal: 1_000, queueMax: 10_000, maxTerminals: 100 };

const sample = (fields: Record<string, unknown>) => JSON.stringify({ at: '2026-11-22T09:00:00Z', ...fields });

export function healthStoreConformance(name: string, factory: HealthStoreFactory): void {
  describe(`${name} - health store conformance`, () => {
    let fx: HealthStoreFixture | undefined;
    let reopened: HealthStore | undefined;
    const open = async (clock: FakeClock, limits = LIMITS) => {
      fx = await factory.make(clock, limits);
      return fx.store;
    };
    afterEach(async () => {
      if (reopened?.state === 'open') await reopened.close();
      if (fx?.store.state === 'open') await fx.store.close();
      await fx?.cleanup();
      fx = undefined;
      reopened = undefined;
    });

    it(`${name} - starts empty`, async () => {
      const s = await open(new FakeClock(T0));
      expect(s.state).toBe('open');
      expect(s.latest('t-1')).toBeUndefined();
      expect(await s.recent('t-1', 0, 10)).toEqual([]);
      expect(await s.recentWan(0, 10)).toEqual([]);
      expect(s.terminals()).toEqual([]);
      expect(s.stats).toEqual({ accepted: 0, invalid: 0, dropped: 0, wanProbes: 0 });
    });

    it(`${name} - keeps valid samples in arrival order with unknown fields, and counts invalid ones`, async () => {
      const clock = new FakeClock(T0);
      const s = await open(clock);
      expect(s.record('t-1', Buffer.from(sample({ rssiDbm: -60, newField: 'kept' })))?.receivedAtMs).toBe(T0);
      clock.advance(30_000);
      expect(s.record('t-1', 'not json')).toBeUndefined();
      expect(s.record('t-1', sample({ rssiDbm: 20 }))).toBeUndefined();
      expect(s.record('t-1', sample({ pad: 'x'.repeat(5_000) }))).toBeUndefined();
      s.record('t-1', sample({ rssiDbm: -70, charging: true, uptimeS: 12, firmware: 'fw-1' }));
      s.record('t-2', sample({ rssiDbm: -50 }));
      await s.flush();
      const recent = await s.recent('t-1', 0, 10);
      expect(recent.map((e) => e.sample.rssiDbm)).toEqual([-60, -70]);
      expect(recent[0]?.sample).toMatchObject({ newField: 'kept' });
      expect(recent[1]?.sample).toMatchObject({ charging: true, uptimeS: 12, firmware: 'fw-1' });
      expect((await s.recent('t-1', T0 + 1, 10)).map((e) => e.receivedAtMs)).toEqual([T0 + 30_000]);
      expect(await s.recent('t-1', 0, 1)).toHaveLength(1);
      expect(s.latest('t-1')?.sample.rssiDbm).toBe(-70);
      expect([...s.terminals()].sort()).toEqual(['t-1', 't-2']);
      expect(s.stats).toMatchObject({ accepted: 3, invalid: 3 });
    });

    it(`${name} - gives samples strictly increasing arrival times when the clock stands still`, async () => {
      const s = await open(new FakeClock(T0));
      const times = [1, 2, 3].map((i) => s.record('t-1', sample({ errors: i }))?.receivedAtMs);
      await s.flush();
      expect(times).toEqual([T0, T0 + 1, T0 + 2]);
      expect((await s.recent('t-1', 0, 10)).map((e) => e.sample.errors)).toEqual([1, 2, 3]);
    });

    it(`${name} - tells listeners about every accepted sample until they unsubscribe`, async () => {
      const s = await open(new FakeClock(T0));
      const seen: string[] = [];
      const off = s.onSample((e) => seen.push(`${e.terminal}:${String(e.sample.errors)}`));
      s.record('t-1', sample({ errors: 1 }));
      s.record('t-1', 'bad');
      off();
      s.record('t-1', sample({ errors: 2 }));
      expect(seen).toEqual(['t-1:1']);
    });

    it(`${name} - bounds each terminal's raw samples and keeps the newest`, async () => {
      const clock = new FakeClock(T0);
      const s = await open(clock, { ...LIMITS, perTerminal: 10 });
      for (let i = 1; i <= 200; i++) {
        s.record('t-1', sample({ errors: i }));
        clock.advance(1_000);
        if (i % 50 === 0) await s.flush();
      }
      await s.flush();
      const kept = await s.recent('t-1', 0, 1_000);
      // Trimming may run every few dozen writes: bounded, not exact.
      expect(kept.length).toBeGreaterThanOrEqual(10);
      expect(kept.length).toBeLessThanOrEqual(10 + 64);
      expect(kept.at(-1)?.sample.errors).toBe(200);
      expect(kept[0]?.sample.errors).toBeGreaterThan(100);
    });

    it(`${name} - keeps WAN probes in time order with strictly increasing times`, async () => {
      const clock = new FakeClock(T0);
      const s = await open(clock);
      s.recordWan({ atMs: T0, ok: true, rttMs: 40 });
      expect(s.recordWan({ atMs: T0, ok: false, rttMs: null }).atMs).toBe(T0 + 1);
      s.recordWan({ atMs: T0 + 15_000, ok: true, rttMs: Number.NaN });
      await s.flush();
      expect(await s.recentWan(0, 10)).toEqual([
        { atMs: T0, ok: true, rttMs: 40 },
        { atMs: T0 + 1, ok: false, rttMs: null },
        { atMs: T0 + 15_000, ok: true, rttMs: null },
      ]);
      expect(await s.recentWan(T0 + 2, 10)).toHaveLength(1);
      expect(s.stats.wanProbes).toBe(3);
    });

    it(`${name} - rolls samples up into minutes with counter increases across a restart, then into hours`, async () => {
      const clock = new FakeClock(T0);
      const s = await open(clock);
      // 09:00: two samples; 09:01: a restart (counters drop); 09:59: one.
      s.record('t-1', sample({ rssiDbm: -60, batteryPct: 80, reconnects: 5, errors: 1 }));
      clock.advance(30_000);
      s.record('t-1', sample({ rssiDbm: -70, batteryPct: 79, reconnects: 7, errors: 1, charging: true }));
      clock.advance(30_000);
      s.record('t-1', sample({ rssiDbm: -66, batteryPct: 79, reconnects: 1, errors: 0 }));
      clock.set(T0 + 59 * MIN + 10_000);
      s.record('t-1', sample({ rssiDbm: -64, batteryPct: 70, reconnects: 3, errors: 4 }));
      s.recordWan({ atMs: T0 + 1_000, ok: true, rttMs: 40 });
      s.recordWan({ atMs: T0 + 2_000, ok: false, rttMs: null });
      s.recordWan({ atMs: T0 + 3_000, ok: true, rttMs: 60 });
      s.recordWan({ atMs: T0 + 70_000, ok: false, rttMs: null });
      await s.flush();

      // At 09:01:30 only 09:00 has ended (plus the grace).
      clock.set(T0 + 90_000);
      const first = await s.rollUp(clock.now(), { ...ROLLUP, maxMinutesPerRun: 1 });
      expect(first.cursor.minuteMs).toBe(T0 + MIN);
      const m0 = (await s.rollups({ kind: 'terminal', terminal: 't-1' }, '1m', 0, 10)) as TerminalRollup[];
      expect(m0).toHaveLength(1);
      expect(m0[0]).toMatchObject({ startMs: T0, samples: 2, reconnects: 2, errors: 0, restarts: 0, chargingSamples: 1 });
      expect(m0[0]?.rssiDbm).toEqual({ n: 2, min: -70, max: -60, sum: -130, last: -70 });
      expect(((await s.rollups({ kind: 'wan' }, '1m', 0, 10)) as WanRollup[])[0]).toMatchObject({ startMs: T0, probes: 3, failures: 1, rttMs: { n: 2, min: 40, max: 60 } });

      // The same instant again writes nothing new.
      expect((await s.rollUp(clock.now(), ROLLUP)).written).toBe(0);

      // 10:00:30: every minute up to 10:00 and the 09:00 hour are done.
      clock.set(T0 + 60 * MIN + 30_000);
      const run = await s.rollUp(clock.now(), ROLLUP);
      expect(run.hours).toBe(1);
      const minutes = (await s.rollups({ kind: 'terminal', terminal: 't-1' }, '1m', 0, 100)) as TerminalRollup[];
      expect(minutes.map((m) => (m.startMs - T0) / MIN)).toEqual([0, 1, 59]);
      expect(minutes[1]).toMatchObject({ samples: 1, reconnects: 1, errors: 0, restarts: 1 });
      expect(minutes[2]).toMatchObject({ reconnects: 2, errors: 4 });
      const hours = (await s.rollups({ kind: 'terminal', terminal: 't-1' }, '1h', 0, 10)) as TerminalRollup[];
      expect(hours).toHaveLength(1);
      expect(hours[0]).toMatchObject({ startMs: T0, resolution: '1h', samples: 4, reconnects: 5, errors: 4, restarts: 1, chargingSamples: 1 });
      expect(hours[0]?.batteryPct).toMatchObject({ n: 4, min: 70, max: 80, last: 70 });
      const wanHours = (await s.rollups({ kind: 'wan' }, '1h', 0, 10)) as WanRollup[];
      expect(wanHours[0]).toMatchObject({ probes: 4, failures: 2 });
    });

    it(`${name} - catches up over several bounded runs`, async () => {
      const clock = new FakeClock(T0);
      const s = await open(clock);
      for (let i = 0; i < 10; i++) {
        s.record('t-1', sample({ errors: i }));
        clock.advance(MIN);
      }
      await s.flush();
      await s.rollUp(T0 - MIN + ROLLUP.graceMs + 1, ROLLUP); // cursor before the first sample
      let run = await s.rollUp(clock.now() + MIN, { ...ROLLUP, maxMinutesPerRun: 4 });
      expect(run.bounded).toBe(true);
      while (run.bounded) run = await s.rollUp(clock.now() + MIN, { ...ROLLUP, maxMinutesPerRun: 4 });
      const minutes = await s.rollups({ kind: 'terminal', terminal: 't-1' }, '1m', 0, 100);
      expect(minutes).toHaveLength(10);
    });

    it(`${name} - deletes roll-ups and probes past retention, bounded per run`, async () => {
      const clock = new FakeClock(T0);
      const s = await open(clock);
      for (let i = 0; i < 30; i++) {
        s.record('t-1', sample({ errors: 0 }));
        s.recordWan({ atMs: clock.now(), ok: true, rttMs: 30 });
        clock.advance(MIN);
      }
      await s.flush();
      await s.rollUp(T0 - MIN + ROLLUP.graceMs + 1, ROLLUP);
      await s.rollUp(clock.now() + MIN, ROLLUP);
      expect(await s.rollups({ kind: 'terminal', terminal: 't-1' }, '1m', 0, 100)).toHaveLength(30);
      // A day later, with 1-minute roll-ups kept half a day: all 60 minute roll-ups (30 per subject) go.
      const later = T0 + 86_400_000;
      const bounded = await s.prune(later, { ...KEEP_ALL, minuteRollupDays: 0.5, maxDeletesPerRun: 25 });
      expect(bounded).toEqual({ deleted: 25, bounded: true });
      const rest = await s.prune(later, { ...KEEP_ALL, minuteRollupDays: 0.5, wanProbesKeep: 10 });
      expect(rest.deleted).toBe(35 + 20);
      expect(await s.rollups({ kind: 'terminal', terminal: 't-1' }, '1m', 0, 100)).toEqual([]);
      expect(await s.rollups({ kind: 'wan' }, '1m', 0, 100)).toEqual([]);
      const probes = await s.recentWan(0, 100);
      expect(probes).toHaveLength(10);
      expect(probes[0]?.atMs).toBe(T0 + 20 * MIN);
      expect(await s.rollups({ kind: 'terminal', terminal: 't-1' }, '1h', 0, 10)).toHaveLength(0);
    });

    if (factory.durable) {
      it(`${name} - keeps samples, probes, roll-ups and the cursor across a reopen`, async () => {
        const clock = new FakeClock(T0);
        const s = await open(clock);
        s.record('t-1', sample({ errors: 1 }));
        s.recordWan({ atMs: T0, ok: true, rttMs: 33 });
        clock.advance(2 * MIN);
        await s.flush();
        const run = await s.rollUp(clock.now(), ROLLUP);
        await s.close();
        reopened = await fx!.reopen!();
        expect(reopened.terminals()).toEqual(['t-1']);
        expect((await reopened.recent('t-1', 0, 10)).map((e) => e.sample.errors)).toEqual([1]);
        expect(await reopened.recentWan(0, 10)).toEqual([{ atMs: T0, ok: true, rttMs: 33 }]);
        expect(await reopened.rollups({ kind: 'terminal', terminal: 't-1' }, '1m', 0, 10)).toHaveLength(1);
        expect((await reopened.rollUp(clock.now(), ROLLUP)).cursor).toEqual(run.cursor);
        // Probe times keep increasing after a reopen too.
        expect(reopened.recordWan({ atMs: T0 - 5, ok: true, rttMs: 1 }).atMs).toBe(T0 + 1);
      });
    }

    it(`${name} - fails every call with HEALTH_STORE_CLOSED once closed`, async () => {
      const s = await open(new FakeClock(T0));
      await s.close();
      expect(s.state).toBe('closed');
      expect(codeOf(() => s.record('t-1', sample({})))).toBe('HEALTH_STORE_CLOSED');
      expect(codeOf(() => s.recordWan({ atMs: T0, ok: true, rttMs: 1 }))).toBe('HEALTH_STORE_CLOSED');
      expect(await codeOfAsync(s.recent('t-1', 0, 1))).toBe('HEALTH_STORE_CLOSED');
      expect(await codeOfAsync(s.recentWan(0, 1))).toBe('HEALTH_STORE_CLOSED');
      expect(await codeOfAsync(s.rollups({ kind: 'wan' }, '1m', 0, 1))).toBe('HEALTH_STORE_CLOSED');
      expect(await codeOfAsync(s.rollUp(T0, ROLLUP))).toBe('HEALTH_STORE_CLOSED');
      expect(await codeOfAsync(s.prune(T0, KEEP_ALL))).toBe('HEALTH_STORE_CLOSED');
      expect(await codeOfAsync(s.flush())).toBe('HEALTH_STORE_CLOSED');
      await s.close(); // idempotent
    });
  });
}
