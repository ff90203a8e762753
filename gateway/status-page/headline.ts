/**
 * The one sentence the page leads with, and the ordered list of problems behind it. A technician
 * reads the first line and knows in ten seconds whether payments are safe and what to fix
 * (issue 5). Problems are ranked by how much they threaten payments right now:
 *
 *  0. storage damaged — the gateway stopped taking payments (terminals hold them); support needed
 *  1. storage full — the gateway no longer takes payments; terminals hold them (DESIGN §4)
 *  1b. acknowledged payments lost from storage — named, terminals may resend them
 *  2. internet down — payments pile up here (safe, but nothing reaches the cloud)
 *  3. dead letters — payments the cloud refused; they need a person
 *  4. security rejects — a terminal sent forged, conflicting or misaddressed events
 *     keys without an endorsement — a cloud that checks endorsements refuses what they sign
 *  5. silent terminals — a till may be off the network and holding payments itself
 *  6. a failure predicted as critical — a terminal or the internet likely to fail soon, and what
 *     to do about it (gateway/predict; warnings stay in the risk section and the alarms)
 *  7. internet unreliable, or sending is behind while the link is up
 *  8. other rejects — a terminal sends events the gateway refuses
 * and "All good" when none applies.
 */
import { formatDuration, plural } from './format.js';
import { moneyPhrase, waitingCountPhrase } from './money-words.js';
import type { RiskView, StatusView, TerminalView } from './view.js';

export type HeadlineLevel = 'ok' | 'warn' | 'alarm';

export interface Problem {
  /** Stable code so tests and scripts never match on the words. */
  readonly code: ProblemCode;
  readonly level: Exclude<HeadlineLevel, 'ok'>;
  readonly sentence: string;
}

export const PROBLEM_CODES = {
  storeDamaged: 'STORE_DAMAGED',
  storeFull: 'STORE_FULL',
  storeLost: 'STORE_LOST',
  wanOffline: 'WAN_OFFLINE',
  deadLetters: 'DEAD_LETTERS',
  securityRejects: 'SECURITY_REJECTS',
  terminalSilent: 'TERMINAL_SILENT',
  wanDegraded: 'WAN_DEGRADED',
  forwardBehind: 'FORWARD_BEHIND',
  rejects: 'REJECTS',
  noCloud: 'NO_CLOUD',
  failurePredicted: 'FAILURE_PREDICTED',
  restoreUnconfirmed: 'RESTORE_UNCONFIRMED',
  keysNotEndorsed: 'KEYS_NOT_ENDORSED',
} as const;
export type ProblemCode = (typeof PROBLEM_CODES)[keyof typeof PROBLEM_CODES];

export interface Headline {
  readonly level: HeadlineLevel;
  /** The first problem's sentence, or the all-good sentence. */
  readonly sentence: string;
  /** Every problem, most urgent first (empty when all is good). */
  readonly problems: readonly Problem[];
}

export interface HeadlineOptions {
  /** A disconnected terminal unseen for longer than this is called out: long enough that a till
   * rebooting or roaming between access points does not raise a false alarm. */
  readonly silentTerminalAfterMs: number;
  /** Rejects newer than this are called out; older ones stay in the terminal table only. */
  readonly rejectWindowMs: number;
  /** With the link up, a backlog older than this means sending is behind. */
  readonly forwardBehindAfterS: number;
}

export const DEFAULT_SILENT_TERMINAL_AFTER_MS = 10 * 60_000;
export const DEFAULT_REJECT_WINDOW_MS = 60 * 60_000;
export const DEFAULT_FORWARD_BEHIND_AFTER_S = 5 * 60;

export const DEFAULT_HEADLINE_OPTIONS: HeadlineOptions = Object.freeze({
  silentTerminalAfterMs: DEFAULT_SILENT_TERMINAL_AFTER_MS,
  rejectWindowMs: DEFAULT_REJECT_WINDOW_MS,
  forwardBehindAfterS: DEFAULT_FORWARD_BEHIND_AFTER_S,
});

/** The forwarder state when the gateway has no cloud configured (gateway-view.ts). */
export const NOT_RUNNING = 'not running';

/**
 * Reject codes that mean someone may be tampering, not just a buggy till (DESIGN §3.3). A reused
 * event id (DUPLICATE_ID) is how a replayed payment would look, so it is called out loudly too.
 */
const SECURITY_REJECT_CODES: ReadonlySet<string> = new Set(['BAD_SIGNATURE', 'UNKNOWN_KEY', 'IDENTITY_MISMATCH', 'CONFLICT', 'BAD_CHAIN', 'DUPLICATE_ID']);
/** Reject codes that are not a problem of their own: `SEQ_GAP` is the normal resync after a
 * terminal reset (the terminal resends from `expected`), `STORE_FULL` is the storage problem. */
const ROUTINE_REJECT_CODES: ReadonlySet<string> = new Set(['SEQ_GAP', 'STORE_FULL']);
/** Most terminal ids one sentence names. */
const MAX_IDS_IN_SENTENCE = 3;

/** Builds the headline for `view`: the most urgent problem in plain words, or "All good". */
export function buildHeadline(view: StatusView, options: HeadlineOptions = DEFAULT_HEADLINE_OPTIONS): Headline {
  const problems = listProblems(view, options);
  const first = problems[0];
  if (first === undefined) return { level: 'ok', sentence: allGoodSentence(view), problems };
  return { level: problems.some((p) => p.level === 'alarm') ? 'alarm' : 'warn', sentence: first.sentence, problems };
}

/** Every current problem, most urgent first (see the ranking at the top of this file). */
export function listProblems(view: StatusView, options: HeadlineOptions = DEFAULT_HEADLINE_OPTIONS): Problem[] {
  const out: Problem[] = [];
  const { wan, forwarder, storage } = view;
  const waiting = waitingPhrase(view);
  const integrity = storage.integrity;
  if (integrity?.state === 'damaged') {
    out.push({ code: PROBLEM_CODES.storeDamaged, level: 'alarm', sentence: 'Storage damaged — this gateway stopped taking payments; terminals are keeping them. Call support' });
  } else if (!storage.accepting) {
    out.push({ code: PROBLEM_CODES.storeFull, level: 'alarm', sentence: 'Storage full — terminals are keeping payments on their own devices' });
  }
  const lost = (integrity?.problems ?? []).filter((p) => p.code !== 'STORE_CORRUPT');
  if (lost.length > 0) {
    const first = lost[lost.length - 1];
    const more = lost.length > 1 ? ` (and ${plural(lost.length - 1, 'more problem')})` : '';
    out.push({ code: PROBLEM_CODES.storeLost, level: 'alarm', sentence: `Storage lost data — ${first?.message ?? ''}${more}` });
  }
  if (view.restore !== undefined && view.restore !== null && view.restore.unconfirmedCount > 0) {
    const n = view.restore.unconfirmedCount;
    const who = n === 1 ? `terminal ${view.restore.unconfirmed[0] ?? ''}` : `${n} terminals (${view.restore.unconfirmed.slice(0, MAX_IDS_IN_SENTENCE).join(', ')}${n > MAX_IDS_IN_SENTENCE ? ` and ${n - MAX_IDS_IN_SENTENCE} more` : ''})`;
    out.push({
      code: PROBLEM_CODES.restoreUnconfirmed,
      level: 'warn',
      sentence: `Restored from a backup — checking with the cloud which payments of ${who} it already has; until then ${n === 1 ? 'its' : 'their'} new payments wait on the ${n === 1 ? 'terminal' : 'terminals'}, safely`,
    });
  }
  if (wan.state === 'offline') {
    const tail = forwarder.backlogEvents > 0 ? `${waiting} waiting, all stored safely on this gateway` : 'no payments waiting; new ones are stored safely on this gateway';
    out.push({ code: PROBLEM_CODES.wanOffline, level: 'alarm', sentence: `Internet down${forPart(view, wan.sinceMs)} — ${tail}` });
  }
  if (forwarder.deadLetters > 0) {
    out.push({
      code: PROBLEM_CODES.deadLetters,
      level: 'alarm',
      sentence: `${plural(forwarder.deadLetters, 'payment was', 'payments were')} refused by the cloud — kept on this gateway, an admin must retry ${forwarder.deadLetters === 1 ? 'it' : 'them'}`,
    });
  }
  const recentRejects = view.terminals.filter((t) => hasRecentRejects(t, view.nowMs, options.rejectWindowMs));
  const security = recentRejects.filter((t) => notableRejects(t).some(([c]) => SECURITY_REJECT_CODES.has(c)));
  if (security.length > 0) {
    out.push({ code: PROBLEM_CODES.securityRejects, level: 'alarm', sentence: rejectSentence(security, true) });
  }
  const unendorsed = view.terminals.filter((t) => (t.keysNotEndorsed ?? 0) > 0);
  if (unendorsed.length > 0) {
    const who = unendorsed.length === 1 ? `Terminal ${unendorsed[0]?.id} has` : `${unendorsed.length} terminals (${idList(unendorsed)}) have`;
    out.push({
      code: PROBLEM_CODES.keysNotEndorsed,
      level: 'warn',
      sentence: `${who} a key without the operator's endorsement — a cloud that checks endorsements refuses its payments; enroll it again with its endorsement`,
    });
  }
  const silent = silentTerminals(view, options.silentTerminalAfterMs);
  if (silent.length > 0) out.push({ code: PROBLEM_CODES.terminalSilent, level: 'warn', sentence: silentSentence(silent) });
  const predicted = predictedSentence(view);
  if (predicted !== null) out.push({ code: PROBLEM_CODES.failurePredicted, level: 'warn', sentence: predicted });
  if (wan.state === 'degraded') {
    const tail = forwarder.backlogEvents > 0 ? `${waiting} waiting, all stored safely on this gateway` : 'nothing waiting';
    out.push({ code: PROBLEM_CODES.wanDegraded, level: 'warn', sentence: `Internet unreliable${forPart(view, wan.sinceMs)} — ${tail}` });
  } else if (forwarder.state === NOT_RUNNING && forwarder.backlogEvents > 0) {
    const sentence = view.storeOnly === true
      ? `Store only — ${waiting} kept on this gateway; nothing is sent to a cloud (--store-only)`
      : `No cloud configured — ${waiting} kept on this gateway, nothing is sent`;
    out.push({ code: PROBLEM_CODES.noCloud, level: 'warn', sentence });
  } else if (wan.state !== 'offline' && (forwarder.oldestPendingAgeS ?? 0) > options.forwardBehindAfterS) {
    out.push({
      code: PROBLEM_CODES.forwardBehind,
      level: 'warn',
      sentence: `Sending to the cloud is behind — ${waiting} waiting, the oldest for ${formatDuration((forwarder.oldestPendingAgeS ?? 0) * 1000)}`,
    });
  }
  const plain = recentRejects.filter((t) => !security.includes(t));
  if (plain.length > 0) out.push({ code: PROBLEM_CODES.rejects, level: 'warn', sentence: rejectSentence(plain, false) });
  return out;
}

/** A subject heard from this long ago has already failed (DESIGN §3.7): no longer a prediction. */
const PREDICTION_STALE_MS = 5 * 60_000;

/** Critical and still current: scored on a sample or probe from the last few minutes. */
export function isCriticalNow(r: RiskView | null | undefined, nowMs: number): r is RiskView {
  return r !== null && r !== undefined && r.level === 'critical' && nowMs - r.atMs < PREDICTION_STALE_MS;
}

function predictedSentence(view: StatusView): string | null {
  const wan = view.prediction?.wan;
  const terminals = view.terminals.filter((t) => isCriticalNow(t.risk, view.nowMs)).sort((a, b) => (b.risk?.risk ?? 0) - (a.risk?.risk ?? 0));
  const first = terminals[0];
  if (first !== undefined) {
    const why = first.risk?.reasons[0];
    const who = terminals.length === 1 ? `Terminal ${first.id} is` : `${terminals.length} terminals are`;
    const ids = terminals.length === 1 ? '' : ` (${idList(terminals)})`;
    return `${who} likely to fail soon${ids}${why === undefined ? '' : ` — ${why}`}`;
  }
  if (isCriticalNow(wan, view.nowMs)) {
    const why = wan.reasons[0];
    return `The internet link is likely to fail soon${why === undefined ? '' : ` — ${why}`}`;
  }
  return null;
}

/**
 * `"342 payments (EUR 4,210.50)"`: approved payments and their takings; refunds, voids and other
 * transactions named apart with their own amounts; declined ones carry no money and are left out
 * (the section below counts them). Only when nothing waiting carries money: `"3 transactions"`.
 */
function waitingPhrase(view: StatusView): string {
  const money = moneyPhrase(view.forwarder.money);
  return money === '' ? plural(view.forwarder.backlogEvents, 'transaction') : money;
}

function forPart(view: StatusView, sinceMs: number | null): string {
  return sinceMs === null ? '' : ` for ${formatDuration(view.nowMs - sinceMs)}`;
}

function allGoodSentence(view: StatusView): string {
  const total = view.terminals.length;
  const connected = view.terminals.filter((t) => t.connected).length;
  const terminals =
    total === 0 ? 'no terminals enrolled yet' : connected === total ? `${plural(total, 'terminal')} connected` : `${connected} of ${plural(total, 'terminal')} connected`;
  const backlog = view.forwarder.backlogEvents;
  const queue = backlog === 0 ? 'nothing waiting' : `${waitingCountPhrase(view.forwarder.money, backlog)} on the way to the cloud`;
  return view.storeOnly === true ? `All good — ${terminals}, store only: nothing is sent to a cloud` : `All good — ${terminals}, ${queue}`;
}

/**
 * How long a disconnected terminal has been silent, or null while connected. Presence lives in
 * memory, so after a gateway restart a terminal not heard from since counts from the start: at
 * least that long.
 */
export function silentForMs(t: TerminalView, view: StatusView): number | null {
  if (t.connected) return null;
  const since = t.lastSeenAtMs ?? view.nowMs - view.uptimeS * 1000;
  return Math.max(0, view.nowMs - since);
}

function silentTerminals(view: StatusView, afterMs: number): { t: TerminalView; ms: number }[] {
  return view.terminals
    .map((t) => ({ t, ms: silentForMs(t, view) ?? 0 }))
    .filter((s) => s.ms > afterMs)
    .sort((a, b) => b.ms - a.ms || (a.t.id < b.t.id ? -1 : 1));
}

function silentSentence(silent: readonly { t: TerminalView; ms: number }[]): string {
  const [first] = silent;
  const longest = formatDuration(first?.ms ?? 0);
  if (silent.length === 1) return `Terminal ${first?.t.id} has not been seen for ${longest}`;
  const shortest = formatDuration(silent[silent.length - 1]?.ms ?? 0);
  return `${silent.length} terminals have not been seen for ${shortest} or more: ${idList(silent.map((s) => s.t))}`;
}

/** The reject counts of `t` worth a sentence (routine codes left out). */
function notableRejects(t: TerminalView): [string, number][] {
  return Object.entries(t.rejects).filter(([code, n]) => n > 0 && !ROUTINE_REJECT_CODES.has(code));
}

function hasRecentRejects(t: TerminalView, nowMs: number, windowMs: number): boolean {
  const count = notableRejects(t).reduce((a, [, n]) => a + n, 0);
  if (count === 0) return false;
  // Unknown time: show it rather than hide a possible attack.
  return t.lastRejectAtMs === null || nowMs - t.lastRejectAtMs <= windowMs;
}

function rejectSentence(terminals: readonly TerminalView[], security: boolean): string {
  const codes = [...new Set(terminals.flatMap((t) => notableRejects(t).map(([c]) => c)))].sort();
  const count = terminals.reduce((sum, t) => sum + notableRejects(t).reduce((a, [, n]) => a + n, 0), 0);
  const who = terminals.length === 1 ? `Terminal ${terminals[0]?.id}` : `${terminals.length} terminals (${idList(terminals)})`;
  const what = `${who} sent ${plural(count, 'event')} the gateway refused (${codes.join(', ')})`;
  return security ? `Possible tampering — ${what.charAt(0).toLowerCase()}${what.slice(1)}` : what;
}

function idList(terminals: readonly TerminalView[]): string {
  const ids = terminals.slice(0, MAX_IDS_IN_SENTENCE).map((t) => t.id);
  const rest = terminals.length - ids.length;
  return rest > 0 ? `${ids.join(', ')} and ${rest} more` : ids.join(', ');
}
