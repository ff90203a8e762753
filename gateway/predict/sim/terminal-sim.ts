/**
 * One simulated terminal's health samples over a span (DESIGN §5.3 fields, every ~30 s), with
 * healthy life — opening hours, charging cycles, a noisy and wandering signal, busy-hour dips,
 * brief reconnects that mean nothing, nightly reboots, benign error bursts — and failures with and
 * without warning signs (protocol/degradation.ts): an ageing battery, a battery nobody docked,
 * fading WiFi, errors before a crash, and sudden failures. A failure is a stretch with no samples
 * (DESIGN §3.7: silence of 5 minutes or more); every other gap is shorter than 3 minutes.
 */
import { normal, seededRandom } from '../../../lib/random.js';
import {
  ageingCutoffPct, ageingDrainPctPerH, fadingRssiDbm, leakErrorsPerHour, leakRttFactor, reconnectsPerHour, weakSignalRttFactor,
} from '../../../protocol/degradation.js';
import type { HealthRecord } from '../../../protocol/prediction.js';
import { SIM_RATES, poissonTimes, type Span, type StoreEvents, type TruthEpisode } from './events.js';
import { deriveSeed, hourOf, isOpen, trafficFactor, type TerminalProfile } from './profiles.js';

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;

/** A §3.7 health record with its time in ms (an extra field: kept and ignored by readers). */
export type SimHealthRecord = HealthRecord & { readonly atMs: number };

interface Episode {
  readonly mode: 'wifi-fade' | 'error-crash' | 'sudden';
  readonly signsFromMs: number;
  readonly onsetMs: number;
  readonly downMs: number;
  /** wifi-fade: dB lost by the end. */
  readonly depthDb: number;
}

function drawEpisodes(random: () => number, span: Span): Episode[] {
  const all: Episode[] = [];
  for (const onsetMs of poissonTimes(random, SIM_RATES.wifiFade, span)) {
    all.push({ mode: 'wifi-fade', onsetMs, signsFromMs: onsetMs - (45 + random() * 195) * MIN_MS, downMs: (15 + random() * 105) * MIN_MS, depthDb: 18 + random() * 12 });
  }
  for (const onsetMs of poissonTimes(random, SIM_RATES.errorCrash, span)) {
    all.push({ mode: 'error-crash', onsetMs, signsFromMs: onsetMs - (30 + random() * 150) * MIN_MS, downMs: (10 + random() * 50) * MIN_MS, depthDb: 0 });
  }
  for (const onsetMs of poissonTimes(random, SIM_RATES.sudden, span)) {
    all.push({ mode: 'sudden', onsetMs, signsFromMs: onsetMs, downMs: (10 + random() * 110) * MIN_MS, depthDb: 0 });
  }
  all.sort((a, b) => a.signsFromMs - b.signsFromMs);
  // One trouble at a time: drop an episode that starts before the previous one is over.
  const kept: Episode[] = [];
  for (const e of all) {
    const prev = kept.at(-1);
    if (prev === undefined || e.signsFromMs > prev.onsetMs + prev.downMs + 30 * MIN_MS) kept.push(e);
  }
  return kept;
}

/** Poisson count with mean `lambda` (small lambdas: inversion). */
function poisson(random: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(random)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

export interface TerminalSimOptions {
  readonly span: Span;
  /** Health sample period (the agent's default is 30 s). */
  readonly intervalMs: number;
}

/**
 * The terminal's records in time order. Failures that happened are pushed to `truth` as they end
 * (or when the span ends).
 */
export function* simulateTerminal(p: TerminalProfile, storeEv: StoreEvents, o: TerminalSimOptions, truth: TruthEpisode[]): Generator<SimHealthRecord> {
  const r = seededRandom(deriveSeed(p.seed, 7));
  const { span, intervalMs } = o;
  const store = p.store;
  const subject = `terminal/${p.terminal}`;
  const episodes = drawEpisodes(r, span);
  const ageingAt = p.handheld ? poissonTimes(r, SIM_RATES.batteryAgeing, span) : [];
  const bursts = poissonTimes(r, SIM_RATES.errorBurst, span).map((atMs) => ({ atMs, durMs: (3 + r() * 12) * MIN_MS, errors: 6 + Math.floor(r() * 25) }));
  const backrooms = p.handheld ? poissonTimes(r, SIM_RATES.backroom, span).map((atMs) => ({ atMs, durMs: (3 + r() * 17) * MIN_MS, depthDb: 12 + r() * 8 })) : [];

  // Battery and charging: why it sits on its charger, and until when.
  let pct = 50 + r() * 50;
  let dock: 'night' | 'low' | 'topup' | 'dead' | null = isOpen(store, span.startMs) ? null : 'night';
  let undockAtMs = 0;
  let capacity = 1;
  let replaceBattery = false;
  let lowThreshold: number | null = null;
  let forgotten = false;
  let drainStartMs = span.startMs;
  let nightDay = -1;
  let topUpDay = -1;
  // Link, counters, outbox.
  let walk = 0;
  let reconnects = 0;
  let errors = 0;
  let uptimeStartMs = span.startMs - r() * 20 * HOUR_MS;
  let rebootDay = -1;
  let gapUntilMs = 0;
  let offlineSinceMs: number | null = null;
  let downUntilMs = 0;
  let downEpisode: { mode: TruthEpisode['mode']; signsFromMs: number | null; onsetMs: number } | null = null;
  let lastSampleMs = span.startMs;
  let ep = 0;
  let ageingIdx = 0;

  const restart = (atMs: number) => {
    reconnects = 0;
    errors = 0;
    uptimeStartMs = atMs;
  };
  const fail = (atMs: number, mode: TruthEpisode['mode'], signsFromMs: number | null, downMs: number) => {
    downEpisode = { mode, signsFromMs, onsetMs: lastSampleMs };
    downUntilMs = atMs + downMs;
  };

  let t = span.startMs + r() * intervalMs;
  let prevT = t - intervalMs;
  for (; t < span.endMs; prevT = t, t += intervalMs + (r() - 0.5) * 2_000) {
    const dtH = (t - prevT) / HOUR_MS;
    const open = isOpen(store, t);
    const day = Math.floor(t / 86_400_000);
    const h = hourOf(t);
    const traffic = trafficFactor(store, t);

    // Down: a failure in progress sends nothing; at its end the terminal boots again.
    if (downEpisode !== null) {
      if (t < downUntilMs) continue;
      const d = downEpisode as { mode: TruthEpisode['mode']; signsFromMs: number | null; onsetMs: number };
      truth.push({ store: store.store, subject, mode: d.mode, signsFromMs: d.signsFromMs, onsetMs: d.onsetMs, endMs: t });
      downEpisode = null;
      restart(t);
      offlineSinceMs = null;
      gapUntilMs = 0;
    }

    // Battery: charging cycles, staff docking it when low (or not), ageing.
    while (ageingIdx < ageingAt.length && ageingAt[ageingIdx]! <= t) {
      capacity = Math.min(capacity, 0.2 + r() * 0.25);
      ageingIdx++;
    }
    if (p.handheld) {
      // Closing time: most nights it goes on its charger (whatever it was doing).
      if (!open && nightDay !== day && h >= store.closeHour) {
        nightDay = day;
        if (dock !== null || r() < 0.93) dock = 'night';
      }
      // Opening: off the charger for the day; a worn battery is swapped overnight once noticed.
      if (open && dock === 'night') {
        dock = null;
        drainStartMs = t;
        if (replaceBattery) {
          capacity = 1;
          replaceBattery = false;
        }
      }
      // A lunchtime top-up on some days.
      if (open && dock === null && topUpDay !== day && h >= 12 && h < 14 && r() < 1 - Math.exp(-0.35 * dtH)) {
        topUpDay = day;
        dock = 'topup';
        undockAtMs = t + (30 + r() * 30) * MIN_MS;
      }
      if (open && (dock === 'low' || dock === 'topup' || dock === 'dead') && t >= undockAtMs && pct > 40) {
        dock = null;
        drainStartMs = t;
      }
      // Low battery: staff usually dock it within minutes; now and then nobody notices.
      if (dock === null) {
        if (lowThreshold === null && pct < 35) {
          lowThreshold = 15 + r() * 15;
          forgotten = r() < p.negligence;
        }
        if (lowThreshold !== null && pct < lowThreshold && !forgotten && open && r() < 1 - Math.exp(-(dtH * 60) / 8)) {
          dock = 'low';
          undockAtMs = t + (40 + r() * 80) * MIN_MS;
        }
      }
      if (dock !== null) {
        pct = Math.min(100, pct + 35 * dtH);
        lowThreshold = null;
      } else {
        const use = open ? p.drainPctPerH * (0.6 + 0.4 * traffic) : 1.2;
        pct = Math.max(0, pct - ageingDrainPctPerH(capacity, use) * dtH);
        if (pct <= ageingCutoffPct(capacity) + 0.01) {
          // Dead battery: someone notices 20–90 minutes later and puts it on its charger.
          fail(t, capacity < 0.7 ? 'battery-ageing' : 'battery-forgotten', drainStartMs, (20 + r() * 70) * MIN_MS);
          if (capacity < 0.7 && r() < 0.8) replaceBattery = true;
          dock = 'dead';
          undockAtMs = t + 2 * HOUR_MS;
          lowThreshold = null;
          continue;
        }
      }
    }

    // Episodes with or without warning signs.
    while (ep < episodes.length && episodes[ep]!.onsetMs + episodes[ep]!.downMs < t) ep++;
    const e = episodes[ep];
    let progress = 0;
    if (e !== undefined && t >= e.signsFromMs) {
      if (t >= e.onsetMs) {
        fail(t, e.mode, e.mode === 'sudden' ? null : e.signsFromMs, e.downMs - (t - e.onsetMs));
        ep++;
        continue;
      }
      progress = (t - e.signsFromMs) / Math.max(1, e.onsetMs - e.signsFromMs);
    }
    const fading = e !== undefined && e.mode === 'wifi-fade' && progress > 0 ? progress : 0;
    const leaking = e !== undefined && e.mode === 'error-crash' && progress > 0 ? progress : 0;

    // Signal: position, a slow wander (handhelds move), busy-hour dips, the back room, fading.
    walk += -walk * Math.min(1, dtH * 3) + normal(r) * (p.handheld ? 1.4 : 0.5) * Math.sqrt(dtH * 3);
    const busyDip = open ? -1.5 * (traffic - 1) : 0;
    const back = backrooms.find((b) => t >= b.atMs && t < b.atMs + b.durMs);
    let rssi = p.rssiBaseDbm + walk + busyDip - (back?.depthDb ?? 0) + normal(r) * (p.handheld ? 2.2 : 1.4);
    if (fading > 0) rssi = fadingRssiDbm(rssi, e!.depthDb, fading);
    rssi = Math.max(-95, Math.min(-35, rssi));

    // Nightly reboot: a short gap, counters start again.
    if (p.nightlyRebootMin !== null && rebootDay !== day && h >= 3 + p.nightlyRebootMin / 60) {
      rebootDay = day;
      restart(t);
      gapUntilMs = t + 60_000 + r() * 60_000;
    }
    // Brief reconnects (more on a weak signal) and access point reboots: short gaps, outbox builds.
    const ap = storeEv.apReboots.find((a) => t >= a.atMs && t < a.atMs + a.durMs);
    if (ap !== undefined && gapUntilMs < ap.atMs + ap.durMs) {
      reconnects++;
      gapUntilMs = ap.atMs + ap.durMs;
    }
    if (r() < 1 - Math.exp(-reconnectsPerHour(rssi) * dtH)) {
      reconnects++;
      gapUntilMs = Math.max(gapUntilMs, t + 3_000 + r() * 57_000 * (fading > 0.6 ? 2 : 1));
    }
    if (t < gapUntilMs) {
      offlineSinceMs ??= t;
      continue;
    }

    // Errors: card reader and PSP trickle in open hours, benign bursts, PSP hiccups, a leak.
    let errorRate = (open ? 0.3 * traffic : 0.03) + (leaking > 0 ? leakErrorsPerHour(leaking) : 0);
    for (const b of bursts) if (t >= b.atMs && t < b.atMs + b.durMs) errorRate += (b.errors / b.durMs) * HOUR_MS;
    for (const b of storeEv.pspHiccups) if (open && t >= b.atMs && t < b.atMs + b.durMs) errorRate += (b.errors / b.durMs) * HOUR_MS;
    errors += poisson(r, errorRate * dtH);

    // Round trip to the gateway and the outbox.
    const rtt = p.rttBaseMs * weakSignalRttFactor(rssi) * leakRttFactor(leaking) * (open ? 1 + 0.15 * traffic : 1) * Math.exp(0.25 * normal(r));
    const perS = (store.paymentsPerH * traffic) / 3600;
    let depth = poisson(r, perS * (rtt / 1000) * (leaking > 0.6 ? 20 : 1));
    let oldestS = depth > 0 ? Math.max(1, Math.round((rtt / 1000) * (1 + r() * 3))) : 0;
    if (offlineSinceMs !== null) {
      const awayS = (t - offlineSinceMs) / 1000;
      const backlog = poisson(r, perS * awayS);
      if (backlog > 0 && r() < 0.5) {
        depth += backlog;
        oldestS = Math.max(oldestS, Math.round(awayS));
      }
      offlineSinceMs = null;
    }

    lastSampleMs = t;
    yield {
      kind: 'health',
      store: store.store,
      terminal: p.terminal,
      at: new Date(Math.round(t)).toISOString(),
      atMs: Math.round(t),
      rssiDbm: Math.round(rssi),
      rttMs: Math.round(rtt * 10) / 10,
      reconnects,
      outboxDepth: depth,
      outboxOldestAgeS: oldestS,
      errors,
      batteryPct: p.handheld ? Math.round(pct) : null,
      charging: p.handheld ? dock !== null : null,
      uptimeS: Math.max(0, Math.floor((t - uptimeStartMs) / 1000)),
      firmware: p.firmware,
    };
  }
  if (downEpisode !== null) {
    const d = downEpisode as { mode: TruthEpisode['mode']; signsFromMs: number | null; onsetMs: number };
    truth.push({ store: store.store, subject, mode: d.mode, signsFromMs: d.signsFromMs, onsetMs: d.onsetMs, endMs: span.endMs });
  }
}
