/**
 * The fleet simulator's stores and terminals: opening hours, traffic by hour of day, WiFi quality,
 * handheld or countertop, nightly reboots. Drawn once per seed so a fleet is repeatable; the
 * sub-seeds of stores and terminals are derived from it (a held-out fleet is another seed).
 */
import { seededRandom } from '../../../lib/random.js';

export interface StoreProfile {
  readonly store: string;
  readonly seed: number;
  /** Opening and closing hour (UTC, every day). */
  readonly openHour: number;
  readonly closeHour: number;
  /** Payments per hour per terminal at an ordinary open hour. */
  readonly paymentsPerH: number;
  /** The store's WiFi: added to every terminal's signal. */
  readonly apOffsetDb: number;
}

export interface TerminalProfile {
  readonly store: StoreProfile;
  readonly terminal: string;
  readonly seed: number;
  /** Handhelds run on a battery and move around; countertops are on mains. */
  readonly handheld: boolean;
  readonly rssiBaseDbm: number;
  readonly rttBaseMs: number;
  /** Minutes past 03:00 of a nightly reboot, or null. */
  readonly nightlyRebootMin: number | null;
  readonly firmware: string;
  /** Healthy drain in use, % per hour. */
  readonly drainPctPerH: number;
  /** Chance that nobody notices this terminal's low battery in a given episode. */
  readonly negligence: number;
}

const FIRMWARES = ['4.2.1', '4.2.3', '4.3.0'] as const;

/** A 32-bit seed from a few integers: FNV-1a over their bytes, then murmur3's avalanche (fmix32),
 * so that neighbouring inputs give unrelated seeds. */
export function deriveSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    let v = p >>> 0;
    for (let i = 0; i < 4; i++) {
      h ^= v & 0xff;
      h = Math.imul(h, 0x01000193);
      v >>>= 8;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function storeProfile(fleetSeed: number, index: number): StoreProfile {
  const seed = deriveSeed(fleetSeed, index, 1);
  const r = seededRandom(seed);
  return {
    store: `store-${fleetSeed}-${String(index + 1).padStart(3, '0')}`,
    seed,
    openHour: 7 + Math.floor(r() * 4),
    closeHour: 18 + Math.floor(r() * 5),
    paymentsPerH: 15 + r() * 45,
    apOffsetDb: (r() - 0.5) * 8,
  };
}

export function terminalProfile(store: StoreProfile, index: number): TerminalProfile {
  const seed = deriveSeed(store.seed, index, 2);
  const r = seededRandom(seed);
  const handheld = r() < 0.6;
  return {
    store,
    terminal: `t-${String(index + 1).padStart(2, '0')}`,
    seed,
    handheld,
    rssiBaseDbm: (handheld ? -61 : -59) + (r() - 0.5) * 14 + store.apOffsetDb,
    rttBaseMs: 4 + r() * 11,
    nightlyRebootMin: r() < 0.5 ? Math.floor(r() * 20) : null,
    firmware: FIRMWARES[Math.floor(r() * FIRMWARES.length)]!,
    drainPctPerH: 6 + r() * 4,
    negligence: 0.03 + r() * 0.12,
  };
}

/** Hour of day (UTC, fractional) of `ms`. */
export const hourOf = (ms: number): number => (ms % 86_400_000) / 3_600_000;

export function isOpen(store: StoreProfile, ms: number): boolean {
  const h = hourOf(ms);
  return h >= store.openHour && h < store.closeHour;
}

/** Traffic relative to an ordinary open hour: lunch and late-afternoon peaks, 0 when closed. */
export function trafficFactor(store: StoreProfile, ms: number): number {
  if (!isOpen(store, ms)) return 0;
  const h = hourOf(ms);
  return 1 + 0.8 * Math.exp(-(((h - 12.5) / 1) ** 2)) + 0.5 * Math.exp(-(((h - 17.5) / 1) ** 2));
}
