/**
 * Rates of everything the fleet simulator makes happen, and the store-wide events its terminals
 * share. Failure rates are several times a real fleet's, so that a week of a few hundred terminals
 * holds enough failures to measure recall; precision therefore reads higher than it would at a real
 * fleet's base rate (docs/failure-prediction.md says by how much to discount it). Benign events —
 * the ones that look like trouble and are not — are kept at rates that make false alarms possible.
 */
import { exponential, seededRandom } from '../../../lib/random.js';
import { deriveSeed, type StoreProfile } from './profiles.js';

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;

/** Per terminal (or store) per day. */
export const SIM_RATES = Object.freeze({
  /** A handheld's battery starts to age (capacity drops to 20–45 %). */
  batteryAgeing: 0.012,
  /** WiFi fades over 45 min – 4 h, then the link is lost. */
  wifiFade: 0.012,
  /** Firmware leaks: errors pile up over 30 min – 3 h, then it crashes. */
  errorCrash: 0.012,
  /** Dropped, unplugged, hard crash: no warning at all. */
  sudden: 0.012,
  /** Benign: a burst of card-reader or PSP errors that ends by itself. */
  errorBurst: 0.3,
  /** Benign: a handheld carried to the back room (signal dips 12–20 dB for 3–20 min). */
  backroom: 0.5,
  /** Benign, per store: the access point reboots (every terminal drops for 40–150 s). */
  apReboot: 0.1,
  /** Benign, per store: the PSP hiccups (every terminal sees a few errors). */
  pspHiccup: 0.1,
  /** Per store: the WAN degrades (round trip and loss climb) for 20 min – 2 h, then fails. */
  wanDegradedOutage: 0.05,
  /** Per store: the WAN fails with no warning (fibre cut, power). */
  wanSudden: 0.02,
  /** Benign, per store: the WAN is slow and lossy for 30–90 min and recovers by itself. */
  wanCongestion: 0.04,
  /** Benign, per store: the router reboots (1–4 min of failed probes). */
  wanShortOutage: 0.15,
  /** Benign, per store: one to four lost probes in a row. */
  wanBlip: 1,
});

export interface Span {
  readonly startMs: number;
  readonly endMs: number;
}

/** Poisson event times in a span at `perDay`. */
export function poissonTimes(random: () => number, perDay: number, span: Span): number[] {
  const out: number[] = [];
  if (perDay <= 0) return out;
  for (let t = span.startMs + exponential(random, DAY_MS / perDay); t < span.endMs; t += exponential(random, DAY_MS / perDay)) out.push(t);
  return out;
}

export interface StoreEvents {
  /** Access point reboots: every terminal loses its link for `durMs`. */
  readonly apReboots: readonly { readonly atMs: number; readonly durMs: number }[];
  /** PSP hiccups: every terminal sees `errors` errors spread over `durMs`. */
  readonly pspHiccups: readonly { readonly atMs: number; readonly durMs: number; readonly errors: number }[];
}

export function storeEvents(store: StoreProfile, span: Span): StoreEvents {
  const r = seededRandom(deriveSeed(store.seed, 3));
  return {
    apReboots: poissonTimes(r, SIM_RATES.apReboot, span).map((atMs) => ({ atMs, durMs: 40_000 + r() * 110_000 })),
    pspHiccups: poissonTimes(r, SIM_RATES.pspHiccup, span).map((atMs) => ({ atMs, durMs: 5 * MIN_MS, errors: 3 + Math.floor(r() * 8) })),
  };
}

/** What the simulator knows actually happened, for a breakdown of recall by cause. */
export const FAILURE_MODES = ['battery-ageing', 'battery-forgotten', 'wifi-fade', 'error-crash', 'sudden', 'wan-degraded', 'wan-sudden'] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

export interface TruthEpisode {
  readonly store: string;
  readonly subject: string;
  readonly mode: FailureMode;
  /** When the first warning signs began, or null for a sudden failure. */
  readonly signsFromMs: number | null;
  /** When it stopped working (the last sample or the first failed probe). */
  readonly onsetMs: number;
  readonly endMs: number;
}
