/**
 * The WAN monitor (DESIGN §5.1): probes the cloud's `/healthz` (often while the link is down,
 * rarely while it is up), learns from every forwarder request too, and keeps the link state as a
 * discriminated union with `since` and `rttMs`. The moment the link comes back it tells its
 * listeners (the forwarder wakes from its backoff; the status topic republishes).
 */
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { WanState } from '../../protocol/messages.js';
import { CLOUD_FAILURE_CODES, type CloudClient, type IngestOutcome, type ProbeOutcome } from '../forwarder/cloud-client.js';
import type { Timers } from '../forwarder/timers.js';

export type WanLink =
  | { readonly state: 'online'; readonly since: number; readonly rttMs: number | null }
  | { readonly state: 'degraded'; readonly since: number; readonly rttMs: number | null; readonly reason: string }
  | { readonly state: 'offline'; readonly since: number; readonly rttMs: null; readonly reason: string };

export interface WanMonitorOptions {
  readonly probeIntervalMs: number;
  readonly probeIntervalOfflineMs: number;
  readonly probeTimeoutMs: number;
  readonly degradedRttMs: number;
  readonly offlineAfterFailures: number;
}

export interface WanMonitorDeps {
  readonly client: CloudClient;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
}

/** What one observation says about the link. */
type Evidence =
  | { readonly kind: 'up'; readonly rttMs: number | null }
  | { readonly kind: 'unreachable'; readonly code: string; readonly certain: boolean }
  | { readonly kind: 'unhealthy'; readonly code: string };

/** One probe's result as the health history keeps it (gateway/health): ok, round trip, when. */
export interface ProbeResult {
  readonly atMs: number;
  readonly ok: boolean;
  /** Null when no answer came back (the probe is then a lost one). */
  readonly rttMs: number | null;
}

export const WAN_MONITOR_LIFECYCLE = ['created', 'running', 'closed'] as const;
type Lifecycle = (typeof WAN_MONITOR_LIFECYCLE)[number];

export class WanMonitor {
  readonly #o: WanMonitorOptions;
  readonly #d: WanMonitorDeps;
  readonly #listeners = new Set<(link: WanLink, previous: WanLink) => void>();
  readonly #probeListeners = new Set<(probe: ProbeResult) => void>();
  #link: WanLink;
  #lastRttMs: number | null = null;
  #failures = 0;
  #lifecycle: Lifecycle = 'created';
  #timer: unknown = null;
  #probing: Promise<void> | null = null;

  constructor(options: WanMonitorOptions, deps: WanMonitorDeps) {
    this.#o = options;
    this.#d = deps;
    // Unknown until the first probe: "offline" is the safe word (terminals keep offline limits).
    this.#link = { state: 'offline', since: deps.clock.now(), rttMs: null, reason: 'NOT_PROBED' };
  }

  get link(): WanLink {
    return this.#link;
  }

  get state(): WanState {
    return this.#link.state;
  }

  /** Called on every state change (not on RTT-only changes). */
  onChange(listener: (link: WanLink, previous: WanLink) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called with every probe's result (the health history and the WAN risk score read them). */
  onProbe(listener: (probe: ProbeResult) => void): () => void {
    this.#probeListeners.add(listener);
    return () => this.#probeListeners.delete(listener);
  }

  start(): void {
    if (this.#lifecycle !== 'created') throw new TypeError(`WAN monitor cannot start from ${this.#lifecycle}`);
    this.#lifecycle = 'running';
    void this.probeNow();
  }

  /** Probes at once (one probe at a time) and reschedules the next. */
  probeNow(): Promise<void> {
    if (this.#lifecycle !== 'running') return Promise.resolve();
    if (this.#probing !== null) return this.#probing;
    if (this.#timer !== null) this.#d.timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#probing = this.#probe().finally(() => {
      this.#probing = null;
      this.#schedule();
    });
    return this.#probing;
  }

  /** Learns from a forwarder request outcome. */
  observe(outcome: IngestOutcome): void {
    if (outcome.kind === 'ok') return this.#apply({ kind: 'up', rttMs: null });
    if (outcome.code === CLOUD_FAILURE_CODES.aborted) return;
    if (outcome.kind === 'retry' && outcome.status === null) {
      return this.#apply({ kind: 'unreachable', code: outcome.code, certain: outcome.code === CLOUD_FAILURE_CODES.linkCut });
    }
    // It answered, so the link is up, but it does not take our batches (429, 5xx, 401, 413, …).
    this.#apply({ kind: 'unhealthy', code: outcome.code });
  }

  close(): void {
    this.#lifecycle = 'closed';
    if (this.#timer !== null) this.#d.timers.clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #probe(): Promise<void> {
    let outcome: ProbeOutcome;
    try {
      outcome = await this.#d.client.probe(this.#o.probeTimeoutMs);
    } catch (err) {
      outcome = { ok: false, code: String((err as { code?: unknown }).code ?? CLOUD_FAILURE_CODES.network), rttMs: null };
    }
    if (this.#lifecycle !== 'running') return;
    const result: ProbeResult = { atMs: this.#d.clock.now(), ok: outcome.ok, rttMs: outcome.rttMs };
    for (const l of this.#probeListeners) l(result);
    if (outcome.ok) this.#apply({ kind: 'up', rttMs: outcome.rttMs });
    else if (outcome.rttMs !== null) this.#apply({ kind: 'unhealthy', code: outcome.code });
    else this.#apply({ kind: 'unreachable', code: outcome.code, certain: outcome.code === CLOUD_FAILURE_CODES.linkCut });
  }

  #schedule(): void {
    if (this.#lifecycle !== 'running') return;
    const ms = this.#link.state === 'online' ? this.#o.probeIntervalMs : this.#o.probeIntervalOfflineMs;
    this.#timer = this.#d.timers.setTimeout(() => {
      this.#timer = null;
      void this.probeNow();
    }, ms);
  }

  #apply(e: Evidence): void {
    const now = this.#d.clock.now();
    let next: WanLink;
    if (e.kind === 'up') {
      this.#failures = 0;
      if (e.rttMs !== null) this.#lastRttMs = e.rttMs;
      const rttMs = this.#lastRttMs;
      next = rttMs !== null && rttMs > this.#o.degradedRttMs
        ? { state: 'degraded', since: now, rttMs, reason: 'SLOW' }
        : { state: 'online', since: now, rttMs };
    } else if (e.kind === 'unhealthy') {
      this.#failures = 0;
      next = { state: 'degraded', since: now, rttMs: this.#lastRttMs, reason: e.code };
    } else {
      this.#failures++;
      next = e.certain || this.#failures >= this.#o.offlineAfterFailures
        ? { state: 'offline', since: now, rttMs: null, reason: e.code }
        : { state: 'degraded', since: now, rttMs: this.#lastRttMs, reason: e.code };
    }
    const previous = this.#link;
    if (next.state === previous.state) {
      // Same state: keep `since`, refresh the figures.
      this.#link = { ...next, since: previous.since } as WanLink;
      return;
    }
    this.#link = next;
    this.#d.logger.info('WAN link state changed', { from: previous.state, to: next.state, reason: 'reason' in next ? next.reason : undefined, rttMs: next.rttMs });
    for (const l of this.#listeners) l(next, previous);
    // Faster probes while the link is down: reschedule at the new period.
    if (this.#probing === null && this.#timer !== null) {
      this.#d.timers.clearTimeout(this.#timer);
      this.#timer = null;
      this.#schedule();
    }
  }
}
