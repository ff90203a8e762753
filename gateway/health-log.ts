/**
 * Terminal health samples (DESIGN §5.3): `P/{terminal}/health`, QoS 0, JSON. The latest per
 * terminal is kept in memory for the status API; history goes to the `health` keyspace off the
 * ingest fast path, in unsynced batches (telemetry, not money), bounded per terminal, for the
 * failure-prediction job to read through `HealthLog`. An invalid sample is counted and dropped:
 * it is not an event, so it gets no reject.
 */
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { healthSampleSchema, MAX_HEALTH_BYTES, type HealthSample } from '../protocol/messages.js';
import { pad, terminalRange } from './store/keys.js';
import { del, put, writeBatch, type BatchOp, type Db, type Section } from './store/sections.js';

export interface HealthEntry {
  readonly terminal: string;
  /** Gateway clock when the sample arrived (the terminal's own `at` is in the sample). */
  readonly receivedAtMs: number;
  readonly sample: HealthSample;
}

/** What the status API and a failure-prediction job read. */
export interface HealthLog {
  latest(terminal: string): HealthEntry | undefined;
  /** Samples received at or after `sinceMs`, oldest first, at most `limit`. */
  recent(terminal: string, sinceMs: number, limit: number): Promise<HealthEntry[]>;
}

export interface HealthLogLimits {
  /** Samples kept on disk per terminal; older ones are trimmed. */
  readonly perTerminal: number;
  /** Samples waiting to be written; past it new ones are dropped and counted. */
  readonly queueMax: number;
}

/** Trim a terminal's history every this many writes (a trim is one short reverse scan). */
const TRIM_EVERY = 64;
/** Most deletes in one trim, so a trim stays short. */
const TRIM_MAX_DELETES = 1_000;
const MAX_RECENT = 10_000;

export class LevelHealthLog implements HealthLog {
  readonly #db: Db;
  readonly #section: Section;
  readonly #clock: Clock;
  readonly #limits: HealthLogLimits;
  readonly #logger: Logger;
  readonly #latest = new Map<string, HealthEntry>();
  readonly #sinceTrim = new Map<string, number>();
  #queue: HealthEntry[] = [];
  #flushing: Promise<void> | null = null;
  #state: 'open' | 'closed' = 'open';
  readonly stats = { accepted: 0, invalid: 0, dropped: 0 };

  constructor(db: Db, section: Section, clock: Clock, limits: HealthLogLimits, logger: Logger) {
    this.#db = db;
    this.#section = section;
    this.#clock = clock;
    this.#limits = limits;
    this.#logger = logger;
  }

  /** Validates and keeps one sample; false (and counted) when it is invalid. */
  record(terminal: string, payload: Buffer): boolean {
    const sample = parseSample(payload);
    if (sample === undefined) {
      this.stats.invalid++;
      return false;
    }
    const last = this.#latest.get(terminal);
    // Keys are per terminal and time: keep them strictly increasing so two samples never collide.
    const receivedAtMs = Math.max(this.#clock.now(), (last?.receivedAtMs ?? 0) + 1);
    const entry: HealthEntry = { terminal, receivedAtMs, sample };
    this.#latest.set(terminal, entry);
    this.stats.accepted++;
    if (this.#state !== 'open') return true;
    if (this.#queue.length >= this.#limits.queueMax) {
      this.stats.dropped++;
      return true;
    }
    this.#queue.push(entry);
    if (this.#flushing === null) this.#flushing = this.#flush();
    return true;
  }

  latest(terminal: string): HealthEntry | undefined {
    return this.#latest.get(terminal);
  }

  async recent(terminal: string, sinceMs: number, limit: number): Promise<HealthEntry[]> {
    const out: HealthEntry[] = [];
    const range = terminalRange(terminal, Math.max(0, Math.floor(sinceMs)));
    for await (const value of this.#section.values({ ...range, limit: Math.max(0, Math.min(limit, MAX_RECENT)) })) {
      out.push(value as HealthEntry);
    }
    return out;
  }

  async close(): Promise<void> {
    this.#state = 'closed';
    while (this.#flushing !== null) await this.#flushing;
  }

  async #flush(): Promise<void> {
    // Yield once so the samples of one burst share a batch.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        const ops: BatchOp[] = batch.map((e) => put(this.#section, `${e.terminal}!${pad(e.receivedAtMs)}`, e));
        await writeBatch(this.#db, ops, false);
        for (const e of batch) {
          const n = (this.#sinceTrim.get(e.terminal) ?? 0) + 1;
          this.#sinceTrim.set(e.terminal, n % TRIM_EVERY);
          if (n >= TRIM_EVERY) await this.#trim(e.terminal);
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
    for await (const key of this.#section.keys({ ...terminalRange(terminal), reverse: true })) {
      if (++seen <= this.#limits.perTerminal) continue;
      ops.push(del(this.#section, key));
      if (ops.length >= TRIM_MAX_DELETES) break;
    }
    await writeBatch(this.#db, ops, false);
  }
}

function parseSample(payload: Buffer): HealthSample | undefined {
  if (payload.length > MAX_HEALTH_BYTES) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = healthSampleSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
