/** Health samples (DESIGN §5.3) on `P/{terminal}/health` every `healthIntervalS`, QoS 0. */
import { isoNow, type Clock } from '../lib/clock.js';
import type { HealthSample } from '../protocol/messages.js';
import type { HostReadings } from './host-readings.js';
import type { OfflineLimits } from './limits.js';
import type { OfflineRefusals } from './offline-refusals.js';
import type { Outbox } from './outbox/outbox.js';
import type { Publisher } from './publisher.js';

/** Every 30 s: enough points for the gateway's trend scoring, ~3 KB/min per terminal. */
export const DEFAULT_HEALTH_INTERVAL_S = 30;

export interface HealthDeps {
  readonly clock: Clock;
  readonly outbox: Outbox;
  readonly publisher: Pick<Publisher, 'rttMs' | 'counters' | 'blocked' | 'chain' | 'publishHealth'>;
  readonly host: HostReadings;
  /**
   * The offline limits and the payments refused over them: the gateway's page says what the tills
   * will refuse while the internet is down, and which till is turning payments away.
   */
  readonly offline?: { readonly limits: OfflineLimits; readonly refusals: Pick<OfflineRefusals, 'sample'> };
  /** `clock.monotonicMs()` when the agent started: `uptimeS` counts from it, as the counters do (absent: no `uptimeS`). */
  readonly startedMonoMs?: number;
}

export async function healthSample(deps: HealthDeps): Promise<HealthSample> {
  const { clock, outbox, publisher, host } = deps;
  const refused = deps.offline?.refusals.sample();
  const limits = deps.offline?.limits;
  const stats = outbox.state === 'open' ? outbox.stats() : undefined;
  const oldest = stats?.oldestRecordedAtMs ?? null;
  const [charging, firmware, deviceErrors] = await Promise.all([host.charging?.() ?? null, host.firmware?.() ?? null, host.deviceErrors?.() ?? 0]);
  return {
    at: isoNow(clock),
    rttMs: publisher.rttMs === null ? null : Math.round(publisher.rttMs * 10) / 10,
    reconnects: publisher.counters.reconnects,
    outboxDepth: stats?.depth ?? 0,
    outboxOldestAgeS: oldest === null ? 0 : Math.max(0, Math.round((clock.now() - oldest) / 1000)),
    errors: publisher.counters.errors + deviceErrors,
    rssiDbm: await host.rssiDbm(),
    batteryPct: await host.batteryPct(),
    charging,
    ...(deps.startedMonoMs === undefined ? {} : { uptimeS: Math.max(0, Math.floor((clock.monotonicMs() - deps.startedMonoMs) / 1000)) }),
    ...(firmware === null ? {} : { firmware }),
    // Where the chain stands, the event holding (or being moved past) it, and how many are set aside.
    chain: publisher.chain.kind,
    ...(publisher.blocked === undefined ? {} : { blockedSeq: publisher.blocked.seq, blockedCode: publisher.blocked.code }),
    ...(stats === undefined || stats.rejected === 0 ? {} : { setAside: stats.rejected }),
    ...(refused === undefined ? {} : { offlineRefused: refused }),
    ...(limits === undefined
      ? {}
      : {
          offlineLimits: {
            maxTxAmountMinor: limits.maxOfflineTxAmountMinor,
            maxUnackedAmountMinor: limits.maxUnackedAmountMinor,
            maxUnackedCount: limits.maxUnackedCount,
            maxUnackedAgeS: limits.maxUnackedAgeS,
          },
        }),
    // Acknowledged payments kept until the cloud has them, and any deleted before it did (over the bound).
    ...(stats === undefined || stats.retained === 0 ? {} : { retained: stats.retained }),
    ...(publisher.counters.retainedDropped === 0 ? {} : { retainedDropped: publisher.counters.retainedDropped }),
  };
}

/** Starts the periodic sampler; returns a stop function. */
export function startHealthReporter(deps: HealthDeps, intervalS: number): () => void {
  const timer = setInterval(() => {
    void healthSample(deps).then((s) => deps.publisher.publishHealth(s), () => undefined);
  }, intervalS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
