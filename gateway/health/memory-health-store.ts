/**
 * An in-memory HealthStore: NOT durable, for tests and tools (`tillgate predict` needs no disk).
 * It passes the same conformance suite as the LevelDB store (test/gateway/health-store.conformance.ts),
 * with the same bounds: samples per terminal, probes kept, queue size (writes are immediate here,
 * so the queue never fills).
 */
import type { Clock } from '../../lib/clock.js';
import { DAY_MS, HealthStoreBase } from './health-base.js';
import {
  ROLLUP_RESOLUTIONS, type HealthEntry, type HealthRetention, type HealthSubject, type PruneRun, type Rollup, type RollupCursor,
  type RollupOptions, type RollupResolution, type RollupRun, type WanProbe,
} from './health-store.js';
import type { HealthStoreLimits } from './level-health-store.js';
import { planRollup } from './rollup-run.js';

const subjectKey = (resolution: RollupResolution, subject: HealthSubject): string => `${resolution}|${subject.kind === 'wan' ? 'wan' : `t:${subject.terminal}`}`;

export class MemoryHealthStore extends HealthStoreBase {
  readonly #limits: HealthStoreLimits;
  readonly #samples = new Map<string, HealthEntry[]>();
  #probes: WanProbe[] = [];
  readonly #rollups = new Map<string, Rollup[]>();
  #cursor: RollupCursor | undefined;

  constructor(clock: Clock, limits: HealthStoreLimits) {
    super(clock);
    this.#limits = limits;
  }

  terminals(): readonly string[] {
    return [...this.#samples.keys()];
  }

  protected write(item: { kind: 'sample'; entry: HealthEntry } | { kind: 'probe'; probe: WanProbe }): boolean {
    if (item.kind === 'probe') {
      this.#probes.push(item.probe);
      return true;
    }
    const t = item.entry.terminal;
    let list = this.#samples.get(t);
    if (list === undefined) {
      if (this.#samples.size >= this.#limits.maxTerminals) return false;
      list = [];
      this.#samples.set(t, list);
    }
    list.push(item.entry);
    if (list.length > this.#limits.perTerminal) list.splice(0, list.length - this.#limits.perTerminal);
    return true;
  }

  protected async readSamples(terminal: string, fromMs: number, toMs: number, limit: number): Promise<HealthEntry[]> {
    return (this.#samples.get(terminal) ?? []).filter((e) => e.receivedAtMs >= fromMs && e.receivedAtMs < toMs).slice(0, limit);
  }

  protected async readProbes(fromMs: number, toMs: number, limit: number): Promise<WanProbe[]> {
    return this.#probes.filter((p) => p.atMs >= fromMs && p.atMs < toMs).slice(0, limit);
  }

  protected async readRollups(subject: HealthSubject, resolution: RollupResolution, fromMs: number, toMs: number, limit: number): Promise<Rollup[]> {
    return (this.#rollups.get(subjectKey(resolution, subject)) ?? []).filter((r) => r.startMs >= fromMs && r.startMs < toMs).slice(0, limit);
  }

  protected async rollUpImpl(nowMs: number, options: RollupOptions): Promise<RollupRun> {
    const plan = await planRollup(
      {
        terminals: () => this.terminals(),
        samples: (t, from, to, limit) => this.readSamples(t, from, to, limit),
        sampleBefore: async (t, ms) => (this.#samples.get(t) ?? []).filter((e) => e.receivedAtMs < ms).at(-1),
        probes: (from, to, limit) => this.readProbes(from, to, limit),
        minuteRollups: (subject, from, to, limit) => this.readRollups(subject, '1m', from, to, limit),
      },
      this.#cursor,
      nowMs,
      options,
    );
    for (const r of plan.rollups) {
      const key = subjectKey(r.resolution, r);
      const list = (this.#rollups.get(key) ?? []).filter((x) => x.startMs !== r.startMs);
      list.push(r);
      list.sort((a, b) => a.startMs - b.startMs);
      this.#rollups.set(key, list);
    }
    this.#cursor = plan.cursor;
    return plan.run;
  }

  protected async pruneImpl(nowMs: number, retention: HealthRetention): Promise<PruneRun> {
    let budget = retention.maxDeletesPerRun;
    let deleted = 0;
    for (const resolution of ROLLUP_RESOLUTIONS) {
      const cutoff = nowMs - (resolution === '1m' ? retention.minuteRollupDays : retention.hourRollupDays) * DAY_MS;
      for (const [key, list] of this.#rollups) {
        if (!key.startsWith(`${resolution}|`)) continue;
        const old = Math.min(budget, list.filter((r) => r.startMs < cutoff).length);
        list.splice(0, old);
        budget -= old;
        deleted += old;
      }
    }
    const excess = Math.max(0, Math.min(budget, this.#probes.length - retention.wanProbesKeep));
    this.#probes = this.#probes.slice(excess);
    budget -= excess;
    deleted += excess;
    return { deleted, bounded: budget <= 0 };
  }

  protected async flushImpl(): Promise<void> {}
  protected async closeImpl(): Promise<void> {}
}
