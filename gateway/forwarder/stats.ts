/**
 * The forwarder's numbers for the status page and /metrics: delivery rate over the last minute,
 * request latency, batches, last success and last error. Bounded memory: a 60-slot ring and a
 * fixed latency sample.
 */
import type { Clock } from '../../lib/clock.js';

const RATE_WINDOW_S = 60;
/** Latency samples kept for percentiles: the last 128 requests. */
const LATENCY_SAMPLES = 128;

export interface ForwarderCounters {
  batchesSent: number;
  batchesFailed: number;
  eventsAccepted: number;
  eventsDuplicate: number;
  eventsDeadLettered: number;
  gapRepairs: number;
  /** Alarms raised, by code (dead letters, auth refusals, bad requests). */
  alarms: Record<string, number>;
}

export interface LatencySummary {
  readonly lastMs: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export class ForwarderStats {
  readonly counters: ForwarderCounters = {
    batchesSent: 0,
    batchesFailed: 0,
    eventsAccepted: 0,
    eventsDuplicate: 0,
    eventsDeadLettered: 0,
    gapRepairs: 0,
    alarms: {},
  };
  lastSuccessAtMs: number | null = null;
  lastError: { readonly code: string; readonly atMs: number } | null = null;
  readonly #clock: Clock;
  readonly #rateSlots = new Array<number>(RATE_WINDOW_S).fill(0);
  readonly #rateSecond = new Array<number>(RATE_WINDOW_S).fill(-1);
  readonly #latencies: number[] = [];
  #latencyNext = 0;
  #lastLatencyMs: number | null = null;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Events the cloud now holds (accepted or duplicate) count toward the rate. */
  delivered(count: number): void {
    const second = Math.floor(this.#clock.now() / 1000);
    const slot = second % RATE_WINDOW_S;
    if (this.#rateSecond[slot] !== second) {
      this.#rateSecond[slot] = second;
      this.#rateSlots[slot] = 0;
    }
    this.#rateSlots[slot] = (this.#rateSlots[slot] ?? 0) + count;
  }

  /** Events per second over the last minute. */
  ratePerS(): number {
    const now = Math.floor(this.#clock.now() / 1000);
    let total = 0;
    for (let i = 0; i < RATE_WINDOW_S; i++) {
      const s = this.#rateSecond[i] ?? -1;
      if (s > now - RATE_WINDOW_S && s <= now) total += this.#rateSlots[i] ?? 0;
    }
    return total / RATE_WINDOW_S;
  }

  latency(ms: number): void {
    this.#lastLatencyMs = ms;
    if (this.#latencies.length < LATENCY_SAMPLES) this.#latencies.push(ms);
    else this.#latencies[this.#latencyNext] = ms;
    this.#latencyNext = (this.#latencyNext + 1) % LATENCY_SAMPLES;
  }

  latencySummary(): LatencySummary {
    if (this.#latencies.length === 0) return { lastMs: null, p50Ms: null, p99Ms: null };
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? null;
    return { lastMs: this.#lastLatencyMs, p50Ms: at(0.5), p99Ms: at(0.99) };
  }

  success(): void {
    this.lastSuccessAtMs = this.#clock.now();
  }

  failure(code: string): void {
    this.counters.batchesFailed++;
    this.lastError = { code, atMs: this.#clock.now() };
  }

  alarm(code: string): void {
    this.counters.alarms[code] = (this.counters.alarms[code] ?? 0) + 1;
  }
}
