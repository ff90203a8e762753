/** `MetricsSources` over the gateway's live parts (the same status sources `/api/status` reads). */
import type { StatusSources } from '../status.js';
import type { MetricsSources } from './gateway-metrics.js';

export function gatewayMetricsSources(
  s: StatusSources,
  wanState?: () => ReturnType<MetricsSources['wanState']> | null,
  problems?: MetricsSources['problems'],
): MetricsSources {
  return {
    ingestTotals: () => ({ stored: s.pipeline.counts.stored, duplicate: s.pipeline.counts.duplicates, rejected: s.pipeline.counts.rejected }),
    rejectTotals: () => s.eventStore.stats().rejectsByCode,
    backlogEvents: () => s.queue.backlog().events,
    backlogMoney: () => s.queue.backlog().money,
    oldestPendingAgeS: () => {
      const oldest = s.queue.backlog().oldestStoredAtMs;
      return oldest === null ? null : Math.max(0, (s.clock.now() - oldest) / 1000);
    },
    deadLetters: () => s.queue.deadLetterCount(),
    eventsStored: () => s.eventStore.stats().eventsStored,
    accepting: () => s.accepting(),
    integrityState: () => s.integrity.state,
    wanState: () => {
      const detail = wanState?.();
      if (detail !== undefined && detail !== null) return detail;
      const w = s.wan();
      return w.source === 'unknown' ? 'unknown' : w.state;
    },
    diskFreeBytes: () => s.disk.usage()?.freeBytes ?? null,
    diskFullInSeconds: () => s.disk.fullInSeconds(),
    terminalsConnected: () => s.presence.connectedCount(),
    ...(s.prediction === undefined
      ? {}
      : {
          risks: () => s.prediction!.list(),
          modelVersion: () => s.prediction!.modelVersion,
          predictAlertTotals: () => s.prediction!.alertCounts(),
        }),
    terminals: () =>
      s.eventStore.terminalIds().map((terminal) => {
        const presence = s.presence.get(terminal);
        const sample = s.health.latest(terminal)?.sample;
        const held = sample?.chain === 'held' || (sample?.chain === undefined && sample?.blockedSeq !== undefined);
        return {
          terminal,
          connected: presence.connected,
          lastSeenAtMs: presence.lastSeenAtMs,
          outboxDepth: sample?.outboxDepth ?? null,
          blocked: held,
          offlineRefused: sample === undefined ? null : (sample.offlineRefused?.total ?? 0),
        };
      }),
    ...(problems === undefined ? {} : { problems }),
  };
}
