/**
 * The simulated PSP's injected truth: for each payment a terminal authorises, what the PSP really
 * does (authorises it, refuses it after all, or never authorises it) and how long its notification
 * takes. Seeded, so a run is repeated from its seed; recorded, so a bench can measure the cloud's
 * contradiction rate against it exactly.
 */
import { normal } from '../lib/random.js';
import type { PspSimOptions } from './options.js';

export type TrueOutcome = 'authorised' | 'refused' | 'never';

export interface TruthRecord {
  readonly merchantReference: string;
  readonly pspReference: string;
  readonly amount: number;
  readonly currency: string;
  readonly store: string | null;
  readonly terminal: string | null;
  readonly outcome: TrueOutcome;
  /** When the terminal asked (ms since the epoch, the simulator's clock). */
  readonly authorisedAtMs: number;
  /** The notification's delay on the distribution, before `timeScale` (null: never sent). */
  readonly notifyDelayMs: number | null;
  /** How many times the notification is delivered (2 = a duplicate). */
  readonly deliveries: number;
}

/** Spread of the fast body (log-normal sigma): with a 2 s median, ~5 % of it passes 8.8 s. */
const FAST_SIGMA = 0.9;
/** No notification comes faster than this. */
const MIN_DELAY_S = 0.05;

/** Log-uniform on [min, max]: every order of magnitude equally likely (a heavy tail). */
export function logUniform(random: () => number, min: number, max: number): number {
  return Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min)));
}

/** One delay on the seed's distribution, seconds: a log-normal body, a log-uniform tail. */
export function sampleDelayS(random: () => number, o: Pick<PspSimOptions, 'fastShare' | 'fastMedianS' | 'fastMaxS' | 'tailMaxS'>): number {
  if (random() < o.fastShare) return Math.max(MIN_DELAY_S, Math.min(o.fastMaxS, o.fastMedianS * Math.exp(FAST_SIGMA * normal(random))));
  return logUniform(random, o.fastMaxS, o.tailMaxS);
}

export function sampleOutcome(random: () => number, o: Pick<PspSimOptions, 'refusalRate' | 'neverRate'>): TrueOutcome {
  const r = random();
  if (r < o.neverRate) return 'never';
  if (r < o.neverRate + o.refusalRate) return 'refused';
  return 'authorised';
}

const REFERENCE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A 16-character PSP reference, as Adyen's look. */
export function pspReferenceOf(random: () => number): string {
  let out = '';
  for (let i = 0; i < 16; i++) out += REFERENCE_ALPHABET[Math.floor(random() * REFERENCE_ALPHABET.length)];
  return out;
}
