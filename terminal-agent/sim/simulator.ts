/**
 * The fleet simulator (`tillgate simulate`, `npm start`): N terminals with traffic and faults
 * against a real gateway. `startSimulator` runs until `stop()` (or `durationS`), then lets every
 * outbox drain and reports: recorded, acked, rejected, refused, max outbox depth, per terminal.
 */
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../lib/logger.js';
import type { Signer } from '../../protocol/signer.js';
import type { OfflineLimits } from '../limits.js';
import { DEGRADATION_MODES } from '../../protocol/degradation.js';
import type { DegradationPlan } from './degrader.js';
import { seededRandom } from './random.js';
import { SimTerminal, type SimTerminalStats } from './sim-terminal.js';

export interface SimulatorOptions {
  readonly gatewayUrl: string;
  readonly mqttUrl: string;
  readonly adminToken: string;
  readonly store: string;
  readonly dir: string;
  readonly terminals: number;
  /** Payments per second per terminal (Poisson). */
  readonly ratePerS: number;
  /** Undefined: run until stop(). */
  readonly durationS?: number;
  /** Mean WiFi outage length; 0 = no drops. */
  readonly wifiDropMeanS?: number;
  /** Mean time between outages. */
  readonly wifiUpMeanS?: number;
  /** Mean time between restarts of a terminal; 0 = none. */
  readonly restartEveryS?: number;
  /** Each terminal's clock is off by a uniform amount in ±clockSkewS. */
  readonly clockSkewS?: number;
  /** After traffic stops, how long to wait for every outbox to drain. */
  readonly drainTimeoutS?: number;
  readonly healthIntervalS?: number;
  readonly seed?: number;
  readonly terminalPrefix?: string;
  readonly limits?: Partial<OfflineLimits>;
  /**
   * The operator's provisioning key (DESIGN §3.1): endorses the key of every terminal this run
   * creates. Without it only directories endorsed and enrolled by an earlier run can be used.
   */
  readonly provisioning?: Signer;
  readonly logger?: Logger;
  /** Terminals whose health degrades until they fail (battery, WiFi, errors in turn); 0 = none. */
  readonly degrading?: number;
  /** Seconds until the first degrading terminal fails; each next one 5 minutes later. */
  readonly degradeFailAfterS?: number;
  /** Seconds a failed terminal stays dead before it is fixed. */
  readonly degradeDeadForS?: number;
  /** A PSP to authorise online payments with (e.g. `tillgate psp-sim`); none: payments are only recorded. */
  readonly pspUrl?: string;
}

export const DEFAULT_SIMULATOR = Object.freeze({
  /** 20 s between drops on average: store WiFi that "drops often". */
  wifiUpMeanS: 20,
  /** Enough for a 10,000-event backlog at the measured drain rate, with margin. */
  drainTimeoutS: 120,
  healthIntervalS: 10,
  /** Terminal count bound: one process simulating more than this measures itself, not the gateway. */
  maxTerminals: 500,
  /** A demo's first failure after 15 minutes: time for its health to show the trouble. */
  degradeFailAfterS: 900,
  /** Dead for 10 minutes: long enough to be a failure (5 minutes of silence, DESIGN §3.7). */
  degradeDeadForS: 600,
});

/** Which terminals degrade, spread over the fleet, and how: battery, WiFi, errors in turn. */
export function degradationPlans(terminals: number, degrading: number, failAfterS: number, deadForS: number): Map<number, DegradationPlan> {
  const plans = new Map<number, DegradationPlan>();
  const n = Math.max(0, Math.min(terminals, Math.floor(degrading)));
  for (let k = 0; k < n; k++) {
    const index = Math.floor(((k + 0.5) * terminals) / n);
    plans.set(index, { mode: DEGRADATION_MODES[k % DEGRADATION_MODES.length]!, failAfterS: failAfterS + k * 300, deadForS });
  }
  return plans;
}

export interface SimulatorSummary {
  readonly terminals: number;
  readonly durationS: number;
  readonly recorded: number;
  readonly acked: number;
  readonly pending: number;
  readonly rejected: number;
  readonly refused: Record<string, number>;
  readonly restarts: number;
  readonly wifiDrops: number;
  readonly maxOutboxDepth: number;
  readonly drained: boolean;
  readonly perTerminal: readonly SimTerminalStats[];
  /** The degrading terminals and where each stands (`degrading`, `dead`, `fixed`). */
  readonly degraded: readonly { readonly terminal: string; readonly mode: string; readonly phase: string }[];
}

export interface SimulatorHandle {
  stats(): SimulatorSummary;
  /** Stops traffic, drains, stops every terminal; resolves with the final summary. */
  stop(): Promise<SimulatorSummary>;
  /** Resolves with the final summary when the run ends (duration reached or stop()). */
  readonly done: Promise<SimulatorSummary>;
}

export async function startSimulator(o: SimulatorOptions): Promise<SimulatorHandle> {
  if (!Number.isInteger(o.terminals) || o.terminals < 1 || o.terminals > DEFAULT_SIMULATOR.maxTerminals) {
    throw new RangeError(`terminals must be 1..${DEFAULT_SIMULATOR.maxTerminals}`);
  }
  const random = seededRandom(o.seed ?? Date.now());
  const mqtt = new URL(o.mqttUrl);
  const logger = o.logger ?? silentLogger;
  const startedMs = Date.now();
  const prefix = o.terminalPrefix ?? 'sim';
  const fleet: SimTerminal[] = [];
  const plans = degradationPlans(o.terminals, o.degrading ?? 0, o.degradeFailAfterS ?? DEFAULT_SIMULATOR.degradeFailAfterS, o.degradeDeadForS ?? DEFAULT_SIMULATOR.degradeDeadForS);
  for (let i = 1; i <= o.terminals; i++) {
    const plan = plans.get(i - 1);
    const terminal = `${prefix}-${String(i).padStart(3, '0')}`;
    fleet.push(new SimTerminal({
      store: o.store, terminal, dir: join(o.dir, terminal), gatewayUrl: o.gatewayUrl, adminToken: o.adminToken,
      mqttHost: mqtt.hostname, mqttPort: Number(mqtt.port || 1883), ratePerS: o.ratePerS,
      wifiDropMeanS: o.wifiDropMeanS ?? 0, wifiUpMeanS: o.wifiUpMeanS ?? DEFAULT_SIMULATOR.wifiUpMeanS,
      restartEveryS: o.restartEveryS ?? 0, clockSkewMs: ((random() * 2 - 1) * (o.clockSkewS ?? 0)) * 1000,
      healthIntervalS: o.healthIntervalS ?? DEFAULT_SIMULATOR.healthIntervalS,
      random: seededRandom(Math.floor(random() * 2 ** 32)), logger: logger.child({ terminal }),
      ...(o.limits === undefined ? {} : { limits: o.limits }),
      ...(plan === undefined ? {} : { degradation: plan }),
      ...(o.pspUrl === undefined ? {} : { pspUrl: o.pspUrl }),
      ...(o.provisioning === undefined ? {} : { provisioning: o.provisioning }),
    }));
  }
  // Enroll a few at a time: the gateway hashes each password with scrypt.
  for (let i = 0; i < fleet.length; i += 8) await Promise.all(fleet.slice(i, i + 8).map((t) => t.prepare()));
  const started: SimTerminal[] = [];
  try {
    for (const t of fleet) {
      await t.start();
      started.push(t);
    }
  } catch (err) {
    await Promise.all(started.map((t) => t.stop()));
    throw err;
  }
  const sampler = setInterval(() => fleet.forEach((t) => t.refresh()), 250);
  let drained = false;

  const summary = (): SimulatorSummary => {
    const per = fleet.map((t) => ({ ...t.refresh(), refused: { ...t.stats.refused } }));
    const refused: Record<string, number> = {};
    for (const p of per) for (const [k, v] of Object.entries(p.refused)) refused[k] = (refused[k] ?? 0) + v;
    const sum = (f: (s: SimTerminalStats) => number) => per.reduce((n, s) => n + f(s), 0);
    return {
      terminals: fleet.length,
      durationS: Math.round((Date.now() - startedMs) / 100) / 10,
      recorded: sum((s) => s.recorded),
      acked: sum((s) => s.acked),
      pending: sum((s) => s.depth),
      rejected: sum((s) => s.rejected),
      refused,
      restarts: sum((s) => s.restarts),
      wifiDrops: sum((s) => s.drops),
      maxOutboxDepth: Math.max(0, ...per.map((s) => s.maxOutboxDepth)),
      drained,
      perTerminal: per,
      degraded: fleet.flatMap((t) => {
        const d = t.degradation;
        return d === null ? [] : [{ terminal: t.stats.terminal, ...d }];
      }),
    };
  };

  let stopping: Promise<SimulatorSummary> | undefined;
  let durationTimer: NodeJS.Timeout | undefined;
  const stop = (): Promise<SimulatorSummary> => {
    stopping ??= (async () => {
      clearTimeout(durationTimer);
      for (const t of fleet) t.stopTraffic();
      const deadline = Date.now() + (o.drainTimeoutS ?? DEFAULT_SIMULATOR.drainTimeoutS) * 1000;
      while (Date.now() < deadline && !fleet.every((t) => t.drained())) await new Promise((r) => setTimeout(r, 100));
      drained = fleet.every((t) => t.drained());
      clearInterval(sampler);
      await Promise.all(fleet.map((t) => t.stop()));
      return summary();
    })();
    return stopping;
  };
  let resolveDone: (s: SimulatorSummary) => void = () => undefined;
  const done = new Promise<SimulatorSummary>((resolve) => (resolveDone = resolve));
  const handle: SimulatorHandle = {
    stats: summary,
    stop: () => stop().then((s) => (resolveDone(s), s)),
    done,
  };
  if (o.durationS !== undefined) durationTimer = setTimeout(() => void handle.stop(), o.durationS * 1000);
  return handle;
}
