/**
 * A simulated fleet (`tillgate predict simulate`, and what `train` and `eval` learn and measure on):
 * `stores` stores of `terminalsPerStore` terminals each, over `days`, from one seed. Each subject
 * (a terminal, or a store's WAN) is generated on its own, so training and evaluation can walk the
 * fleet one subject at a time in little memory; `mergedRecords` interleaves them in time order,
 * as a §3.7 replay file has them.
 */
import type { TruthEpisode } from './events.js';
import { storeEvents } from './events.js';
import { storeProfile, terminalProfile } from './profiles.js';
import { simulateTerminal, type SimHealthRecord } from './terminal-sim.js';
import { simulateWan, type SimWanRecord } from './wan-sim.js';

export type SimRecord = SimHealthRecord | SimWanRecord;

export interface FleetOptions {
  readonly seed: number;
  readonly stores: number;
  readonly terminalsPerStore: number;
  readonly days: number;
  /** Start of the span (ms since epoch, UTC midnight recommended). */
  readonly startMs: number;
  /** Health sample period of the terminals. */
  readonly sampleIntervalMs: number;
}

export const DEFAULT_FLEET: Omit<FleetOptions, 'seed'> = Object.freeze({
  stores: 20,
  terminalsPerStore: 5,
  days: 7,
  startMs: Date.UTC(2026, 0, 5),
  sampleIntervalMs: 30_000,
});

/** Limits of one simulated fleet: one process generating more measures its own memory. */
export const MAX_FLEET_STORES = 2_000;
export const MAX_FLEET_TERMINALS_PER_STORE = 50;
export const MAX_FLEET_DAYS = 366;

export interface SimSubject {
  readonly store: string;
  /** `terminal/<id>` or `wan`. */
  readonly subject: string;
  /** Generates this subject's records in time order; failures that happen go to `truth`. */
  records(truth: TruthEpisode[]): Generator<SimRecord>;
}

export function fleetSubjects(o: FleetOptions): SimSubject[] {
  if (o.stores < 1 || o.stores > MAX_FLEET_STORES || o.terminalsPerStore < 1 || o.terminalsPerStore > MAX_FLEET_TERMINALS_PER_STORE || !(o.days > 0) || o.days > MAX_FLEET_DAYS) {
    throw new RangeError(`fleet must have 1..${MAX_FLEET_STORES} stores, 1..${MAX_FLEET_TERMINALS_PER_STORE} terminals per store, up to ${MAX_FLEET_DAYS} days`);
  }
  const span = { startMs: o.startMs, endMs: o.startMs + o.days * 86_400_000 };
  const out: SimSubject[] = [];
  for (let s = 0; s < o.stores; s++) {
    const store = storeProfile(o.seed, s);
    const events = storeEvents(store, span);
    out.push({ store: store.store, subject: 'wan', records: (truth) => simulateWan(store, span, truth) });
    for (let i = 0; i < o.terminalsPerStore; i++) {
      const profile = terminalProfile(store, i);
      out.push({
        store: store.store,
        subject: `terminal/${profile.terminal}`,
        records: (truth) => simulateTerminal(profile, events, { span, intervalMs: o.sampleIntervalMs }, truth),
      });
    }
  }
  return out;
}

/** Every subject's records merged in time order (a binary heap over the subjects' generators). */
export function* mergedRecords(subjects: readonly SimSubject[], truth: TruthEpisode[] = []): Generator<SimRecord> {
  const heap: { rec: SimRecord; gen: Generator<SimRecord> }[] = [];
  const less = (a: number, b: number) => heap[a]!.rec.atMs < heap[b]!.rec.atMs;
  const swap = (a: number, b: number) => {
    const x = heap[a]!;
    heap[a] = heap[b]!;
    heap[b] = x;
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(i, p)) return;
      swap(i, p);
      i = p;
    }
  };
  for (const s of subjects) {
    const gen = s.records(truth);
    const first = gen.next();
    if (!first.done) {
      heap.push({ rec: first.value, gen });
      up(heap.length - 1);
    }
  }
  while (heap.length > 0) {
    const top = heap[0]!;
    yield top.rec;
    const next = top.gen.next();
    if (next.done) {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        down(0);
      }
    } else {
      top.rec = next.value;
      down(0);
    }
  }
}
