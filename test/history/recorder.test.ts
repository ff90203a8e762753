/**
 * The history on a real LevelDB store with a fake clock: a night outage is kept with its start,
 * end, duration and the most that waited, and survives a restart of the recorder (a new one on the
 * same store); what ended while the gateway was off ends when it last looked; old records go.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelHistoryStore } from '../../gateway/history/history-store.js';
import { HistoryRecorder, type HistoryInput, type HistoryOptions } from '../../gateway/history/recorder.js';
import { openDb, sectionsOf, type Db } from '../../gateway/store/sections.js';
import { SealCodec, staticKeyProvider } from '../../lib/at-rest/index.js';
import { silentLogger } from '../../lib/logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const OPTIONS: HistoryOptions = { keepMs: 48 * HOUR, maxRecords: 5_000, sampleEveryMs: MIN, trimEveryMs: HOUR, trimMaxDeletes: 5_000 };
const codec = new SealCodec(staticKeyProvider([{ id: 'k-1', key: Buffer.alloc(32, 3) }], 'k-1'));

function input(offline: boolean, events: number, extra: HistoryInput['problems'] = []): HistoryInput {
  const backlog = { atMs: 0, events, payments: events };
  return {
    problems: [...(offline ? [{ code: 'WAN_OFFLINE', subject: 'wan', level: 'alarm' as const, title: 'Internet down' }] : []), ...extra],
    link: { offline, reason: offline ? 'NETWORK' : null, backlog, amountByCurrencyMinor: events === 0 ? {} : { EUR: events * 250 } },
    backlog,
  };
}

describe('history recorder', () => {
  let dir = '';
  let db: Db;
  let store: LevelHistoryStore;
  let clock: FakeClock;

  beforeEach(async () => {
    dir = await makeTempDir('tillgate-history-');
    db = openDb(dir);
    await db.open();
    store = new LevelHistoryStore(db, sectionsOf(db, codec).history);
    clock = new FakeClock(Date.UTC(2026, 10, 22, 1, 0)); // 01:00 UTC
  });
  afterEach(async () => {
    await db.close();
    await removeDir(dir);
  });

  /** Looks every 15 s for `ms`, with `look` deciding what is true. */
  async function run(recorder: HistoryRecorder, ms: number, look: (tMs: number) => HistoryInput): Promise<void> {
    for (let t = 0; t < ms; t += 15_000) {
      await recorder.tick(look(t));
      clock.advance(15_000);
    }
  }

  it('history - a night outage is kept with start, end, duration and the most waiting, and survives a restart', async () => {
    const first = new HistoryRecorder(store, clock, silentLogger, OPTIONS);
    await first.open(clock.now());
    await run(first, 70 * MIN, () => input(false, 0)); // until 02:10
    const downAt = clock.now();
    // 2 h 20 min down, a payment every minute piling up, then the link is back and it drains.
    await run(first, 140 * MIN, (t) => input(true, Math.floor(t / MIN)));
    const upAt = clock.now();
    await run(first, 10 * MIN, () => input(false, 0));
    await first.close();

    clock.advance(4 * HOUR); // the gateway is restarted in the morning
    const second = new HistoryRecorder(store, clock, silentLogger, OPTIONS);
    await second.open(clock.now());
    await second.tick(input(false, 0));
    const h = second.snapshot();
    expect(h.outages).toEqual([{ startedAtMs: downAt, endedAtMs: upAt, reason: 'NETWORK', peakEvents: 139, peakPayments: 139, peakAmountByCurrencyMinor: { EUR: 34_750 } }]);
    expect(h.alarms.filter((a) => a.code === 'WAN_OFFLINE')).toEqual([{ code: 'WAN_OFFLINE', subject: 'wan', level: 'alarm', title: 'Internet down', startedAtMs: downAt, endedAtMs: upAt }]);
    expect(h.alarms.filter((a) => a.code === 'GATEWAY_STARTED')).toHaveLength(2);
    expect(Math.max(...h.samples.map((s) => s.events))).toBe(139);
    // One point a minute, not one per look.
    expect(h.samples.length).toBe(220 + 1);
  });

  it('history - an alarm that ended while the gateway was off ends when it last looked, one still true goes on', async () => {
    const silent = { code: 'TERMINAL_SILENT', subject: 't-07', level: 'warn' as const, title: 'Till not seen' };
    const first = new HistoryRecorder(store, clock, silentLogger, OPTIONS);
    await first.open(clock.now());
    const startedAt = clock.now();
    await run(first, 5 * MIN, () => input(true, 4, [silent]));
    const lastLook = clock.now() - 60_000; // the last sample was taken on a whole minute
    await first.close();
    clock.advance(3 * HOUR);
    const second = new HistoryRecorder(store, clock, silentLogger, OPTIONS);
    await second.open(clock.now());
    await second.tick(input(false, 0, [silent]));
    const h = second.snapshot();
    expect(h.alarms.find((a) => a.code === 'WAN_OFFLINE')).toMatchObject({ startedAtMs: startedAt, endedAtMs: lastLook });
    expect(h.alarms.find((a) => a.code === 'TERMINAL_SILENT')).toMatchObject({ startedAtMs: startedAt, endedAtMs: null });
    expect(h.outages[0]).toMatchObject({ startedAtMs: startedAt, endedAtMs: lastLook });
  });

  it('history - an alarm begun after the last sample and still on at a restart ends at the last thing written, not at its start', async () => {
    const blocked = { code: 'TERMINAL_BLOCKED', subject: 't-02', level: 'alarm' as const, title: 'Till refusing payments' };
    const first = new HistoryRecorder(store, clock, silentLogger, OPTIONS);
    await first.open(clock.now());
    await first.tick(input(false, 0)); // a sample
    clock.advance(20_000);
    await first.tick(input(false, 0, [blocked])); // begins; no sample within the minute
    const began = clock.now();
    clock.advance(20_000);
    await first.tick(input(true, 3, [blocked])); // the link goes down: written
    const lastWritten = clock.now();
    await first.close();
    clock.advance(HOUR);
    const second = new HistoryRecorder(store, clock, silentLogger, OPTIONS);
    await second.open(clock.now());
    await second.tick(input(false, 0));
    const alarm = second.snapshot().alarms.find((a) => a.code === 'TERMINAL_BLOCKED');
    expect(alarm).toMatchObject({ startedAtMs: began, endedAtMs: lastWritten });
    await second.close();
  });

  it('history - records older than the kept window are deleted, an alarm still on is kept however old', async () => {
    const silent = { code: 'TERMINAL_SILENT', subject: 't-07', level: 'warn' as const, title: 'Till not seen' };
    const recorder = new HistoryRecorder(store, clock, silentLogger, { ...OPTIONS, keepMs: 24 * HOUR, trimEveryMs: 30 * MIN });
    await recorder.open(clock.now());
    await run(recorder, 10 * MIN, () => input(true, 2, [silent]));
    await run(recorder, 10 * MIN, () => input(false, 0, [silent]));
    clock.advance(30 * HOUR);
    await recorder.tick(input(false, 0, [silent]));
    const h = recorder.snapshot();
    expect(h.outages).toEqual([]);
    expect(h.alarms.map((a) => a.code)).toEqual(['TERMINAL_SILENT']);
    const onDisk = await store.load(0, 10_000);
    expect(onDisk.outages).toEqual([]);
    expect(onDisk.samples.every((s) => s.atMs >= clock.now() - 24 * HOUR)).toBe(true);
    expect(onDisk.alarms.map((a) => a.code)).toEqual(['TERMINAL_SILENT']);
    await recorder.close();
  });
});
