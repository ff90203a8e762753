/**
 * Failure-prediction benchmark: scoring throughput on one core (the
 * gateway scores on its event loop) and memory per scored terminal.
 * 1. The scorer alone: pre-parsed §3.7 records of a simulated fleet through FleetScorer.ingest.
 * 2. `predict replay` end to end in-process: JSON lines parsed (schema-checked) and scored.
 * 3. Memory: heap per terminal scorer (detectors, features, alert state), from a few thousand
 *    scorers after their first hour of samples, measured around a forced GC.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { defaultModel } from '../gateway/predict/model/default.js';
import { parseRecordLine, type ParsedRecord } from '../gateway/predict/records.js';
import { FleetScorer, SubjectScorer } from '../gateway/predict/scorer.js';
import { fleetSubjects, mergedRecords } from '../gateway/predict/sim/fleet.js';
import { simRecordToParsed } from '../gateway/predict/sources.js';
import type { Bench, BenchReport, Figure } from './report.js';

/** A fleet big enough for a steady rate (~0.6 M records), small enough to hold in memory. */
const FLEET = { seed: 4242, stores: 8, terminalsPerStore: 5, days: 2, startMs: Date.UTC(2026, 0, 5), sampleIntervalMs: 30_000 };
const MEMORY_TERMINALS = 2_000;
const MEMORY_SAMPLES = 120;

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function scoreAll(records: readonly ParsedRecord[]): { perS: number; alerts: number } {
  const scorer = new FleetScorer(defaultModel());
  let alerts = 0;
  const t0 = performance.now();
  for (const r of records) if (scorer.ingest(r) !== null) alerts++;
  return { perS: records.length / ((performance.now() - t0) / 1000), alerts };
}

function replayAll(lines: readonly string[]): number {
  const scorer = new FleetScorer(defaultModel());
  const t0 = performance.now();
  for (const line of lines) {
    const r = parseRecordLine(line);
    if (r.ok) scorer.ingest(r.record);
  }
  return lines.length / ((performance.now() - t0) / 1000);
}

function bytesPerTerminal(): number {
  const gc = gcFunction();
  const model = defaultModel();
  const sample = { at: '', rssiDbm: -60, rttMs: 8, reconnects: 1, outboxDepth: 0, outboxOldestAgeS: 0, errors: 2, batteryPct: 70, charging: false, uptimeS: 100, firmware: 'x' };
  gc();
  const before = process.memoryUsage().heapUsed;
  const scorers: SubjectScorer[] = [];
  for (let i = 0; i < MEMORY_TERMINALS; i++) {
    const s = new SubjectScorer(model, 's-1', `terminal/t-${i}`, 'terminal');
    for (let k = 0; k < MEMORY_SAMPLES; k++) {
      s.observe({ kind: 'health', store: 's-1', terminal: `t-${i}`, subject: s.subject, at: '', atMs: k * 30_000, sample: { ...sample, batteryPct: 70 - k / 10, errors: 2 + (k % 7 === 0 ? 1 : 0) } });
      s.step();
    }
    scorers.push(s);
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  if (scorers.length !== MEMORY_TERMINALS) throw new TypeError('unreachable');
  return (after - before) / MEMORY_TERMINALS;
}

export const bench: Bench = {
  name: 'predict',
  async run(): Promise<BenchReport> {
    const raw = [...mergedRecords(fleetSubjects(FLEET))];
    const records = raw.map(simRecordToParsed);
    const lines = raw.map(({ atMs: _atMs, ...r }) => JSON.stringify(r));
    scoreAll(records.slice(0, 50_000)); // warm up the JIT
    const scored = scoreAll(records);
    const replayPerS = replayAll(lines);
    const perTerminal = bytesPerTerminal();
    const figures: Figure[] = [
      { metric: `scoring, pre-parsed records (${records.length.toLocaleString('en-US')}: ${FLEET.stores * FLEET.terminalsPerStore} terminals + ${FLEET.stores} WAN links, ${FLEET.days} days), one core`, value: scored.perS, unit: 'records/s' },
      { metric: 'replay: JSON line parsed with the §3.7 schema and scored, one core', value: replayPerS, unit: 'records/s', target: 'tens of thousands (wire contract §3.7)' },
      { metric: 'memory per scored terminal (detectors, features, alert state)', value: perTerminal / 1024, unit: 'KiB' },
    ];
    return {
      name: 'predict',
      figures,
      notes: [
        `model ${defaultModel().version}; ${scored.alerts} level changes while scoring`,
        'a store of 40 terminals sampling every 30 s sends 1.3 samples/s: scoring costs the gateway well under 1 % of a core',
      ],
    };
  },
};
