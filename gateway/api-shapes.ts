/**
 * One JSON shape for each thing the gateway's API shows in more than one place, built by one
 * function each, so `/api/status`, `/api/forwarder` and `/api/terminals` cannot disagree (a test
 * compares them): the backlog (what waits for the cloud), the internet link, a terminal, a problem.
 * Money is in ISO 4217 minor units and says so in its name (`…Minor`); the older names are kept as
 * aliases for scripts written against earlier releases (README "Status API").
 */
import type { Clock } from '../lib/clock.js';
import type { ForwardQueue } from './forward-queue.js';
import { PROBLEM_CATALOGUE, type ProblemCode } from './problem-catalogue.js';
import type { MoneyTotals, TxClass } from './store/money.js';
import { TX_CLASSES } from './store/money.js';
import { isBlocked, silentForMs, type TerminalThresholds } from './status-page/terminal-problems.js';
import type { StatusView, TerminalView } from './status-page/view.js';

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export interface MoneyBucketJson {
  readonly count: number;
  /** Minor units per ISO 4217 currency; never summed across currencies. */
  readonly byCurrencyMinor: Readonly<Record<string, number>>;
}

/** Money waiting by class (takings, refunds, voids, other, declined, unclassified), minor units. */
export function moneyJson(money: MoneyTotals): Readonly<Record<TxClass, MoneyBucketJson>> {
  const out = {} as Record<TxClass, MoneyBucketJson>;
  for (const cls of TX_CLASSES) out[cls] = { count: money[cls].count, byCurrencyMinor: { ...money[cls].byCurrency } };
  return out;
}

/** What waits for the cloud: `/api/status` `backlog` and `/api/forwarder` `backlog`. */
export function backlogJson(queue: ForwardQueue, clock: Clock) {
  const b = queue.backlog();
  return {
    /** Transactions stored here and not yet accepted by the cloud (refused ones excluded). */
    events: b.events,
    /** Approved payments among them (takings). */
    payments: b.money.takings.count,
    oldestPendingAgeS: b.oldestStoredAtMs === null ? null : Math.max(0, Math.floor((clock.now() - b.oldestStoredAtMs) / 1000)),
    /** Takings waiting, minor units per currency. */
    amountByCurrencyMinor: { ...b.amountByCurrency },
    moneyMinor: moneyJson(b.money),
    /** Transactions the cloud refused, kept here for an admin retry. */
    deadLetters: queue.deadLetterCount(),
    queueHead: queue.head(),
    cursor: queue.cursor(),
    /** Earlier names of `amountByCurrencyMinor` and `moneyMinor` (minor units too), kept for older scripts. */
    amountByCurrency: { ...b.amountByCurrency },
    money: b.money,
  };
}
export type BacklogJson = ReturnType<typeof backlogJson>;

/** The WAN monitor's view of the link, as the JSON shows it. */
export interface WanLinkFacts {
  readonly state: string;
  readonly sinceMs: number;
  readonly rttMs: number | null;
  readonly reason: string | null;
  /** While an admin's test cut is on: when it ends. */
  readonly cutUntilMs: number | null;
}

/** The internet link: `/api/forwarder` `wan` and `/api/status` `wanLink` (null without a cloud). */
export function wanJson(link: WanLinkFacts) {
  return { state: link.state, since: new Date(link.sinceMs).toISOString(), rttMs: link.rttMs, reason: link.state === 'online' ? null : link.reason, outageUntil: iso(link.cutUntilMs) };
}
export type WanJson = ReturnType<typeof wanJson>;

/** `connected`; `disconnected` (recently); `silent` (longer than the threshold); `never-seen`. */
export type TerminalPresence = 'connected' | 'disconnected' | 'silent' | 'never-seen';

/** One terminal: every entry of `/api/status` `terminals` and `/api/terminals` `terminals`, and the base of `/api/terminals/:id`. */
export function terminalJson(t: TerminalView, problems: readonly ProblemCode[], view: StatusView, th: Pick<TerminalThresholds, 'silentTerminalAfterMs'>) {
  const silentMs = silentForMs(t, view);
  const presence: TerminalPresence = silentMs === null ? 'connected' : t.lastSeenAtMs === null ? 'never-seen' : silentMs > th.silentTerminalAfterMs ? 'silent' : 'disconnected';
  const refused = t.offlineRefused ?? null;
  return {
    terminal: t.id,
    connected: t.connected,
    lastSeenAt: iso(t.lastSeenAtMs),
    /** Highest transaction number stored for this terminal (0: none yet). */
    headSeq: t.headSeq,
    presence,
    /** Its problems, most urgent first (codes of the problem catalogue). */
    problems: [...problems],
    /** From its latest health sample: transactions waiting on the till, where its chain stands, what holds it. */
    outboxDepth: t.outboxDepth,
    chain: t.chain ?? null,
    blocked: isBlocked(t) && t.blocked !== undefined && t.blocked !== null ? { seq: t.blocked.seq, code: t.blocked.code } : null,
    offlineRefused: refused === null ? null : { total: refused.total, byCode: { ...refused.byCode }, lastAt: iso(refused.lastAtMs) },
    clockSkewS: t.clockSkewMs === undefined || t.clockSkewMs === null ? null : Math.round(t.clockSkewMs / 1000),
    rssiDbm: t.rssiDbm,
    batteryPct: t.batteryPct,
    lastHealthAt: iso(t.sampleAtMs),
    keysNotEndorsed: t.keysNotEndorsed ?? 0,
    /** Refusals by code among the gateway's recent reject records. */
    recentRejects: { ...t.rejects },
    /** Failure risk from its health samples (DESIGN §3.7); null before its first sample or without prediction. */
    risk: riskJson(t.risk),
  };
}
export type TerminalJson = ReturnType<typeof terminalJson>;

/** A subject's failure risk: `risk`, `level`, `reasons` (what is wrong and what to do), `since` (null: clear since start). */
export function riskJson(r: { readonly risk: number; readonly level: string; readonly reasons: readonly string[]; readonly sinceMs: number | null } | null | undefined) {
  return r === null || r === undefined ? null : { risk: r.risk, level: r.level, reasons: [...r.reasons], since: iso(r.sinceMs) };
}

/** One problem, as the page says it: `/api/status` `problems`. */
export function problemJson(p: { readonly code: ProblemCode; readonly level: string; readonly sentence: string; readonly action: string; readonly subjects: readonly string[] }) {
  return { code: p.code, level: p.level, title: PROBLEM_CATALOGUE[p.code].title, sentence: p.sentence, action: p.action, subjects: [...p.subjects] };
}
