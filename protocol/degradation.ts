/**
 * How a terminal degrades before it fails, in the three ways that give warning signs: an ageing
 * battery, fading WiFi, and errors piling up before a firmware crash. One model, used by both
 * simulators: the gateway's training and evaluation fleet (gateway/predict/sim) and the demo
 * terminals of `tillgate simulate` and `npm start` (terminal-agent/sim), which may not import each
 * other. `progress` runs from 0 (first sign) to 1 (the failure). Shapes, not measurements: each
 * curve is a plausible reading of how such faults look, chosen before any detector was tuned.
 */

export const DEGRADATION_MODES = ['battery', 'wifi', 'errors'] as const;
export type DegradationMode = (typeof DEGRADATION_MODES)[number];

/** A healthy handheld's drain in use, % per hour (a shift on one charge, with margin). */
export const HEALTHY_DRAIN_PCT_PER_H = 8;

/**
 * An ageing battery holds `capacity` (0..1] of its charge, so it drains 1/capacity times faster,
 * and its voltage sags earlier: the device shuts down at `ageingCutoffPct(capacity)` % shown.
 */
export function ageingDrainPctPerH(capacity: number, baseDrainPctPerH = HEALTHY_DRAIN_PCT_PER_H): number {
  return baseDrainPctPerH / Math.max(0.05, Math.min(1, capacity));
}

export function ageingCutoffPct(capacity: number): number {
  return Math.max(0, Math.min(25, (1 - capacity) * 25));
}

/** RSSI while WiFi fades: down by `depthDb` from `baseDbm`, faster near the end. */
export function fadingRssiDbm(baseDbm: number, depthDb: number, progress: number): number {
  return baseDbm - depthDb * Math.pow(clamp01(progress), 1.5);
}

/** Brief reconnects per hour at a signal level: rare on a good signal, frequent near -85 dBm. */
export function reconnectsPerHour(rssiDbm: number): number {
  return 0.15 + 12 / (1 + Math.exp((rssiDbm + 78) / 3));
}

/** Round trip to the gateway grows as the signal weakens (retransmissions): a factor ≥ 1. */
export function weakSignalRttFactor(rssiDbm: number): number {
  return 1 + Math.exp((-74 - rssiDbm) / 4);
}

/** Errors per hour while firmware leaks toward a crash: a trickle that becomes a flood. */
export function leakErrorsPerHour(progress: number, baselinePerH = 0.3): number {
  return baselinePerH + 60 * Math.pow(clamp01(progress), 2);
}

/** The leaking firmware slows the device: round trip (CPU) grows by this factor. */
export function leakRttFactor(progress: number): number {
  return 1 + 3 * Math.pow(clamp01(progress), 2);
}

function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}
