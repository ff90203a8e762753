/**
 * The lifecycle bench's synthetic day, seeded: when each terminal showed success, whether it was
 * online (authorised with the PSP at once, its event in the cloud about a second later) or approved
 * offline during a store link outage (event and authorisation both wait for the link), and the
 * virtual clock everything runs on, so the 20-minute tail takes no 20 minutes.
 */
import type { Clock } from '../lib/clock.js';
import { normal, seededRandom } from '../lib/random.js';
import { uuidv7 } from '../protocol/uuid.js';

/** A clock the bench moves itself (virtual time). */
export class VirtualClock implements Clock {
  #now: number;
  constructor(startMs: number) {
    this.#now = startMs;
  }
  now(): number {
    return this.#now;
  }
  monotonicMs(): number {
    return this.#now;
  }
  set(ms: number): void {
    if (ms > this.#now) this.#now = Math.ceil(ms);
  }
}

export interface SyntheticPayment {
  readonly id: string;
  readonly amount: number;
  /** When the terminal showed success (virtual ms). */
  readonly successAtMs: number;
  readonly mode: 'online' | 'offline';
  /** When the terminal asked the PSP (offline approvals: when the link came back). */
  readonly authoriseAtMs: number;
  /** When the event reached the cloud. */
  readonly captureAtMs: number;
}

export interface TimelineOptions {
  readonly payments: number;
  readonly seed: number;
  readonly startMs: number;
  /** Mean time between payments across the fleet, seconds. */
  readonly meanGapS: number;
  /** Share of payments approved offline (their store link was down). */
  readonly offlineShare: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function syntheticDay(o: TimelineOptions): SyntheticPayment[] {
  const random = seededRandom(o.seed);
  const out: SyntheticPayment[] = [];
  let t = o.startMs;
  for (let i = 0; i < o.payments; i++) {
    t += -Math.log(1 - random()) * o.meanGapS * 1000;
    const successAtMs = Math.round(t);
    const id = uuidv7(successAtMs, (n) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256)));
    const amount = Math.round(clamp(2_500 * Math.exp(0.9 * normal(random)), 50, 80_000));
    // Store to cloud: about a second (median 0.8 s), rarely more than a few.
    const transportMs = clamp(800 * Math.exp(0.6 * normal(random)), 100, 10_000);
    if (random() < o.offlineShare) {
      // The store's link was down: 10 s to 10 minutes (log-uniform) before event and authorisation go out.
      const outageMs = Math.exp(Math.log(10_000) + random() * (Math.log(600_000) - Math.log(10_000)));
      const back = successAtMs + outageMs;
      out.push({ id, amount, successAtMs, mode: 'offline', authoriseAtMs: Math.round(back), captureAtMs: Math.round(back + transportMs) });
    } else {
      out.push({ id, amount, successAtMs, mode: 'online', authoriseAtMs: successAtMs, captureAtMs: Math.round(successAtMs + transportMs) });
    }
  }
  return out;
}
