/** Status views for the page's tests: one healthy store, and the problem states built from it. */
import { EMPTY_MONEY, type MoneyTotals } from '../../gateway/store/money.js';
import type { StatusView, TerminalView } from '../../gateway/status-page/view.js';

/** Money waiting made of approved payments only (what most fixtures need). */
export function takings(count: number, byCurrency: Record<string, number>): MoneyTotals {
  return { ...EMPTY_MONEY, takings: { count, byCurrency } };
}

export const MIN_MS = 60_000;

export function terminal(id: string, nowMs: number, overrides: Partial<TerminalView> = {}): TerminalView {
  return {
    id,
    connected: true,
    lastSeenAtMs: nowMs - 2_000,
    headSeq: 120,
    outboxDepth: 0,
    rssiDbm: -58,
    batteryPct: 81,
    rejects: {},
    lastRejectAtMs: null,
    ...overrides,
  };
}

/** 12 connected terminals, link up, nothing waiting. */
export function healthyView(nowMs: number, overrides: Partial<StatusView> = {}): StatusView {
  const terminals = Array.from({ length: 12 }, (_, i) => terminal(`t-${String(i + 1).padStart(2, '0')}`, nowMs));
  return {
    gatewayId: 'gw-1',
    store: 'store-42',
    nowMs,
    uptimeS: 3 * 86_400 + 3_600,
    wan: { state: 'online', sinceMs: nowMs - 2 * 3_600_000, rttMs: 38 },
    forwarder: {
      state: 'idle',
      backlogEvents: 0,
      oldestPendingAgeS: null,
      amountByCurrency: {},
      money: EMPTY_MONEY,
      ratePerS: 4.2,
      lastSuccessAtMs: nowMs - 1_500,
      lastErrorCode: null,
      deadLetters: 0,
    },
    storage: { eventsStored: 18_345, diskFreeBytes: 12 * 1024 ** 3, diskTotalBytes: 32 * 1024 ** 3, diskHighWaterPct: 90, accepting: true },
    terminals,
    alarms: [],
    ...overrides,
  };
}

export function wanDownView(nowMs: number): StatusView {
  const base = healthyView(nowMs);
  return {
    ...base,
    wan: { state: 'offline', sinceMs: nowMs - 12 * MIN_MS - 5_000, rttMs: null },
    forwarder: {
      ...base.forwarder,
      state: 'backoff',
      backlogEvents: 342,
      oldestPendingAgeS: 12 * 60,
      amountByCurrency: { EUR: 421_050 },
      money: takings(342, { EUR: 421_050 }),
      ratePerS: 0,
      lastSuccessAtMs: nowMs - 12 * MIN_MS - 5_000,
      lastErrorCode: 'NETWORK',
    },
  };
}

export function storeFullView(nowMs: number): StatusView {
  const base = healthyView(nowMs);
  return {
    ...base,
    storage: { eventsStored: 2_000_000, diskFreeBytes: 80 * 1024 ** 2, diskTotalBytes: 32 * 1024 ** 3, diskHighWaterPct: 90, accepting: false },
    terminals: base.terminals.map((t, i) => (i < 3 ? { ...t, outboxDepth: 40 + i, rejects: { STORE_FULL: 5 }, lastRejectAtMs: nowMs - MIN_MS } : t)),
    alarms: [{ atMs: nowMs - 3 * MIN_MS, level: 'alarm', code: 'STORE_FULL', message: 'disk passed its high-water mark; not accepting events' }],
  };
}

export function terminalSilentView(nowMs: number): StatusView {
  const base = healthyView(nowMs);
  return {
    ...base,
    terminals: base.terminals.map((t) => (t.id === 't-07' ? { ...t, connected: false, lastSeenAtMs: nowMs - 25 * MIN_MS, outboxDepth: 3, rssiDbm: -91 } : t)),
  };
}

export function rejectsView(nowMs: number): StatusView {
  const base = healthyView(nowMs);
  return {
    ...base,
    terminals: base.terminals.map((t) => (t.id === 't-03' ? { ...t, rejects: { BAD_SIGNATURE: 3, SEQ_GAP: 1 }, lastRejectAtMs: nowMs - 2 * MIN_MS } : t)),
    alarms: [{ atMs: nowMs - 2 * MIN_MS, level: 'alarm', code: 'BAD_SIGNATURE', message: 'event signature does not verify', terminal: 't-03' }],
  };
}

export function deadLettersView(nowMs: number): StatusView {
  const base = healthyView(nowMs);
  return {
    ...base,
    forwarder: { ...base.forwarder, deadLetters: 2, lastErrorCode: null },
    alarms: [{ atMs: nowMs - 5 * MIN_MS, level: 'alarm', code: 'DEAD_LETTER', message: 'cloud rejected t-05 seq 88 (BAD_CHAIN)', terminal: 't-05' }],
  };
}

/** t-04's chain is held: the gateway keeps refusing its transaction no. 17 (PAN_DETECTED). */
export function blockedView(nowMs: number): StatusView {
  const base = healthyView(nowMs);
  return {
    ...base,
    terminals: base.terminals.map((t) => (t.id === 't-04' ? { ...t, chain: 'held', blocked: { seq: 17, code: 'PAN_DETECTED' }, outboxDepth: 6 } : t)),
  };
}

/** Every till reports EUR-scale default offline limits; t-02 refused 3 payments over them. */
export function offlineRefusedView(nowMs: number): StatusView {
  const base = wanDownView(nowMs);
  const limits = { maxTxAmountMinor: 10_000, maxUnackedAmountMinor: 100_000, maxUnackedCount: 200, maxUnackedAgeS: 86_400 };
  return {
    ...base,
    terminals: base.terminals.map((t) => ({
      ...t,
      offlineLimits: limits,
      ...(t.id === 't-02' ? { offlineRefused: { total: 3, byCode: { OFFLINE_LIMIT_AMOUNT: 2, OFFLINE_LIMIT_TOTAL: 1 }, lastAtMs: nowMs - 4 * MIN_MS } } : {}),
    })),
  };
}

/** The storage is damaged: the gateway stopped taking payments. */
export function storeDamagedView(nowMs: number): StatusView {
  const base = healthyView(nowMs);
  return {
    ...base,
    storage: {
      ...base.storage,
      accepting: false,
      integrity: { state: 'damaged', problems: [{ code: 'STORE_CORRUPT', message: 'the event store is damaged (read: checksum mismatch); the gateway stopped taking payments, terminals keep them', atMs: nowMs - 2 * MIN_MS }] },
    },
  };
}
