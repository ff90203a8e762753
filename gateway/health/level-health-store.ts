/**
 * The production HealthStore: three LevelDB keyspaces of the gateway's one database
 * (gateway/store/sections.ts): `health` (terminal samples by terminal and arrival time), `wan`
 * (probe results by time) and `rollup` (1-minute and 1-hour roll-ups and the job's cursor).
 * Writes are queued and batched unsynced (telemetry, not money: DESIGN §4's durability is for
 * payments); raw samples are trimmed per terminal to `perTerminal`, probes to `wanProbesKeep`.
 */
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { pad, terminalRange } from '../store/keys.js';
import { del, put, writeBatch, type BatchOp, type Db, type Section, type Sections } from '../store/sections.js';
import { DAY_MS, HealthStoreBase } from './health-base.js';
import {
  ROLLUP_RESOLUTIONS, type HealthEntry, type HealthRetention, type HealthSubject, type PruneRun, type Rollup, type RollupCursor,
  type RollupOptions, type RollupResolution, type RollupRun, type WanProbe,
} from './health-store.js';
import { planRollup, type RollupReader } from './rollup-run.js';

export interface HealthStoreLimits {
  /** Raw samples kept per terminal; older ones are trimmed. */
  readonly perTerminal: number;
  /** Samples and probes waiting to be written; past it new ones are dropped and counted. */
  readonly queueMax: number;
  /** Terminals the store tracks (the gateway's enrolled-terminal bound). */
  readonly maxTerminals: number;
}

/** Trim a terminal's samples every this many writes (a trim is one short reverse scan). */
const TRIM_EVERY = 64;
/** Most deletes in one trim, so a trim stays short. */
const TRIM_MAX_DELETES = 1_000;
const CURSOR_KEY = '~cursor';

type QueueItem = { kind: 'sample'; entry: HealthEntry } | { kind: 'probe'; probe: WanProbe };

const rollupPrefix = (resolution: RollupResolution, subject: HealthSubject): string =>
  subject.kind === 'wan' ? `${resolution}!w!` : `${resolution}!t!${subject.terminal}!`;
const rollupKey = (r: Rollup): string => `${rollupPrefix(r.resolution, r)}${pad(r.startMs)}`;

export class LevelHealthStore extends HealthStoreBase {
  readonly #db: Db;
  readonly #s: Pick<Sections, 'health' | 'wanProbes' | 'healthRollups'>;
  readonly #limits: HealthStoreLimits;
  readonly #logger: Logger;
  readonly #terminals = new Set<string>();
  readonly #sinceTrim = new Map<string, number>();
  #wanCount = 0;
  #queue: QueueItem[] = [];
  #flushing: Promise<void> | null = null;

  private constructor(db: Db, sections: Pick<Sections, 'health' | 'wanProbes' | 'healthRollups'>, clock: Clock, limits: HealthStoreLimits, logger: Logger) {
    super(clock);
    this.#db = db;
    this.#s = sections;
    this.#limits = limits;
    this.#logger = logger;
  }

  /** Opens over an open database: learns the terminals with samples and the probe count. */
  static async open(db: Db, sections: Pick<Sections, 'health' | 'wanProbes' | 'healthRollups'>, clock: Clock, limits: HealthStoreLimits, logger: Logger): Promise<LevelHealthStore> {
    const store = new LevelHealthStore(db, sections, clock, limits, logger);
    await store.#load();
    return store;
  }

  terminals(): readonly string[] {
    return [...this.#terminals];
  }

  protected write(item: QueueItem): boolean {
    if (item.kind === 'sample' && this.#terminals.size < this.#limits.maxTerminals) this.#terminals.add(item.entry.terminal);
    if (this.#queue.length >= this.#limits.queueMax) return false;
    this.#queue.push(item);
    this.#flushing ??= this.#flush();
    return true;
  }

  protected async readSamples(terminal: string, fromMs: number, toMs: number, limit: number): Promise<HealthEntry[]> {
    const out: HealthEntry[] = [];
    for await (const value of this.#s.health.values({ gte: `${terminal}!${pad(fromMs)}`, lt: toMs >= Number.MAX_SAFE_INTEGER ? `${terminal}"` : `${terminal}!${pad(toMs)}`, limit })) {
      out.push(value as HealthEntry);
    }
    return out;
  }

  protected async readProbes(fromMs: number, toMs: number, limit: number): Promise<WanProbe[]> {
    const out: WanProbe[] = [];
    for await (const value of this.#s.wanProbes.values({ gte: pad(fromMs), lt: pad(Math.min(toMs, Number.MAX_SAFE_INTEGER)), limit })) out.push(value as WanProbe);
    return out;
  }

  protected async readRollups(subject: HealthSubject, resolution: RollupResolution, fromMs: number, toMs: number, limit: number): Promise<Rollup[]> {
    const prefix = rollupPrefix(resolution, subject);
    const out: Rollup[] = [];
    for await (const value of this.#s.healthRollups.values({ gte: `${prefix}${pad(fromMs)}`, lt: `${prefix}${pad(Math.min(toMs, Number.MAX_SAFE_INTEGER))}`, limit })) {
      out.push(value as Rollup);
    }
    return out;
  }

  protected async rollUpImpl(nowMs: number, options: RollupOptions): Promise<RollupRun> {
    await this.#flushPending();
    const cursor = (await this.#s.healthRollups.get(CURSOR_KEY)) as RollupCursor | undefined;
    const reader: RollupReader = {
      terminals: () => this.terminals(),
      samples: (t, from, to, limit) => this.readSamples(t, from, to, limit),
      sampleBefore: async (t, ms) => {
        for await (const value of this.#s.health.values({ gte: `${t}!`, lt: `${t}!${pad(ms)}`, reverse: true, limit: 1 })) return value as HealthEntry;
        return undefined;
      },
      probes: (from, to, limit) => this.readProbes(from, to, limit),
      minuteRollups: (subject, from, to, limit) => this.readRollups(subject, '1m', from, to, limit),
    };
    const plan = await planRollup(reader, cursor, nowMs, options);
    const ops: BatchOp[] = plan.rollups.map((r) => put(this.#s.healthRollups, rollupKey(r), r));
    ops.push(put(this.#s.healthRollups, CURSOR_KEY, plan.cursor));
    await writeBatch(this.#db, ops, false);
    return plan.run;
  }

  protected async pruneImpl(nowMs: number, retention: HealthRetention): Promise<PruneRun> {
    await this.#flushPending();
    let budget = retention.maxDeletesPerRun;
    let deleted = 0;
    const subjects: HealthSubject[] = [...this.terminals().map((terminal) => ({ kind: 'terminal', terminal }) as const), { kind: 'wan' }];
    for (const resolution of ROLLUP_RESOLUTIONS) {
      const days = resolution === '1m' ? retention.minuteRollupDays : retention.hourRollupDays;
      const cutoff = Math.max(0, nowMs - days * DAY_MS);
      for (const subject of subjects) {
        if (budget <= 0) break;
        const prefix = rollupPrefix(resolution, subject);
        const n = await this.#deleteRange(this.#s.healthRollups, { gte: `${prefix}${pad(0)}`, lt: `${prefix}${pad(cutoff)}` }, budget);
        budget -= n;
        deleted += n;
      }
    }
    const excess = Math.min(budget, this.#wanCount - retention.wanProbesKeep);
    if (excess > 0) {
      const n = await this.#deleteRange(this.#s.wanProbes, {}, excess);
      this.#wanCount -= n;
      budget -= n;
      deleted += n;
    }
    return { deleted, bounded: budget <= 0 };
  }

  protected async flushImpl(): Promise<void> {
    await this.#flushPending();
  }

  protected async closeImpl(): Promise<void> {
    await this.#flushPending();
  }

  async #flushPending(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
  }

  async #deleteRange(section: Section, range: { gte?: string; lt?: string }, limit: number): Promise<number> {
    const ops: BatchOp[] = [];
    for await (const key of section.keys({ ...range, limit })) ops.push(del(section, key));
    await writeBatch(this.#db, ops, false);
    return ops.length;
  }

  async #load(): Promise<void> {
    // One seek per terminal: the first key of each terminal, then past its range.
    const it = this.#s.health.keys();
    try {
      for (let key = await it.next(); key !== undefined && this.#terminals.size < this.#limits.maxTerminals; key = await it.next()) {
        const terminal = key.slice(0, key.indexOf('!'));
        this.#terminals.add(terminal);
        it.seek(`${terminal}"`);
      }
    } finally {
      await it.close();
    }
    for await (const _ of this.#s.wanProbes.keys()) this.#wanCount++;
    for await (const key of this.#s.wanProbes.keys({ reverse: true, limit: 1 })) this.lastWanAtMs = Number(key);
  }

  async #flush(): Promise<void> {
    // Yield once so the samples of one burst share a batch.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        const ops: BatchOp[] = batch.map((item) =>
          item.kind === 'sample'
            ? put(this.#s.health, `${item.entry.terminal}!${pad(item.entry.receivedAtMs)}`, item.entry)
            : put(this.#s.wanProbes, pad(item.probe.atMs), item.probe),
        );
        await writeBatch(this.#db, ops, false);
        for (const item of batch) {
          if (item.kind === 'probe') {
            this.#wanCount++;
            continue;
          }
          const t = item.entry.terminal;
          const n = (this.#sinceTrim.get(t) ?? 0) + 1;
          this.#sinceTrim.set(t, n % TRIM_EVERY);
          if (n >= TRIM_EVERY) await this.#trim(t);
        }
      }
    } catch (err) {
      this.#logger.warn('health samples not written', { err });
    } finally {
      this.#flushing = null;
    }
  }

  async #trim(terminal: string): Promise<void> {
    const ops: BatchOp[] = [];
    let seen = 0;
    for await (const key of this.#s.health.keys({ ...terminalRange(terminal), reverse: true })) {
      if (++seen <= this.#limits.perTerminal) continue;
      ops.push(del(this.#s.health, key));
      if (ops.length >= TRIM_MAX_DELETES) break;
    }
    await writeBatch(this.#db, ops, false);
  }
}
