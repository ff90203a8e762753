/**
 * What is wrong with one terminal, from what the gateway knows of it: its connection and last-seen
 * time (which survives a restart), its latest health sample (chain held, payments refused over its
 * offline limits, its clock), its recent refusals and its keys. Pure functions over the view: the
 * headline groups these per code, the terminal table shows them and sorts problem terminals first.
 */
import { problemRank, type ProblemCode } from '../problem-catalogue.js';
import type { StatusView, TerminalView } from './view.js';

export interface TerminalThresholds {
  /** A disconnected terminal unseen for longer than this is "not seen" rather than "disconnected". */
  readonly silentTerminalAfterMs: number;
  /** Rejects newer than this are called out; older ones stay in the terminal table only. */
  readonly rejectWindowMs: number;
  /** A till's clock off by more than this (either way) is called out. */
  readonly clockSkewAfterMs: number;
  /** Payments refused over the offline limits within this are called out. */
  readonly offlineRefusedWindowMs: number;
}

/** Reject codes that mean someone may be tampering, not just a buggy till (DESIGN §3.3); a reused
 * event id (DUPLICATE_ID) is how a replayed payment would look. CONFLICT is named on its own. */
export const SECURITY_REJECT_CODES: ReadonlySet<string> = new Set(['BAD_SIGNATURE', 'UNKNOWN_KEY', 'IDENTITY_MISMATCH', 'BAD_CHAIN', 'DUPLICATE_ID']);
/** Reject codes that are no problem of their own: `SEQ_GAP` is the normal resync after a terminal
 * reset (the terminal resends from `expected`), `STORE_FULL` is the storage problem. */
export const ROUTINE_REJECT_CODES: ReadonlySet<string> = new Set(['SEQ_GAP', 'STORE_FULL']);

export interface TerminalProblem {
  readonly code: ProblemCode;
  readonly terminal: TerminalView;
}

/**
 * How long a disconnected terminal has been silent, or null while connected. Last-seen times
 * survive a restart; a terminal never seen counts from when the gateway started (at least that long).
 */
export function silentForMs(t: TerminalView, view: StatusView): number | null {
  if (t.connected) return null;
  const since = t.lastSeenAtMs ?? view.nowMs - view.uptimeS * 1000;
  return Math.max(0, view.nowMs - since);
}

/** When the gateway started, on its clock. */
export function startedAtMs(view: StatusView): number {
  return view.nowMs - view.uptimeS * 1000;
}

/** The reject counts of `t` worth a sentence (routine codes left out). */
export function notableRejects(t: TerminalView): [string, number][] {
  return Object.entries(t.rejects).filter(([code, n]) => n > 0 && !ROUTINE_REJECT_CODES.has(code));
}

function hasRecentRejects(t: TerminalView, nowMs: number, windowMs: number): boolean {
  if (notableRejects(t).length === 0) return false;
  // Unknown time: show it rather than hide a possible attack.
  return t.lastRejectAtMs === null || nowMs - t.lastRejectAtMs <= windowMs;
}

/** True when the till's chain is held: it refuses payments (`record()` answers CHAIN_BLOCKED). */
export function isBlocked(t: TerminalView): boolean {
  // An agent older than the `chain` field sends blockedSeq only while held or moving past (a few ms).
  return t.chain === 'held' || ((t.chain === undefined || t.chain === null) && t.blocked !== undefined && t.blocked !== null);
}

/** Payments refused over the offline limits recently (unknown time counts as recent). */
export function refusedOfflineRecently(t: TerminalView, nowMs: number, windowMs: number): boolean {
  const r = t.offlineRefused;
  if (r === undefined || r === null || r.total <= 0) return false;
  return r.lastAtMs === null || nowMs - r.lastAtMs <= windowMs;
}

/** A till whose oldest payment not stored here reaches its age limit sooner than this is named. */
export const OFFLINE_LIMIT_WARN_MS = 60 * 60_000;
/** …and one holding this share of the payments its limit allows. */
export const OFFLINE_COUNT_WARN_SHARE = 0.8;

export interface OfflineLimitNear {
  /** Until its oldest payment not stored here passes the age limit (≤ 0: past it); null when the count is what is near. */
  readonly inMs: number | null;
  readonly oldestAgeMs: number;
  readonly limitAgeMs: number;
  readonly held: number;
  readonly limitCount: number;
}

/**
 * A till that still reports (so it is on and reachable) but holds payments this gateway has not
 * stored, close to its own offline limits: the age of the oldest grows a second a second, so the
 * time left is the limit minus that age, counted on from the sample. The count is every payment it
 * holds, where its limit counts the approved ones only: it errs early, never late. Null when not
 * near, or when the till already refuses (that is `OFFLINE_REFUSED`).
 */
export function nearOfflineLimit(t: TerminalView, view: StatusView): OfflineLimitNear | null {
  const limits = t.offlineLimits;
  const sampleAtMs = t.sampleAtMs;
  if (limits === undefined || limits === null || sampleAtMs === undefined || sampleAtMs === null || silentForMs(t, view) !== null) return null;
  const held = t.outboxDepth ?? 0;
  const age = t.outboxOldestAgeS ?? 0;
  if (held <= 0 || age <= 0) return null;
  const oldestAgeMs = age * 1000 + Math.max(0, view.nowMs - sampleAtMs);
  const limitAgeMs = limits.maxUnackedAgeS * 1000;
  const inMs = limitAgeMs > 0 ? limitAgeMs - oldestAgeMs : null;
  const byAge = inMs !== null && inMs <= OFFLINE_LIMIT_WARN_MS;
  const byCount = limits.maxUnackedCount > 0 && held >= OFFLINE_COUNT_WARN_SHARE * limits.maxUnackedCount;
  if (!byAge && !byCount) return null;
  return { inMs: byAge ? inMs : null, oldestAgeMs, limitAgeMs, held, limitCount: limits.maxUnackedCount };
}

/** Every problem of one terminal, most urgent first. */
export function problemsOfTerminal(t: TerminalView, view: StatusView, th: TerminalThresholds): ProblemCode[] {
  const out: ProblemCode[] = [];
  if (isBlocked(t)) out.push('TERMINAL_BLOCKED');
  if (hasRecentRejects(t, view.nowMs, th.rejectWindowMs)) {
    const codes = notableRejects(t).map(([c]) => c);
    if (codes.includes('CONFLICT')) out.push('CONFLICT');
    if (codes.some((c) => SECURITY_REJECT_CODES.has(c))) out.push('SECURITY_REJECTS');
    if (codes.some((c) => c !== 'CONFLICT' && !SECURITY_REJECT_CODES.has(c))) out.push('REJECTS');
  }
  if (refusedOfflineRecently(t, view.nowMs, th.offlineRefusedWindowMs)) out.push('OFFLINE_REFUSED');
  else if (nearOfflineLimit(t, view) !== null) out.push('OFFLINE_LIMIT_NEAR');
  if ((t.keysNotEndorsed ?? 0) > 0) out.push('KEYS_NOT_ENDORSED');
  const silentMs = silentForMs(t, view);
  if (silentMs !== null) out.push(silentMs > th.silentTerminalAfterMs ? 'TERMINAL_SILENT' : 'TERMINAL_DISCONNECTED');
  if (t.clockSkewMs !== undefined && t.clockSkewMs !== null && Math.abs(t.clockSkewMs) > th.clockSkewAfterMs) out.push('CLOCK_SKEW');
  return out.sort((a, b) => problemRank(a) - problemRank(b));
}

/** Terminals with problems first (the most urgent problem first), then the rest, each group by id. */
export function sortTerminals(view: StatusView, th: TerminalThresholds): { t: TerminalView; problems: ProblemCode[] }[] {
  const rows = view.terminals.map((t) => ({ t, problems: problemsOfTerminal(t, view, th) }));
  const rank = (r: { problems: ProblemCode[] }) => (r.problems[0] === undefined ? Number.MAX_SAFE_INTEGER : problemRank(r.problems[0]));
  return rows.sort((a, b) => rank(a) - rank(b) || (a.t.id < b.t.id ? -1 : a.t.id > b.t.id ? 1 : 0));
}
