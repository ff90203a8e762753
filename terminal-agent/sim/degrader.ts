/**
 * A demo terminal whose health degrades until it fails, so the status page shows a prediction
 * come true (`tillgate simulate --degrading`, `npm start`). The curves are protocol/degradation.ts,
 * the same ones the gateway's training simulator uses, squeezed from hours into `failAfterS`:
 *  - battery: an ageing battery drains fast, off its charger, and dies at its cutoff;
 *  - wifi: the signal fades and the link drops more and more often, then it is lost;
 *  - errors: errors pile up ever faster, then the terminal hangs.
 * After the failure it stays dead for `deadForS` (nobody noticed), then comes back healthy
 * (on its charger, access point fixed, restarted) and stays healthy.
 */
import {
  ageingCutoffPct, fadingRssiDbm, leakErrorsPerHour, reconnectsPerHour, type DegradationMode,
} from '../../protocol/degradation.js';

export interface DegradationPlan {
  readonly mode: DegradationMode;
  /** Seconds from the start of the run until it fails. */
  readonly failAfterS: number;
  /** Seconds it stays dead before someone fixes it. */
  readonly deadForS: number;
}

/** Capacity of the demo's worn battery (its cutoff follows from it). */
const DEMO_CAPACITY = 0.3;
/** Battery at the start of a battery demo. */
const DEMO_START_PCT = 38;
/** How deep the WiFi fades, dB. */
const DEMO_FADE_DB = 26;

export type DegraderPhase = 'degrading' | 'dead' | 'fixed';

export class Degrader {
  readonly plan: DegradationPlan;
  readonly #startedMs: number;
  readonly #random: () => number;
  #errors = 0;
  #lastErrorsMs: number;

  constructor(plan: DegradationPlan, nowMs: number, random: () => number) {
    this.plan = plan;
    this.#startedMs = nowMs;
    this.#lastErrorsMs = nowMs;
    this.#random = random;
  }

  phase(nowMs: number): DegraderPhase {
    const s = (nowMs - this.#startedMs) / 1000;
    if (s < this.plan.failAfterS) return 'degrading';
    return s < this.plan.failAfterS + this.plan.deadForS ? 'dead' : 'fixed';
  }

  /** 0 at the start, 1 at the failure. */
  progress(nowMs: number): number {
    return Math.min(1, Math.max(0, (nowMs - this.#startedMs) / 1000 / this.plan.failAfterS));
  }

  /** Battery %, or null when this mode leaves the battery alone. */
  batteryPct(nowMs: number): number | null {
    if (this.plan.mode !== 'battery') return null;
    if (this.phase(nowMs) === 'fixed') return Math.min(100, 40 + ((nowMs - this.#startedMs) / 1000 - this.plan.failAfterS - this.plan.deadForS) / 20);
    const cutoff = ageingCutoffPct(DEMO_CAPACITY);
    return DEMO_START_PCT - (DEMO_START_PCT - cutoff) * this.progress(nowMs);
  }

  /** On the charger only once fixed (battery mode); null for other modes. */
  charging(nowMs: number): boolean | null {
    if (this.plan.mode !== 'battery') return null;
    return this.phase(nowMs) === 'fixed';
  }

  /** The signal given an undisturbed `rssiDbm`. */
  rssiDbm(rssiDbm: number, nowMs: number): number {
    if (this.plan.mode !== 'wifi' || this.phase(nowMs) === 'fixed') return rssiDbm;
    return fadingRssiDbm(rssiDbm, DEMO_FADE_DB, this.progress(nowMs));
  }

  /** Chance that the link drops in the next `dtS` seconds (time squeezed like the fade). */
  dropChance(rssiDbm: number, dtS: number, nowMs: number): number {
    if (this.plan.mode !== 'wifi' || this.phase(nowMs) !== 'degrading') return 0;
    const squeeze = (3 * 3600) / this.plan.failAfterS;
    return 1 - Math.exp(-(reconnectsPerHour(rssiDbm) * squeeze * dtS) / 3600);
  }

  /** Device errors so far (errors mode), growing ever faster until the hang. */
  deviceErrors(nowMs: number): number {
    if (this.plan.mode === 'errors' && this.phase(nowMs) === 'degrading') {
      const dtH = (nowMs - this.#lastErrorsMs) / 3_600_000;
      const squeeze = (2 * 3600) / this.plan.failAfterS;
      const expected = leakErrorsPerHour(this.progress(nowMs)) * squeeze * dtH;
      this.#errors += Math.floor(expected + this.#random());
    }
    this.#lastErrorsMs = nowMs;
    return this.#errors;
  }
}
