/**
 * What the cloud dashboard shows, read from the payment store in one go (bounded reads only):
 * counters per store, the waiting-time distributions with and without optimism, the contradiction
 * rate, and the payments a payments team must look at (inconsistent, waiting for the PSP, and
 * notifications whose terminal event has not arrived).
 *
 * "With optimism" is success → charged (what the merchant waited, optimistic or not); "without" is
 * success → authorised, the wait every payment would have had if it were charged only at
 * authorisation — measured on the same run, so the two can be compared.
 */
import type { LatencySegment } from '../../protocol/payments.js';
import { percentileOf, segmentOf } from '../lifecycle/latency.js';
import type { Payment, PaymentState } from '../lifecycle/machine.js';
import type { LatencySample, PaymentStore, StoreCounters } from '../lifecycle/payment-store.js';

/** Rows per list on the page; the JSON API pages through the rest. */
export const DASHBOARD_ROWS = 25;
/** Stores shown; the busiest first. */
export const DASHBOARD_STORES = 50;

/** Histogram buckets of waiting time, upper bounds in seconds (log-spaced to the 20-minute tail). */
export const WAIT_BUCKET_BOUNDS_S = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, Number.POSITIVE_INFINITY] as const;

export interface Distribution {
  readonly segment: LatencySegment;
  readonly meanS: number | null;
  /** Mean of the slowest 10 % (the tail the optimism is meant to remove). */
  readonly slowest10MeanS: number | null;
  /** Share of samples in each WAIT_BUCKET_BOUNDS_S bucket (0..1). */
  readonly buckets: readonly number[];
}

export interface PaymentRow {
  readonly id: string;
  readonly store: string | null;
  readonly terminal: string | null;
  readonly seq: number | null;
  readonly amount: number | null;
  readonly currency: string | null;
  readonly state: PaymentState;
  readonly chargedBy: string | null;
  readonly contradicted: boolean;
  /** Capture time, or for pending ones the first notification's receipt. */
  readonly sinceMs: number;
}

export interface StoreView {
  readonly store: string;
  readonly counters: StoreCounters;
  readonly payments: number;
  readonly withOptimism: Distribution;
  readonly withoutOptimism: Distribution;
  readonly inconsistent: readonly PaymentRow[];
  readonly waiting: readonly PaymentRow[];
}

export interface DashboardView {
  readonly nowMs: number;
  readonly optimisticCharge: boolean;
  readonly window: number;
  readonly totals: { readonly payments: number; readonly optimisticCharged: number; readonly contradicted: number; readonly rate: number | null; readonly clamped: number };
  readonly withOptimism: Distribution;
  readonly withoutOptimism: Distribution;
  readonly stores: readonly StoreView[];
  readonly pending: readonly PaymentRow[];
  readonly pendingCount: number;
  readonly storesNotShown: number;
}

export function distributionOf(samples: readonly LatencySample[]): Distribution {
  const sorted = samples.map((s) => s.seconds).sort((a, b) => a - b);
  const mean = (xs: readonly number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
  const p90 = percentileOf(sorted, 90);
  const buckets = WAIT_BUCKET_BOUNDS_S.map(() => 0);
  for (const v of sorted) {
    const i = WAIT_BUCKET_BOUNDS_S.findIndex((b) => v < b);
    buckets[i === -1 ? buckets.length - 1 : i]! += 1;
  }
  return {
    segment: segmentOf(samples),
    meanS: mean(sorted),
    slowest10MeanS: p90 === null ? null : mean(sorted.slice(Math.floor(sorted.length * 0.9))),
    buckets: buckets.map((n) => (sorted.length === 0 ? 0 : n / sorted.length)),
  };
}

export function rowOf(p: Payment): PaymentRow {
  const e = p.event;
  return {
    id: p.id, store: e?.store ?? null, terminal: e?.terminal ?? null, seq: e?.seq ?? null, amount: e?.amount ?? null, currency: e?.currency ?? null,
    state: p.state, chargedBy: p.chargedBy, contradicted: p.contradicted,
    sinceMs: e?.capturedAtMs ?? Math.min(...p.psp.map((f) => f.receivedAtMs), Number.MAX_SAFE_INTEGER),
  };
}

const total = (c: StoreCounters) => Object.values(c.byState).reduce((a, b) => a + (b ?? 0), 0);

export async function readDashboard(store: PaymentStore, o: { nowMs: number; optimisticCharge: boolean; window: number }): Promise<DashboardView> {
  const [counters, samples, pending] = await Promise.all([store.counters(), store.recentLatencies(o.window), store.listPending('', DASHBOARD_ROWS)]);
  const known = counters.filter((c) => c.store !== '' && total(c) > 0).sort((a, b) => total(b) - total(a) || (a.store < b.store ? -1 : 1));
  const shown = known.slice(0, DASHBOARD_STORES);
  const stores: StoreView[] = [];
  for (const c of shown) {
    const [inconsistent, waiting] = await Promise.all([
      store.listByStore(c.store, { state: 'inconsistent', limit: DASHBOARD_ROWS }),
      store.listByStore(c.store, { state: 'captured', limit: DASHBOARD_ROWS }),
    ]);
    stores.push({
      store: c.store,
      counters: c,
      payments: total(c),
      withOptimism: distributionOf(samples.successToCharged.filter((s) => s.store === c.store)),
      withoutOptimism: distributionOf(samples.successToAuthorised.filter((s) => s.store === c.store)),
      inconsistent: inconsistent.map(rowOf),
      waiting: waiting.map(rowOf).sort((a, b) => a.sinceMs - b.sinceMs),
    });
  }
  const optimisticCharged = known.reduce((n, c) => n + c.optimisticCharged, 0);
  const contradicted = known.reduce((n, c) => n + c.contradicted, 0);
  return {
    nowMs: o.nowMs,
    optimisticCharge: o.optimisticCharge,
    window: o.window,
    totals: {
      payments: known.reduce((n, c) => n + total(c), 0),
      optimisticCharged,
      contradicted,
      rate: optimisticCharged === 0 ? null : contradicted / optimisticCharged,
      clamped: samples.successToCharged.filter((s) => s.clamped).length,
    },
    withOptimism: distributionOf(samples.successToCharged),
    withoutOptimism: distributionOf(samples.successToAuthorised),
    stores,
    pending: pending.map(rowOf),
    pendingCount: counters.find((c) => c.store === '')?.byState.pending ?? 0,
    storesNotShown: known.length - shown.length,
  };
}
