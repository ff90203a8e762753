/** The forwarder's part of `/api/status` and `GET /api/forwarder`: a plain JSON snapshot. */
import type { Clock } from '../../lib/clock.js';
import type { ForwardQueue } from '../forward-queue.js';
import type { MoneyTotals } from '../store/money.js';
import type { Forwarder, ForwarderState } from './forwarder.js';
import type { LatencySummary } from './stats.js';

export interface ForwarderStatus {
  readonly state: ForwarderState;
  /** Events not yet accepted by the cloud (dead letters excluded). */
  readonly backlog: number;
  readonly oldestPendingAgeS: number | null;
  /** Takings waiting: approved payments only, minor units per currency. */
  readonly amountPendingByCurrency: Readonly<Record<string, number>>;
  /** Everything waiting by what it means in money (takings, refunds, voids, other, declined, unclassified). */
  readonly moneyPending: MoneyTotals;
  readonly ratePerS: number;
  readonly lastSuccessAt: string | null;
  readonly lastError: { readonly code: string; readonly at: string } | null;
  readonly nextAttemptAt: string | null;
  readonly deadLetters: number;
  readonly batchesSent: number;
  readonly batchesFailed: number;
  readonly eventsAccepted: number;
  readonly eventsDuplicate: number;
  readonly eventsDeadLettered: number;
  readonly gapRepairs: number;
  readonly alarms: Readonly<Record<string, number>>;
  readonly latency: LatencySummary;
  readonly cursor: number;
  readonly head: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function forwarderStatus(forwarder: Forwarder, queue: ForwardQueue, clock: Clock): ForwarderStatus {
  const backlog = queue.backlog();
  const s = forwarder.stats;
  return {
    state: forwarder.state,
    backlog: backlog.events,
    oldestPendingAgeS: backlog.oldestStoredAtMs === null ? null : Math.max(0, Math.round((clock.now() - backlog.oldestStoredAtMs) / 1000)),
    amountPendingByCurrency: backlog.amountByCurrency,
    moneyPending: backlog.money,
    ratePerS: Math.round(s.ratePerS() * 10) / 10,
    lastSuccessAt: iso(s.lastSuccessAtMs),
    lastError: s.lastError === null ? null : { code: s.lastError.code, at: new Date(s.lastError.atMs).toISOString() },
    nextAttemptAt: iso(forwarder.nextAttemptAtMs),
    deadLetters: queue.deadLetterCount(),
    batchesSent: s.counters.batchesSent,
    batchesFailed: s.counters.batchesFailed,
    eventsAccepted: s.counters.eventsAccepted,
    eventsDuplicate: s.counters.eventsDuplicate,
    eventsDeadLettered: s.counters.eventsDeadLettered,
    gapRepairs: s.counters.gapRepairs,
    alarms: { ...s.counters.alarms },
    latency: s.latencySummary(),
    cursor: queue.cursor(),
    head: queue.head(),
  };
}
