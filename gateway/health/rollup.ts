/**
 * Roll-up arithmetic, pure (decisions as functions returning values): samples and probes
 * into 1-minute buckets, 1-minute buckets into hours. Counters (`reconnects`, `errors`) are summed
 * as increases; a counter that goes down means the agent restarted (DESIGN §5.3), and the new
 * value is its increase since then.
 */
import type { HealthSample } from '../../protocol/messages.js';
import {
  RESOLUTION_MS, type FieldStats, type HealthEntry, type RollupResolution, type TerminalRollup, type WanProbe, type WanRollup,
} from './health-store.js';

export const bucketStart = (ms: number, resolution: RollupResolution): number => Math.floor(ms / RESOLUTION_MS[resolution]) * RESOLUTION_MS[resolution];

class StatsBuilder {
  n = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  sum = 0;
  last = 0;
  add(v: number | null | undefined): void {
    if (typeof v !== 'number' || !Number.isFinite(v)) return;
    this.n++;
    this.min = Math.min(this.min, v);
    this.max = Math.max(this.max, v);
    this.sum += v;
    this.last = v;
  }
  merge(s: FieldStats | null): void {
    if (s === null || s.n === 0) return;
    this.n += s.n;
    this.min = Math.min(this.min, s.min);
    this.max = Math.max(this.max, s.max);
    this.sum += s.sum;
    this.last = s.last;
  }
  build(): FieldStats | null {
    return this.n === 0 ? null : { n: this.n, min: this.min, max: this.max, sum: this.sum, last: this.last };
  }
}

/** Increase of a counter from `prev` to `next`; a drop is a restart (counted from 0). */
export function counterIncrease(prev: number | undefined, next: number | undefined): { increase: number; restart: boolean } {
  if (next === undefined) return { increase: 0, restart: false };
  if (prev === undefined) return { increase: 0, restart: false };
  return next >= prev ? { increase: next - prev, restart: false } : { increase: next, restart: true };
}

const FIELDS = ['rssiDbm', 'rttMs', 'batteryPct', 'outboxDepth', 'outboxOldestAgeS'] as const;

/**
 * The 1-minute roll-ups of one terminal's samples (oldest first). `before` is the last sample
 * ahead of them, so the counters' increase across the first bucket's edge is counted.
 */
export function terminalMinuteRollups(terminal: string, before: HealthSample | undefined, entries: readonly HealthEntry[]): TerminalRollup[] {
  const out: TerminalRollup[] = [];
  let prev = before;
  let i = 0;
  while (i < entries.length) {
    const startMs = bucketStart(entries[i]!.receivedAtMs, '1m');
    const stats = Object.fromEntries(FIELDS.map((f) => [f, new StatsBuilder()])) as Record<(typeof FIELDS)[number], StatsBuilder>;
    let samples = 0;
    let reconnects = 0;
    let errors = 0;
    let restarts = 0;
    let chargingSamples = 0;
    for (; i < entries.length && bucketStart(entries[i]!.receivedAtMs, '1m') === startMs; i++) {
      const s = entries[i]!.sample;
      samples++;
      for (const f of FIELDS) stats[f].add(s[f]);
      const r = counterIncrease(prev?.reconnects, s.reconnects);
      const e = counterIncrease(prev?.errors, s.errors);
      reconnects += r.increase;
      errors += e.increase;
      if (r.restart || e.restart) restarts++;
      if (s.charging === true) chargingSamples++;
      prev = s;
    }
    out.push({
      kind: 'terminal', terminal, resolution: '1m', startMs, samples,
      rssiDbm: stats.rssiDbm.build(), rttMs: stats.rttMs.build(), batteryPct: stats.batteryPct.build(),
      outboxDepth: stats.outboxDepth.build(), outboxOldestAgeS: stats.outboxOldestAgeS.build(),
      reconnects, errors, restarts, chargingSamples,
    });
  }
  return out;
}

/** The 1-minute roll-ups of WAN probes (oldest first). */
export function wanMinuteRollups(probes: readonly WanProbe[]): WanRollup[] {
  const out: WanRollup[] = [];
  let i = 0;
  while (i < probes.length) {
    const startMs = bucketStart(probes[i]!.atMs, '1m');
    const rtt = new StatsBuilder();
    let n = 0;
    let failures = 0;
    for (; i < probes.length && bucketStart(probes[i]!.atMs, '1m') === startMs; i++) {
      const p = probes[i]!;
      n++;
      if (!p.ok) failures++;
      else rtt.add(p.rttMs);
    }
    out.push({ kind: 'wan', resolution: '1m', startMs, probes: n, failures, rttMs: rtt.build() });
  }
  return out;
}

/** Merges 1-minute roll-ups of one subject (oldest first) into hours. */
export function hourRollups<R extends TerminalRollup | WanRollup>(minutes: readonly R[]): R[] {
  const out: R[] = [];
  let i = 0;
  while (i < minutes.length) {
    const startMs = bucketStart(minutes[i]!.startMs, '1h');
    const group: R[] = [];
    for (; i < minutes.length && bucketStart(minutes[i]!.startMs, '1h') === startMs; i++) group.push(minutes[i]!);
    out.push(mergeGroup(group, startMs));
  }
  return out;
}

function mergeGroup<R extends TerminalRollup | WanRollup>(group: readonly R[], startMs: number): R {
  const first = group[0]!;
  const merged = (pick: (r: R) => FieldStats | null): FieldStats | null => {
    const b = new StatsBuilder();
    for (const r of group) b.merge(pick(r));
    return b.build();
  };
  const sum = (pick: (r: R) => number): number => group.reduce((a, r) => a + pick(r), 0);
  if (first.kind === 'wan') {
    const wan = group as readonly WanRollup[];
    const out: WanRollup = {
      kind: 'wan', resolution: '1h', startMs,
      probes: wan.reduce((a, r) => a + r.probes, 0), failures: wan.reduce((a, r) => a + r.failures, 0),
      rttMs: merged((r) => (r as WanRollup).rttMs),
    };
    return out as R;
  }
  const t = (r: R) => r as TerminalRollup;
  const out: TerminalRollup = {
    kind: 'terminal', terminal: first.terminal, resolution: '1h', startMs,
    samples: sum((r) => t(r).samples),
    rssiDbm: merged((r) => t(r).rssiDbm), rttMs: merged((r) => t(r).rttMs), batteryPct: merged((r) => t(r).batteryPct),
    outboxDepth: merged((r) => t(r).outboxDepth), outboxOldestAgeS: merged((r) => t(r).outboxOldestAgeS),
    reconnects: sum((r) => t(r).reconnects), errors: sum((r) => t(r).errors), restarts: sum((r) => t(r).restarts),
    chargingSamples: sum((r) => t(r).chargingSamples),
  };
  return out as R;
}
