/**
 * One store's WAN probe results over a span, probed the way the gateway's WAN monitor does
 * (every 15 s while the link is good, every 2 s after a failure or a slow answer; a probe slower
 * than 5 s failed). Healthy life: a baseline round trip with noise and spikes, evening congestion,
 * a little loss. Benign trouble: lost probes one to four in a row, router reboots (1–4 minutes),
 * congestion that recovers by itself. Failures: degradation (round trip and loss climb) ending in
 * an outage, and outages with no warning. A failure is 5 minutes or more of failed probes (§3.7).
 */
import { normal, seededRandom } from '../../../lib/random.js';
import type { WanRecord } from '../../../protocol/prediction.js';
import { SIM_RATES, poissonTimes, type Span, type TruthEpisode } from './events.js';
import { deriveSeed, hourOf, type StoreProfile } from './profiles.js';

const MIN_MS = 60_000;

/** The WAN monitor's defaults (gateway/forwarder/options.ts). */
export const SIM_PROBE = Object.freeze({ intervalMs: 15_000, intervalOfflineMs: 2_000, timeoutMs: 5_000, degradedRttMs: 2_000 });

export type SimWanRecord = WanRecord & { readonly atMs: number };

interface Trouble {
  readonly kind: 'degraded-outage' | 'sudden' | 'congestion' | 'short-outage';
  readonly fromMs: number;
  /** When the outage begins (degradation runs from `fromMs` to here). */
  readonly outageMs: number;
  readonly untilMs: number;
  readonly rttFactor: number;
  readonly loss: number;
}

function drawTroubles(r: () => number, span: Span): Trouble[] {
  const all: Trouble[] = [];
  for (const at of poissonTimes(r, SIM_RATES.wanDegradedOutage, span)) {
    const outageMs = at + (20 + r() * 100) * MIN_MS;
    all.push({ kind: 'degraded-outage', fromMs: at, outageMs, untilMs: outageMs + (10 + r() * 170) * MIN_MS, rttFactor: 5 + r() * 10, loss: 0.15 + r() * 0.3 });
  }
  for (const at of poissonTimes(r, SIM_RATES.wanSudden, span)) all.push({ kind: 'sudden', fromMs: at, outageMs: at, untilMs: at + (10 + r() * 230) * MIN_MS, rttFactor: 1, loss: 0 });
  for (const at of poissonTimes(r, SIM_RATES.wanCongestion, span)) {
    const untilMs = at + (30 + r() * 60) * MIN_MS;
    all.push({ kind: 'congestion', fromMs: at, outageMs: untilMs, untilMs, rttFactor: 2 + r() * 3, loss: 0.02 + r() * 0.06 });
  }
  for (const at of poissonTimes(r, SIM_RATES.wanShortOutage, span)) all.push({ kind: 'short-outage', fromMs: at, outageMs: at, untilMs: at + (1 + r() * 3) * MIN_MS, rttFactor: 1, loss: 0 });
  all.sort((a, b) => a.fromMs - b.fromMs);
  const kept: Trouble[] = [];
  for (const t of all) {
    const prev = kept.at(-1);
    if (prev === undefined || t.fromMs > prev.untilMs + 30 * MIN_MS) kept.push(t);
  }
  return kept;
}

export function* simulateWan(store: StoreProfile, span: Span, truth: TruthEpisode[]): Generator<SimWanRecord> {
  const r = seededRandom(deriveSeed(store.seed, 11));
  const troubles = drawTroubles(r, span);
  const blips = poissonTimes(r, SIM_RATES.wanBlip, span).map((atMs) => ({ atMs, lost: 1 + Math.floor(r() * 4) }));
  const baseRttMs = 20 + r() * 60;
  const eveningFactor = 1.3 + r() * 1.2;
  let blipIdx = 0;
  let blipLeft = 0;
  let ti = 0;
  let failingSince: number | null = null;
  let failingKind: Trouble['kind'] | null = null;
  for (let t = span.startMs + r() * SIM_PROBE.intervalMs; t < span.endMs; ) {
    while (ti < troubles.length && troubles[ti]!.untilMs <= t) ti++;
    const tr = troubles[ti] !== undefined && t >= troubles[ti]!.fromMs ? troubles[ti]! : undefined;
    while (blipIdx < blips.length && blips[blipIdx]!.atMs <= t) blipLeft = Math.max(blipLeft, blips[blipIdx++]!.lost);

    const h = hourOf(t);
    const evening = Math.exp(-(((h - 20.5) / 1.8) ** 2));
    let rtt = baseRttMs * (1 + (eveningFactor - 1) * evening) * Math.exp(0.2 * normal(r));
    if (r() < 0.01) rtt *= 3 + r() * 5;
    let lossP = 0.003;
    let out = false;
    if (tr !== undefined) {
      if (t >= tr.outageMs && tr.kind !== 'congestion') out = true;
      else {
        const p = tr.kind === 'congestion' ? 1 : (t - tr.fromMs) / Math.max(1, tr.outageMs - tr.fromMs);
        rtt *= 1 + (tr.rttFactor - 1) * p * p;
        lossP += tr.loss * p * p;
      }
    }
    let ok = !out && r() >= lossP && rtt <= SIM_PROBE.timeoutMs;
    if (!out && blipLeft > 0) {
      ok = false;
      blipLeft--;
    }
    if (!ok && failingSince === null) {
      failingSince = t;
      failingKind = tr?.kind ?? null;
    }
    if (ok && failingSince !== null) {
      if (t - failingSince >= 5 * MIN_MS && (failingKind === 'degraded-outage' || failingKind === 'sudden')) {
        const trouble = troubles.find((x) => x.outageMs <= failingSince! + 1 && x.untilMs >= failingSince!);
        truth.push({
          store: store.store, subject: 'wan', mode: failingKind === 'sudden' ? 'wan-sudden' : 'wan-degraded',
          signsFromMs: failingKind === 'sudden' ? null : (trouble?.fromMs ?? null), onsetMs: failingSince, endMs: t,
        });
      }
      failingSince = null;
      failingKind = null;
    }
    yield { kind: 'wan', store: store.store, at: new Date(Math.round(t)).toISOString(), atMs: Math.round(t), ok, rttMs: ok ? Math.round(rtt) : null };
    t += ok && rtt <= SIM_PROBE.degradedRttMs ? SIM_PROBE.intervalMs : SIM_PROBE.intervalOfflineMs;
  }
  if (failingSince !== null && span.endMs - failingSince >= 5 * MIN_MS && (failingKind === 'degraded-outage' || failingKind === 'sudden')) {
    truth.push({ store: store.store, subject: 'wan', mode: failingKind === 'sudden' ? 'wan-sudden' : 'wan-degraded', signsFromMs: null, onsetMs: failingSince, endMs: span.endMs });
  }
}
