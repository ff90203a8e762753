/** A hand-made risk model for tests: only the battery's time to empty and lost WAN probes count. */
import { TERMINAL_FEATURES } from '../../../gateway/predict/features/terminal.js';
import { WAN_FEATURES } from '../../../gateway/predict/features/wan.js';
import { parseModel, type RiskModel } from '../../../gateway/predict/model/model.js';

function subject(features: readonly string[], name: string, weights: Record<string, number>, bias: number) {
  return {
    features: [...features],
    families: [
      {
        name,
        basis: features.map((_, i) => [i, null]),
        mean: features.map(() => 0),
        scale: features.map(() => 1),
        weights: features.map((f) => weights[f] ?? 0),
        bias,
        alerts: { warnAt: 0.5, criticalAt: 0.9, clearAt: 0.3, confirmMs: 60_000, clearMs: 300_000 },
      },
    ],
  };
}

export function testModel(): RiskModel {
  return parseModel({
    format: 'tillgate-risk-model',
    formatVersion: 2,
    version: 'test-1',
    trained: { by: 'hand' },
    terminal: subject(TERMINAL_FEATURES, 'battery', { 'battery.urgency': 12 }, -6),
    wan: subject(WAN_FEATURES, 'wan', { 'loss.recent': 14 }, -7),
  });
}

/** §3.7 lines of one terminal whose battery drains from `fromPct` at `pctPerH`, every 30 s. */
export function drainingBattery(store: string, terminal: string, startMs: number, samples: number, fromPct: number, pctPerH: number): string[] {
  return Array.from({ length: samples }, (_, i) => {
    const at = startMs + i * 30_000;
    const batteryPct = Math.max(0, Math.round(fromPct - (pctPerH * i * 30) / 3600));
    return JSON.stringify({ kind: 'health', store, terminal, at: new Date(at).toISOString(), batteryPct, charging: false, rssiDbm: -60, rttMs: 8, reconnects: 0, errors: 0, outboxDepth: 0, outboxOldestAgeS: 0 });
  });
}
