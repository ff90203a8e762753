/** Health samples (DESIGN §5.3) on `P/{terminal}/health` every `healthIntervalS`, QoS 0. */
import { isoNow, type Clock } from '../lib/clock.js';
import type { HealthSample } from '../protocol/messages.js';
import type { HostReadings } from './host-readings.js';
import type { Outbox } from './outbox/outbox.js';
import type { Publisher } from './publisher.js';

/** Every 30 s: enough points for the gateway's trend scoring, ~3 KB/min per terminal. */
export const DEFAULT_HEALTH_INTERVAL_S = 30;

export interface HealthDeps {
  readonly clock: Clock;
  readonly outbox: Outbox;
  /** What a sample reads from the publisher (and how it is sent). */
  readonly publisher: Pick<Publisher, 'rttMs' | 'counters' | 'blocked' | 'publishHealth'>;
  readonly host: HostReadings;
  /** `clock.monotonicMs()` when the agent started: `uptimeS` counts from it, as the counters do. */
  readonly startedMonoMs: number;
}

export async function healthSample(deps: HealthDeps): Promise<HealthSample> {
  const { clock, outbox, publisher, host } = deps;
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
    uptimeS: Math.max(0, Math.floor((clock.monotonicMs() - deps.startedMonoMs) / 1000)),
    ...(firmware === null ? {} : { firmware }),
    // The event holding (or being moved past) the chain, and how many are set aside for an operator.
    ...(publisher.blocked === undefined ? {} : { blockedSeq: publisher.blocked.seq, blockedCode: publisher.blocked.code }),
    ...(stats === undefined || stats.rejected === 0 ? {} : { setAside: stats.rejected }),
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
