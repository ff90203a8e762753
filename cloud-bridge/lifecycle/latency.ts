/**
 * `GET /v1/payments/latency` (DESIGN §3.6): p50/p90/p95/p99 of success → charged and success →
 * authorised, in seconds, over the most recent `latencyWindow` payments of the shared store (so
 * every replica answers the same), and the optimistic-charge contradiction rate over all payments.
 *
 * Clock skew: "success" is the terminal's `at`, on the terminal's clock. A terminal whose clock runs
 * ahead would make a wait look shorter, even negative: its `at` is clamped to the moment the cloud
 * stored the event (capturedAt), and such samples are counted (`clockSkew.clamped`). A clock that
 * runs behind makes waits look longer by the skew; nothing on the way stamps a trusted time before
 * the cloud, so that is not corrected, only bounded by how far terminals drift (NTP).
 */
import type { LatencyReport, LatencySegment } from '../../protocol/payments.js';
import type { LatencySample, PaymentStore, StoreCounters } from './payment-store.js';

/** Nearest-rank percentile of sorted values (null for none). */
export function percentileOf(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function segmentOf(samples: readonly LatencySample[]): LatencySegment {
  const sorted = samples.map((s) => s.seconds).sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return {
    count: sorted.length,
    p50: round(percentileOf(sorted, 50)),
    p90: round(percentileOf(sorted, 90)),
    p95: round(percentileOf(sorted, 95)),
    p99: round(percentileOf(sorted, 99)),
  };
}

export function optimisticOf(counters: readonly StoreCounters[]): LatencyReport['optimistic'] {
  const charged = counters.reduce((n, c) => n + c.optimisticCharged, 0);
  const contradicted = counters.reduce((n, c) => n + c.contradicted, 0);
  return { charged, contradicted, rate: charged === 0 ? null : contradicted / charged };
}

export interface LatencyReportBody extends LatencyReport {
  /** How many recent payments the percentiles cover, at most. */
  readonly window: number;
  readonly clockSkew: { readonly clamped: number };
}

export async function latencyReport(store: PaymentStore, window: number): Promise<LatencyReportBody> {
  const [samples, counters] = await Promise.all([store.recentLatencies(window), store.counters()]);
  return {
    segments: { success_to_charged: segmentOf(samples.successToCharged), success_to_authorised: segmentOf(samples.successToAuthorised) },
    optimistic: optimisticOf(counters),
    window,
    clockSkew: { clamped: samples.successToCharged.filter((s) => s.clamped).length },
  };
}
