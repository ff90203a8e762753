/**
 * What both HealthStore implementations share: validation, the latest sample per terminal in
 * memory, strictly increasing arrival times per subject (they are keys), listeners, counters and
 * the closed-state check. Public methods validate here; subclasses implement storage.
 */
import type { Clock } from '../../lib/clock.js';
import { TillgateError } from '../../protocol/errors.js';
import {
  HEALTH_STORE_CODES, MAX_HEALTH_READ, type HealthEntry, type HealthRetention, type HealthStats, type HealthStore, type HealthStoreState,
  type HealthSubject, type PruneRun, type Rollup, type RollupOptions, type RollupResolution, type RollupRun, type WanProbe,
} from './health-store.js';
import { parseHealthPayload } from './sample.js';

export abstract class HealthStoreBase implements HealthStore {
  protected readonly clock: Clock;
  protected readonly latestByTerminal = new Map<string, HealthEntry>();
  protected lastWanAtMs = 0;
  #state: HealthStoreState = 'open';
  readonly #listeners = new Set<(entry: HealthEntry) => void>();
  readonly #stats = { accepted: 0, invalid: 0, dropped: 0, wanProbes: 0 };

  constructor(clock: Clock) {
    this.clock = clock;
  }

  get state(): HealthStoreState {
    return this.#state;
  }

  get stats(): HealthStats {
    return this.#stats;
  }

  record(terminal: string, payload: Buffer | string): HealthEntry | undefined {
    this.assertOpen();
    const sample = parseHealthPayload(payload);
    if (sample === undefined) {
      this.#stats.invalid++;
      return undefined;
    }
    const last = this.latestByTerminal.get(terminal);
    // Keys are per terminal and time: keep them strictly increasing so two samples never collide.
    const receivedAtMs = Math.max(this.clock.now(), (last?.receivedAtMs ?? 0) + 1);
    const entry: HealthEntry = { terminal, receivedAtMs, sample };
    this.latestByTerminal.set(terminal, entry);
    this.#stats.accepted++;
    if (!this.write({ kind: 'sample', entry })) this.#stats.dropped++;
    for (const l of this.#listeners) l(entry);
    return entry;
  }

  recordWan(probe: WanProbe): WanProbe {
    this.assertOpen();
    if (!Number.isFinite(probe.atMs) || typeof probe.ok !== 'boolean') throw new TypeError('invalid WAN probe');
    const rttMs = probe.rttMs === null || !Number.isFinite(probe.rttMs) ? null : Math.max(0, probe.rttMs);
    const kept: WanProbe = { atMs: Math.max(Math.floor(probe.atMs), this.lastWanAtMs + 1), ok: probe.ok, rttMs };
    this.lastWanAtMs = kept.atMs;
    this.#stats.wanProbes++;
    if (!this.write({ kind: 'probe', probe: kept })) this.#stats.dropped++;
    return kept;
  }

  onSample(listener: (entry: HealthEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  latest(terminal: string): HealthEntry | undefined {
    return this.latestByTerminal.get(terminal);
  }

  async recent(terminal: string, sinceMs: number, limit: number): Promise<HealthEntry[]> {
    this.assertOpen();
    return this.readSamples(terminal, Math.max(0, Math.floor(sinceMs)), Number.MAX_SAFE_INTEGER, clampLimit(limit));
  }

  async recentWan(sinceMs: number, limit: number): Promise<WanProbe[]> {
    this.assertOpen();
    return this.readProbes(Math.max(0, Math.floor(sinceMs)), Number.MAX_SAFE_INTEGER, clampLimit(limit));
  }

  async rollups(subject: HealthSubject, resolution: RollupResolution, sinceMs: number, limit: number): Promise<Rollup[]> {
    this.assertOpen();
    return this.readRollups(subject, resolution, Math.max(0, Math.floor(sinceMs)), Number.MAX_SAFE_INTEGER, clampLimit(limit));
  }

  async rollUp(nowMs: number, options: RollupOptions): Promise<RollupRun> {
    this.assertOpen();
    return this.rollUpImpl(nowMs, options);
  }

  async prune(nowMs: number, retention: HealthRetention): Promise<PruneRun> {
    this.assertOpen();
    return this.pruneImpl(nowMs, retention);
  }

  async flush(): Promise<void> {
    this.assertOpen();
    await this.flushImpl();
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#listeners.clear();
    await this.closeImpl();
  }

  abstract terminals(): readonly string[];
  /** Queues a write; false when the queue is full (the item is dropped). */
  protected abstract write(item: { kind: 'sample'; entry: HealthEntry } | { kind: 'probe'; probe: WanProbe }): boolean;
  protected abstract readSamples(terminal: string, fromMs: number, toMs: number, limit: number): Promise<HealthEntry[]>;
  protected abstract readProbes(fromMs: number, toMs: number, limit: number): Promise<WanProbe[]>;
  protected abstract readRollups(subject: HealthSubject, resolution: RollupResolution, fromMs: number, toMs: number, limit: number): Promise<Rollup[]>;
  protected abstract rollUpImpl(nowMs: number, options: RollupOptions): Promise<RollupRun>;
  protected abstract pruneImpl(nowMs: number, retention: HealthRetention): Promise<PruneRun>;
  protected abstract flushImpl(): Promise<void>;
  protected abstract closeImpl(): Promise<void>;

  protected assertOpen(): void {
    if (this.#state !== 'open') throw new TillgateError(HEALTH_STORE_CODES.closed, 'health store is closed');
  }
}

function clampLimit(limit: number): number {
  return Math.max(0, Math.min(Math.floor(limit), MAX_HEALTH_READ));
}

export const DAY_MS = 86_400_000;
