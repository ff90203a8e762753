/**
 * What a 200 means for the entries of one batch (DESIGN §3.4), as a pure function: walks the
 * entries in queue order and stops at the first event that is not settled. Only the settled
 * prefix may move the cursor; everything after it is sent again (the cloud answers `duplicate` for
 * what it already has, so a resend costs bytes, never a double effect).
 *
 * Statuses and codes are open sets: a rejection with a code this gateway does not know (or a known
 * permanent one such as KEY_REVOKED or DUPLICATE_ID) is a permanent rejection of that one event, a
 * dead letter; a status it does not know is a dead letter too (`UNKNOWN_STATUS`, see there).
 */
import type { DeadLetter, ForwardEntry } from '../forward-queue.js';
import type { ReceivedIngestResult } from '../../protocol/ingest-api.js';

type IngestResult = ReceivedIngestResult;

/**
 * The dead-letter code of an event the cloud answered with a status this gateway does not know
 * (statuses are an open set, DESIGN §3.4). We cannot tell whether the cloud holds it: counting it
 * as accepted could let retention delete the only copy; retrying it would resend the same batch
 * forever (the stall the contract forbids). As a dead letter it stays on the gateway, the queue
 * moves on, an alarm is raised, and an admin retry settles it (a newer cloud answering `duplicate`
 * recovers it).
 */
export const UNKNOWN_STATUS = 'UNKNOWN_STATUS';

/** Why settling stopped before the end of the batch. */
export type SettleStop =
  /** The cloud lacks this terminal's events from `expected` (lost, pruned, or dead-lettered). */
  | { readonly kind: 'gap'; readonly terminal: string; readonly seq: number; readonly expected: number }
  /** The cloud does not know the key: resend the terminal's enrollments, then this event. */
  | { readonly kind: 'unknown-key'; readonly terminal: string; readonly seq: number };

export type SettleVerdict =
  | {
      readonly kind: 'settled';
      /** Highest pos of the settled prefix; equals the cursor passed in when nothing settled. */
      readonly throughPos: number;
      readonly accepted: number;
      readonly duplicates: number;
      /** Events the cloud refused for good, inside the settled prefix. */
      readonly deadLetters: readonly DeadLetter[];
      readonly stop: SettleStop | null;
    }
  | { readonly kind: 'malformed'; readonly reason: string };

export interface SettleContext {
  readonly cursor: number;
  readonly nowMs: number;
  /** True when a repair for (terminal, expected) already failed: the event is dead-lettered instead. */
  isBlocked(terminal: string, expected: number): boolean;
  /** True when this very request carried the terminal's enrollments (a second UNKNOWN_KEY is final). */
  keysWereSent(terminal: string): boolean;
}

type EventEntry = Extract<ForwardEntry, { kind: 'event' }>;

export function settleBatch(entries: readonly ForwardEntry[], results: readonly IngestResult[], ctx: SettleContext): SettleVerdict {
  const events = entries.filter((e): e is EventEntry => e.kind === 'event');
  if (results.length !== events.length) return { kind: 'malformed', reason: `${results.length} results for ${events.length} events` };
  let throughPos = ctx.cursor;
  let accepted = 0;
  let duplicates = 0;
  const deadLetters: DeadLetter[] = [];
  let k = 0;
  for (const entry of entries) {
    if (entry.kind === 'enrollment') {
      // An enrollment carries no result of its own: the 200 recorded it (DESIGN §3.4).
      throughPos = entry.pos;
      continue;
    }
    const result = results[k++] as IngestResult;
    if ((result.terminal !== null && result.terminal !== entry.terminal) || (result.seq !== null && result.seq !== entry.seq)) {
      return { kind: 'malformed', reason: `result ${k - 1} names ${result.terminal}/${result.seq}, sent ${entry.terminal}/${entry.seq}` };
    }
    if (result.status === 'accepted' || result.status === 'duplicate') {
      if (result.status === 'accepted') accepted++;
      else duplicates++;
      throughPos = entry.pos;
      continue;
    }
    if (result.status !== 'rejected') {
      deadLetters.push(unknownStatusLetter(entry, result.status, ctx.nowMs));
      throughPos = entry.pos;
      continue;
    }
    const stop = stopFor(entry, result, ctx);
    if (stop !== null) return { kind: 'settled', throughPos, accepted, duplicates, deadLetters, stop };
    deadLetters.push(deadLetterOf(entry, result, ctx.nowMs));
    throughPos = entry.pos;
  }
  return { kind: 'settled', throughPos, accepted, duplicates, deadLetters, stop: null };
}

function stopFor(entry: EventEntry, result: IngestResult, ctx: SettleContext): SettleStop | null {
  if (result.code === 'SEQ_GAP' && result.expected !== undefined && result.expected >= 1 && result.expected < entry.seq) {
    if (ctx.isBlocked(entry.terminal, result.expected)) return null;
    return { kind: 'gap', terminal: entry.terminal, seq: entry.seq, expected: result.expected };
  }
  if (result.code === 'UNKNOWN_KEY' && !ctx.keysWereSent(entry.terminal)) {
    return { kind: 'unknown-key', terminal: entry.terminal, seq: entry.seq };
  }
  return null;
}

function unknownStatusLetter(entry: EventEntry, status: string, nowMs: number): DeadLetter {
  return {
    pos: entry.pos, terminal: entry.terminal, seq: entry.seq, code: UNKNOWN_STATUS, atMs: nowMs,
    message: `cloud answered ${entry.terminal}/${entry.seq} with status "${status}", unknown to this gateway: kept here until an admin retry settles it`,
  };
}

function deadLetterOf(entry: EventEntry, result: IngestResult, nowMs: number): DeadLetter {
  const code = result.code ?? 'REJECTED';
  const detail = result.expected !== undefined ? ` (cloud expects seq ${result.expected})` : '';
  return { pos: entry.pos, terminal: entry.terminal, seq: entry.seq, code, message: `cloud rejected ${entry.terminal}/${entry.seq}: ${code}${detail}`, atMs: nowMs };
}
