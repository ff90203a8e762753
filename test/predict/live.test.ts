/** The live adapter: WAN probes kept by the health history are scored exactly as a replay of that history scores them. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryHealthStore } from '../../gateway/health/memory-health-store.js';
import { recordWanProbes } from '../../gateway/health/wire.js';
import { LivePredictor } from '../../gateway/predict/live.js';
import { probeLine } from '../../gateway/predict/records.js';
import { alertLine, replay } from '../../gateway/predict/replay.js';
import { FleetScorer } from '../../gateway/predict/scorer.js';
import { fileSource } from '../../gateway/predict/sources.js';
import type { ProbeResult } from '../../gateway/wan/wan-monitor.js';
import { silentLogger } from '../../lib/logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { testModel } from './support/test-model.js';

const T0 = Date.UTC(2026, 0, 5, 9);

describe('live prediction', () => {
  it('live - WAN probes the history keeps are scored as a replay of that history scores them', async () => {
    const clock = new FakeClock(T0);
    const health = new MemoryHealthStore(clock, { perTerminal: 100, queueMax: 100, maxTerminals: 10 });
    const predictor = new LivePredictor(testModel(), { store: 's-1', maxSubjects: 10, alertsKeep: 100 }, silentLogger);
    const listeners = new Set<(p: ProbeResult) => void>();
    const monitor = { onProbe: (l: (p: ProbeResult) => void) => (listeners.add(l), () => listeners.delete(l)) };
    const off = recordWanProbes(health, monitor, (p) => predictor.observeProbe(p));
    const probe = (ok: boolean, rttMs: number | null) => listeners.forEach((l) => l({ atMs: clock.now(), ok, rttMs }));
    for (let i = 0; i < 200; i++, clock.advance(15_000)) probe(true, 40 + (i % 7));
    for (let i = 0; i < 80; i++, clock.advance(15_000)) probe(i % 3 !== 0, i % 3 === 0 ? null : 60); // a third lost
    for (let i = 0; i < 200; i++, clock.advance(15_000)) probe(true, 40);
    probe(true, 40);
    probe(true, 41); // same instant: the history moves it 1 ms on, and so does the score
    off();
    const live = predictor.recentAlerts(100).reverse().map(({ atMs: _a, ...a }) => alertLine(a));
    expect(live.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual(['warning', 'clear']);

    const dir = await makeTempDir('tillgate-live-');
    try {
      const file = join(dir, 'wan.jsonl');
      await writeFile(file, `${(await health.recentWan(0, 10_000)).map((p) => probeLine('s-1', p)).join('\n')}\n`);
      const replayed: string[] = [];
      const summary = await replay(fileSource(file), new FleetScorer(testModel()), (l) => replayed.push(l));
      expect(summary.records).toBe(482);
      expect(replayed).toEqual(live);
    } finally {
      await removeDir(dir);
    }
  });

  it('live - keeps a bounded list of level changes, newest first, and counts them', () => {
    const predictor = new LivePredictor(testModel(), { store: 's-1', maxSubjects: 10, alertsKeep: 1 }, silentLogger);
    let t = T0;
    for (let i = 0; i < 400; i++, t += 15_000) predictor.observeProbe({ atMs: t, ok: !(i >= 100 && i < 140 && i % 2 === 0), rttMs: 40 });
    expect(predictor.recentAlerts(10)).toHaveLength(1);
    expect(predictor.recentAlerts(10)[0]?.level).toBe('clear');
    expect(predictor.alertCounts()).toMatchObject({ warning: 1, clear: 1 });
    expect(predictor.wan()).toMatchObject({ subject: 'wan', level: 'clear' });
  });
});
