/**
 * The one sentence the page leads with, and every problem behind it, each with what to do. A
 * technician reads the first line and knows in ten seconds whether payments are safe and what to
 * fix. Problems are ranked by the problem catalogue (gateway/problem-catalogue.ts: storage damaged ›
 * storage full › storage lost data › internet down › the cloud refusing the gateway › a till
 * refusing payments › payments refused by the cloud › conflicting or forged transactions › tills
 * refusing payments over their offline limits › tills near their offline limits › keys without
 * endorsement › tills not seen › a till or the internet likely to fail soon (a critical failure
 * prediction, gateway/predict) › disk nearly full › a disk that will be full within a day › tills
 * just disconnected › wrong clocks › internet unreliable or sending behind › other refusals), and
 * "All good" only when none applies.
 */
import { PROBLEM_CATALOGUE, problemRank, type ProblemCode, type ProblemLevel } from '../problem-catalogue.js';
import { formatBytes, formatDuration, plural } from './format.js';
import { moneyPhrase, waitingCountPhrase } from './money-words.js';
import { offlineLimitsPhrase } from './offline-words.js';
import {
  nearOfflineLimit,
  notableRejects,
  problemsOfTerminal,
  SECURITY_REJECT_CODES,
  silentForMs,
  startedAtMs,
  type OfflineLimitNear,
  type TerminalThresholds,
} from './terminal-problems.js';
import { dayTime } from './time-words.js';
import type { RiskView, StatusView, TerminalView } from './view.js';
import { integrityWords, offlineRefusalWords } from './words.js';

export { silentForMs } from './terminal-problems.js';

export type HeadlineLevel = 'ok' | ProblemLevel;

/** A disk that reaches its mark sooner than this, at the rate it is filling, is a problem: a day's notice. */
export const DISK_FILL_WARN_MS = 24 * 3_600_000;

const formatRate = (pctPerH: number) => (pctPerH >= 10 ? String(Math.round(pctPerH)) : pctPerH >= 0.1 ? pctPerH.toFixed(1) : pctPerH.toFixed(2));

export interface Problem {
  /** Stable code (gateway/problem-catalogue.ts) so tests and scripts never match on the words. */
  readonly code: ProblemCode;
  readonly level: ProblemLevel;
  readonly sentence: string;
  /** What to do, in plain words: the catalogue's action and the facts of the moment (`actionLines` joined). */
  readonly action: string;
  /** The same, one paragraph each: the catalogue's action first. */
  readonly actionLines: readonly string[];
  /** What it is about: terminal ids, or `wan`, `cloud`, `gateway`. */
  readonly subjects: readonly string[];
}

/** The catalogue's codes under the names the page's code has always used. */
export const PROBLEM_CODES = {
  storeDamaged: 'STORE_DAMAGED',
  storeFull: 'STORE_FULL',
  storeLost: 'STORE_LOST',
  wanOffline: 'WAN_OFFLINE',
  cloudAuth: 'CLOUD_AUTH',
  terminalBlocked: 'TERMINAL_BLOCKED',
  deadLetters: 'DEAD_LETTERS',
  conflict: 'CONFLICT',
  securityRejects: 'SECURITY_REJECTS',
  offlineRefused: 'OFFLINE_REFUSED',
  offlineLimitNear: 'OFFLINE_LIMIT_NEAR',
  keysNotEndorsed: 'KEYS_NOT_ENDORSED',
  terminalSilent: 'TERMINAL_SILENT',
  diskReserve: 'DISK_RESERVE',
  diskFilling: 'DISK_FILLING',
  terminalDisconnected: 'TERMINAL_DISCONNECTED',
  clockSkew: 'CLOCK_SKEW',
  wanDegraded: 'WAN_DEGRADED',
  noCloud: 'NO_CLOUD',
  forwardBehind: 'FORWARD_BEHIND',
  rejects: 'REJECTS',
  failurePredicted: 'FAILURE_PREDICTED',
  restoreUnconfirmed: 'RESTORE_UNCONFIRMED',
} as const satisfies Record<string, ProblemCode>;

export interface Headline {
  readonly level: HeadlineLevel;
  /** The first problem's sentence, or the all-good sentence. */
  readonly sentence: string;
  /** Every problem, most urgent first (empty when all is good). */
  readonly problems: readonly Problem[];
}

export interface HeadlineOptions extends TerminalThresholds {
  /** With the link up, a backlog older than this means sending is behind. */
  readonly forwardBehindAfterS: number;
}

/**
 * A till restarts or roams between access points within a minute or two; past three minutes it is
 * off, out of WiFi or broken, and a technician in the store wants to know while still there.
 */
export const DEFAULT_SILENT_TERMINAL_AFTER_MS = 3 * 60_000;
export const DEFAULT_REJECT_WINDOW_MS = 60 * 60_000;
export const DEFAULT_FORWARD_BEHIND_AFTER_S = 5 * 60;
/** Clocks on NTP agree within a second; two minutes off means nobody set the till's time. */
export const DEFAULT_CLOCK_SKEW_AFTER_MS = 2 * 60_000;
/** A till that turned payments away in the last hour is still worth a technician's question. */
export const DEFAULT_OFFLINE_REFUSED_WINDOW_MS = 60 * 60_000;

export const DEFAULT_HEADLINE_OPTIONS: HeadlineOptions = Object.freeze({
  silentTerminalAfterMs: DEFAULT_SILENT_TERMINAL_AFTER_MS,
  rejectWindowMs: DEFAULT_REJECT_WINDOW_MS,
  forwardBehindAfterS: DEFAULT_FORWARD_BEHIND_AFTER_S,
  clockSkewAfterMs: DEFAULT_CLOCK_SKEW_AFTER_MS,
  offlineRefusedWindowMs: DEFAULT_OFFLINE_REFUSED_WINDOW_MS,
});

/** The forwarder state when the gateway has no cloud configured (gateway-view.ts). */
export const NOT_RUNNING = 'not running';

/** Most terminal ids one sentence names. */
const MAX_IDS_IN_SENTENCE = 3;

/** Builds the headline for `view`: the most urgent problem in plain words, or "All good". */
export function buildHeadline(view: StatusView, options: HeadlineOptions = DEFAULT_HEADLINE_OPTIONS): Headline {
  const problems = listProblems(view, options);
  const first = problems[0];
  if (first === undefined) return { level: 'ok', sentence: allGoodSentence(view), problems };
  return { level: problems.some((p) => p.level === 'alarm') ? 'alarm' : 'warn', sentence: first.sentence, problems };
}

function problem(code: ProblemCode, sentence: string, subjects: readonly string[], ...extra: string[]): Problem {
  const info = PROBLEM_CATALOGUE[code];
  const actionLines = [info.action, ...extra.filter((line) => line !== '')];
  return { code, level: info.level, sentence, action: actionLines.join(' '), actionLines, subjects };
}

/** Every current problem, most urgent first (the catalogue's order). */
export function listProblems(view: StatusView, options: HeadlineOptions = DEFAULT_HEADLINE_OPTIONS): Problem[] {
  const out: Problem[] = [...gatewayProblems(view, options), ...terminalGroupProblems(view, options)];
  return out.sort((a, b) => problemRank(a.code) - problemRank(b.code));
}

function gatewayProblems(view: StatusView, options: HeadlineOptions): Problem[] {
  const out: Problem[] = [];
  const { wan, forwarder, storage } = view;
  const waiting = waitingPhrase(view);
  const limits = offlineLimitsPhrase(view);
  const integrity = storage.integrity;
  const damaged = integrity?.state === 'damaged';
  if (damaged) {
    out.push(problem('STORE_DAMAGED', 'Storage damaged — this gateway stopped taking payments; terminals are keeping them. Call support', ['gateway'], limits));
  }
  // A full disk is named even under damage: it needs its own fix before a restart helps.
  if (!storage.accepting && (!damaged || diskPastMark(storage))) {
    out.push(problem('STORE_FULL', 'Storage full — terminals are keeping payments on their own devices', ['gateway'], limits));
  }
  const lost = (integrity?.problems ?? []).filter((p) => p.code !== 'STORE_CORRUPT');
  if (lost.length > 0) {
    const first = lost[lost.length - 1];
    const more = lost.length > 1 ? ` (and ${plural(lost.length - 1, 'more problem')})` : '';
    out.push(problem('STORE_LOST', `Storage lost data — ${first === undefined ? '' : integrityWords(first)}${more}`, ['gateway']));
  }
  if (view.restore !== undefined && view.restore !== null && view.restore.unconfirmedCount > 0) {
    const n = view.restore.unconfirmedCount;
    const who = n === 1 ? `terminal ${view.restore.unconfirmed[0] ?? ''}` : `${n} terminals (${view.restore.unconfirmed.slice(0, MAX_IDS_IN_SENTENCE).join(', ')}${n > MAX_IDS_IN_SENTENCE ? ` and ${n - MAX_IDS_IN_SENTENCE} more` : ''})`;
    out.push(problem(
      'RESTORE_UNCONFIRMED',
      `Restored from a backup — checking with the cloud which payments of ${who} it already has; until then ${n === 1 ? 'its' : 'their'} new payments wait on the ${n === 1 ? 'terminal' : 'terminals'}, safely`,
      ['gateway'],
    ));
  }
  if (wan.state === 'offline') {
    const tail = forwarder.backlogEvents > 0 ? `${waiting} waiting, all stored safely on this gateway` : 'no payments waiting; new ones are stored safely on this gateway';
    const cut = wan.reason === 'LINK_CUT' && wan.cutUntilMs !== undefined && wan.cutUntilMs !== null;
    const what = cut ? `Internet cut for a test by an admin (until ${dayTime(wan.cutUntilMs ?? 0, view.nowMs, tz(view))})` : `Internet down${forPart(view, wan.sinceMs)}`;
    const restore = cut ? 'This is a test: restore the link under Admin actions, or wait until then.' : '';
    out.push(problem('WAN_OFFLINE', `${what} — ${tail}`, ['wan'], restore, limits));
  }
  const authCode = forwarder.lastErrorCode;
  if (authCode === 'HTTP_401' || authCode === 'HTTP_403') {
    const tail = forwarder.backlogEvents > 0 ? `${waiting} waiting here` : 'nothing is sent';
    out.push(problem('CLOUD_AUTH', `The cloud refuses this gateway's token (${authCode}) — ${tail}`, ['cloud']));
  }
  if (forwarder.deadLetters > 0) {
    out.push(problem(
      'DEAD_LETTERS',
      `${plural(forwarder.deadLetters, 'payment was', 'payments were')} refused by the cloud — kept on this gateway, an admin must retry ${forwarder.deadLetters === 1 ? 'it' : 'them'}`,
      ['cloud'],
    ));
  }
  if (storage.reserve === 'released' && storage.accepting) {
    const free = storage.diskFreeBytes === null ? '' : `${formatBytes(storage.diskFreeBytes)} free; `;
    const mark = storage.diskHighWaterPct === null ? 'it stops taking payments when the disk is full' : `it stops taking payments at ${storage.diskHighWaterPct} % used`;
    out.push(problem('DISK_RESERVE', `Disk nearly full — ${free}${mark}`, ['gateway']));
  }
  const fill = storage.diskFill;
  if (fill !== undefined && fill !== null && storage.accepting && storage.reserve !== 'released' && fill.fullInMs <= DISK_FILL_WARN_MS) {
    const mark = storage.diskHighWaterPct === null ? 'full' : `at ${storage.diskHighWaterPct} % used, where it stops taking payments`;
    out.push(problem(
      'DISK_FILLING',
      `Disk filling up — ${Math.round(fill.usedPct)} % used and rising ${formatRate(fill.risingPctPerH)} % an hour: ${mark} in about ${formatDuration(fill.fullInMs)}`,
      ['gateway'],
    ));
  }
  const predicted = predictedProblem(view);
  if (predicted !== null) out.push(predicted);
  if (wan.state === 'degraded') {
    const tail = forwarder.backlogEvents > 0 ? `${waiting} waiting, all stored safely on this gateway` : 'nothing waiting';
    out.push(problem('WAN_DEGRADED', `Internet unreliable${forPart(view, wan.sinceMs)} — ${tail}`, ['wan']));
  } else if (forwarder.state === NOT_RUNNING && forwarder.backlogEvents > 0) {
    const sentence = view.storeOnly === true
      ? `Store only — ${waiting} kept on this gateway; nothing is sent to a cloud (--store-only)`
      : `No cloud configured — ${waiting} kept on this gateway, nothing is sent`;
    out.push(problem('NO_CLOUD', sentence, ['cloud']));
  } else if (wan.state !== 'offline' && (forwarder.oldestPendingAgeS ?? 0) > options.forwardBehindAfterS) {
    out.push(problem(
      'FORWARD_BEHIND',
      `Sending to the cloud is behind — ${waiting} waiting, the oldest for ${formatDuration((forwarder.oldestPendingAgeS ?? 0) * 1000)}`,
      ['cloud'],
    ));
  }
  return out;
}

/** A subject heard from this long ago has already failed (DESIGN §3.7): no longer a prediction. */
const PREDICTION_STALE_MS = 5 * 60_000;

/** Critical and still current: scored on a sample or probe from the last few minutes. */
export function isCriticalNow(r: RiskView | null | undefined, nowMs: number): r is RiskView {
  return r !== null && r !== undefined && r.level === 'critical' && nowMs - r.atMs < PREDICTION_STALE_MS;
}

/** A critical failure prediction (warnings stay in the risk section and the alarms): the terminals, else the internet link. */
function predictedProblem(view: StatusView): Problem | null {
  const wan = view.prediction?.wan;
  const terminals = view.terminals.filter((t) => isCriticalNow(t.risk, view.nowMs)).sort((a, b) => (b.risk?.risk ?? 0) - (a.risk?.risk ?? 0));
  const first = terminals[0];
  if (first !== undefined) {
    const why = first.risk?.reasons[0];
    const who = terminals.length === 1 ? `Terminal ${first.id} is` : `${terminals.length} terminals are`;
    const ids = terminals.length === 1 ? '' : ` (${idList(terminals)})`;
    return problem('FAILURE_PREDICTED', `${who} likely to fail soon${ids}${why === undefined ? '' : ` — ${why}`}`, terminals.map((t) => t.id));
  }
  if (isCriticalNow(wan, view.nowMs)) {
    const why = wan.reasons[0];
    return problem('FAILURE_PREDICTED', `The internet link is likely to fail soon${why === undefined ? '' : ` — ${why}`}`, ['wan']);
  }
  return null;
}

/** The terminal problems, one per code, naming every terminal it applies to. */
function terminalGroupProblems(view: StatusView, options: HeadlineOptions): Problem[] {
  const byCode = new Map<ProblemCode, TerminalView[]>();
  for (const t of view.terminals) {
    for (const code of problemsOfTerminal(t, view, options)) byCode.set(code, [...(byCode.get(code) ?? []), t]);
  }
  const out: Problem[] = [];
  for (const [code, terminals] of byCode) {
    const ids = terminals.map((t) => t.id);
    const sentence = terminalSentence(code, terminals, view);
    out.push(problem(code, sentence, ids));
  }
  return out;
}

function terminalSentence(code: ProblemCode, terminals: readonly TerminalView[], view: StatusView): string {
  const one = terminals.length === 1 ? terminals[0] : undefined;
  switch (code) {
    case 'TERMINAL_BLOCKED': {
      if (one !== undefined) {
        const b = one.blocked;
        const why = b === undefined || b === null
          ? 'the gateway keeps refusing its transactions'
          : b.code === 'GATEWAY_BEHIND'
            ? `this gateway holds fewer of its transactions than it confirmed (${b.code})`
            : `the gateway keeps refusing its transaction no. ${b.seq} (${b.code})`;
        return `Terminal ${one.id} is refusing payments — ${why}`;
      }
      return `${terminals.length} terminals are refusing payments (${idList(terminals)}) — the gateway keeps refusing their transactions`;
    }
    case 'CONFLICT': {
      const who = one !== undefined ? `Terminal ${one.id}` : `${terminals.length} terminals (${idList(terminals)})`;
      return `${who} sent a different transaction under a number already stored here (CONFLICT)`;
    }
    case 'SECURITY_REJECTS':
      return `Possible tampering — ${rejectPhrase(terminals, (c) => SECURITY_REJECT_CODES.has(c), true)}`;
    case 'REJECTS':
      return rejectPhrase(terminals, (c) => c !== 'CONFLICT' && !SECURITY_REJECT_CODES.has(c), false);
    case 'OFFLINE_REFUSED': {
      if (one !== undefined) {
        const r = one.offlineRefused;
        const total = r?.total ?? 0;
        const latest = r?.lastAtMs === undefined || r.lastAtMs === null ? '' : `, the latest ${formatAgoShort(r.lastAtMs, view.nowMs)}`;
        const which = offlineRefusalWords(r?.byCode ?? {});
        return `Terminal ${one.id} refused ${plural(total, 'card payment')} over its offline limits (${which}${latest})`;
      }
      const total = terminals.reduce((n, t) => n + (t.offlineRefused?.total ?? 0), 0);
      return `${terminals.length} terminals refused ${plural(total, 'card payment')} over their offline limits (${idList(terminals)})`;
    }
    case 'OFFLINE_LIMIT_NEAR': {
      if (one !== undefined) {
        const n = nearOfflineLimit(one, view);
        if (n !== null) return offlineLimitSentence(one.id, n);
      }
      return `${terminals.length} terminals are near their offline limits (${idList(terminals)}) — they hold payments this gateway has not stored, and refuse card payments past their limits`;
    }
    case 'KEYS_NOT_ENDORSED': {
      const who = one !== undefined ? `Terminal ${one.id} has` : `${terminals.length} terminals (${idList(terminals)}) have`;
      return `${who} a key without the operator's endorsement — a cloud that checks endorsements refuses its payments`;
    }
    case 'TERMINAL_SILENT':
      return silentSentence(terminals, view);
    case 'TERMINAL_DISCONNECTED': {
      if (one !== undefined) {
        if (one.lastSeenAtMs === null) return `Terminal ${one.id} has not connected yet`;
        return `Terminal ${one.id} disconnected ${formatAgoShort(one.lastSeenAtMs, view.nowMs)}`;
      }
      return `${terminals.length} terminals disconnected in the last few minutes: ${idList(terminals)}`;
    }
    case 'CLOCK_SKEW': {
      if (one !== undefined) {
        const skew = one.clockSkewMs ?? 0;
        return `Terminal ${one.id}'s clock is ${formatDuration(Math.abs(skew))} ${skew < 0 ? 'behind' : 'ahead'}`;
      }
      const least = Math.min(...terminals.map((t) => Math.abs(t.clockSkewMs ?? 0)));
      return `${terminals.length} terminals' clocks are off by ${formatDuration(least)} or more: ${idList(terminals)}`;
    }
    default:
      return `${PROBLEM_CATALOGUE[code].title}: ${idList(terminals)}`;
  }
}

function tz(view: StatusView): string {
  return view.timeZone ?? 'UTC';
}

/** `"40 s ago"`, `"just now"`. */
function formatAgoShort(atMs: number, nowMs: number): string {
  const ms = nowMs - atMs;
  return ms < 1000 ? 'just now' : `${formatDuration(ms)} ago`;
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

/** True when the disk is known to be used past the high-water mark (the gateway stops taking payments there). */
function diskPastMark(storage: StatusView['storage']): boolean {
  const { diskFreeBytes: free, diskTotalBytes: total, diskHighWaterPct: mark } = storage;
  if (free === null || total === null || mark === null || total <= 0) return false;
  return ((total - free) / total) * 100 >= mark;
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

function silentSentence(terminals: readonly TerminalView[], view: StatusView): string {
  const silent = terminals
    .map((t) => ({ t, ms: silentForMs(t, view) ?? 0 }))
    .sort((a, b) => b.ms - a.ms || (a.t.id < b.t.id ? -1 : 1));
  const [first] = silent;
  if (first === undefined) return '';
  if (silent.length === 1) {
    const t = first.t;
    if (t.lastSeenAtMs === null) return `Terminal ${t.id} has never connected`;
    if (t.lastSeenAtMs < startedAtMs(view)) {
      return `Terminal ${t.id} has not been seen since ${dayTime(t.lastSeenAtMs, view.nowMs, tz(view))}, before the gateway restarted (${formatDuration(first.ms)} ago)`;
    }
    return `Terminal ${t.id} has not been seen for ${formatDuration(first.ms)}`;
  }
  const shortest = formatDuration(silent[silent.length - 1]?.ms ?? 0);
  return `${silent.length} terminals have not been seen for ${shortest} or more: ${idList(silent.map((s) => s.t))}`;
}

function rejectPhrase(terminals: readonly TerminalView[], counts: (code: string) => boolean, lower: boolean): string {
  const picked = (t: TerminalView) => notableRejects(t).filter(([c]) => counts(c));
  const codes = [...new Set(terminals.flatMap((t) => picked(t).map(([c]) => c)))].sort();
  const count = terminals.reduce((sum, t) => sum + picked(t).reduce((a, [, n]) => a + n, 0), 0);
  const who = terminals.length === 1 ? `Terminal ${terminals[0]?.id}` : `${terminals.length} terminals (${idList(terminals)})`;
  const what = `${who} sent ${plural(count, 'transaction')} the gateway refused (${codes.join(', ')})`;
  return lower ? `${what.charAt(0).toLowerCase()}${what.slice(1)}` : what;
}

function idList(terminals: readonly TerminalView[]): string {
  const ids = terminals.slice(0, MAX_IDS_IN_SENTENCE).map((t) => t.id);
  const rest = terminals.length - ids.length;
  return rest > 0 ? `${ids.join(', ')} and ${rest} more` : ids.join(', ');
}

function offlineLimitSentence(id: string, n: OfflineLimitNear): string {
  const held = `it holds ${plural(n.held, 'payment')} this gateway has not stored`;
  if (n.inMs === null) return `Terminal ${id} holds ${n.held} payments this gateway has not stored, of the ${n.limitCount} its offline limit allows — past that it refuses card payments`;
  const oldest = `the oldest ${formatDuration(n.oldestAgeMs)} old, its limit ${formatDuration(n.limitAgeMs)}`;
  if (n.inMs <= 0) return `Terminal ${id} is at its offline limit and refuses card payments — ${held}, ${oldest}`;
  return `Terminal ${id} will refuse card payments in about ${formatDuration(n.inMs)} — ${held}, ${oldest}`;
}
