/**
 * The start-up consistency check (bounded work: a few short reads per terminal, nothing scans the
 * events). It holds the stored heads, the forward cursor, the queue head and the tail of every chain
 * against each other, and against what is outside LevelDB's log: the witness file (store/witness.ts)
 * and what LevelDB itself wrote about its recovery (its `LOG` file). What it finds is named: which
 * terminal, which seqs, which queue positions. It repairs only what would otherwise silently lose
 * more (a queue head behind the cursor would put new events where the forwarder never looks).
 *
 * Pure reads; the caller reports the findings (gateway/integrity.ts) and applies the repair.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chainHash } from '../../protocol/chain.js';
import { INTEGRITY_CODES, type IntegrityProblem } from '../integrity.js';
import { eventKey, pad, unpad } from './keys.js';
import type { LevelEventStore } from './level-event-store.js';
import { assertStoredEvent } from './records.js';
import type { WitnessRead } from './witness.js';

/** Events read back from each terminal's head: a hole this recent is found at start. */
export const TAIL_CHECK_EVENTS = 16;
/**
 * When LevelDB says it dropped part of its log, the lost records are among the writes since its last
 * table flush (a 4 MiB log holds a few thousand events): each chain is walked back this far, within
 * LOG_DAMAGE_WALK_BUDGET events in all, to name exactly which seqs are gone.
 */
export const LOG_DAMAGE_WALK_EVENTS = 10_000;
export const LOG_DAMAGE_WALK_BUDGET = 100_000;
/** Most of LevelDB's `LOG` read: the lines of this open are at its start and few. */
const MAX_LEVEL_LOG_BYTES = 256 * 1024;

export interface StartFinding {
  /** One key per problem, so a restart reports the same problem under the same key. */
  readonly key: string;
  readonly problem: Omit<IntegrityProblem, 'atMs'>;
}

/** An acknowledged chain head the store lost: kept in the witness until it is resolved. */
export interface LostHead {
  readonly terminal: string;
  /** First seq missing (the store's head + 1). */
  readonly from: number;
  /** The witnessed head: what had been acknowledged. */
  readonly seq: number;
  readonly hash: string;
}

export interface StartCheckResult {
  readonly findings: readonly StartFinding[];
  /** Raise the queue head to this (new positions must lie past the cursor), or null. */
  readonly raiseQueueHeadTo: number | null;
  readonly lostHeads: readonly LostHead[];
}

const range = (from: number, through: number) => (from === through ? `${from}` : `${from}–${through}`);

export async function checkStoreOnStart(store: LevelEventStore, witness: WitnessRead, levelLog: string): Promise<StartCheckResult> {
  const findings: StartFinding[] = [];
  const lostHeads: LostHead[] = [];
  const s = store.sections;
  const queueHead = store.ingestMeta.queueHead;
  const cursor = store.queue.cursor();
  let raiseQueueHeadTo: number | null = null;

  // What LevelDB said while replaying its log (it drops damaged records and carries on).
  for (const line of levelLog.split('\n')) {
    if (!/dropping \d+ bytes|Corruption/.test(line)) continue;
    const what = line.replace(/^\S+ \S+ /, '').slice(0, 300);
    findings.push({
      key: `log:${findings.length}`,
      problem: { code: INTEGRITY_CODES.logDamaged, severity: 'degraded', message: `the event store's write-ahead log was damaged; LevelDB skipped part of it while opening (${what})` },
    });
  }

  // The cursor past the queue head: the entries in between (accepted by the cloud) are gone, and
  // new entries would get positions the forwarder has already passed.
  if (cursor > queueHead) {
    raiseQueueHeadTo = cursor;
    findings.push({
      key: `queue:${queueHead + 1}-${cursor}`,
      problem: {
        code: INTEGRITY_CODES.queueEntriesMissing, severity: 'degraded',
        message: `forward queue positions ${range(queueHead + 1, cursor)} are gone from the store (the cloud had accepted them); new events continue after them`,
      },
    });
  } else if (cursor < queueHead) {
    // Everything after the cursor is waiting: retention never touches it, so it must all be there.
    const first = await firstKey(s.queue.keys({ gt: pad(cursor), lte: pad(queueHead), limit: 1 }));
    const last = await firstKey(s.queue.keys({ gt: pad(cursor), lte: pad(queueHead), reverse: true, limit: 1 }));
    const missing: [number, number][] = [];
    if (first === null) missing.push([cursor + 1, queueHead]);
    else {
      if (first > cursor + 1) missing.push([cursor + 1, first - 1]);
      if (last !== null && last < queueHead) missing.push([last + 1, queueHead]);
    }
    for (const [from, through] of missing) {
      findings.push({
        key: `queue:${from}-${through}`,
        problem: { code: INTEGRITY_CODES.queueEntriesMissing, severity: 'degraded', message: `forward queue positions ${range(from, through)} are not in the store: what they held was never sent from here` },
      });
    }
  }

  // The tail of every chain: the head's event is there, hashes to the head, and links back; further
  // back (bounded) when LevelDB said its log was damaged.
  const logDamaged = findings.length > 0;
  let budget = LOG_DAMAGE_WALK_BUDGET;
  for (const terminal of store.terminalIds()) {
    const head = store.head(terminal);
    if (head.seq === 0) continue;
    const prunedThrough = numberOr0(await s.pruned.get(terminal));
    const window = logDamaged ? Math.max(TAIL_CHECK_EVENTS, Math.min(LOG_DAMAGE_WALK_EVENTS, budget)) : TAIL_CHECK_EVENTS;
    const from = Math.max(prunedThrough + 1, head.seq - window + 1);
    budget = Math.max(0, budget - (head.seq - from + 1));
    if (from > head.seq) continue;
    const stored = new Map<number, string>();
    for await (const [key, value] of s.events.iterator({ gte: eventKey(terminal, from), lte: eventKey(terminal, head.seq) })) {
      const seq = unpad(key.slice(terminal.length + 1));
      stored.set(seq, assertStoredEvent(value, terminal, seq).jws);
    }
    const gaps = missingRuns(from, head.seq, stored);
    for (const [a, b] of gaps) {
      findings.push({
        key: `events:${terminal}:${a}-${b}`,
        problem: {
          code: INTEGRITY_CODES.eventsMissing, severity: 'degraded', terminal, seqs: { from: a, through: b },
          message: `terminal ${terminal}: events ${range(a, b)} were acknowledged but are not in the store`,
        },
      });
    }
    const top = stored.get(head.seq);
    const broken = (top !== undefined && chainHash(top) !== head.hash) || linkBreak(from, head.seq, stored) !== null;
    if (broken) {
      findings.push({
        key: `chain:${terminal}`,
        problem: { code: INTEGRITY_CODES.chainBroken, severity: 'degraded', terminal, message: `terminal ${terminal}: the stored events near seq ${head.seq} do not link up into one chain` },
      });
    }
  }

  // The witness: what had been acknowledged and is not in the store any more.
  if (witness.kind === 'ok') {
    for (const [terminal, seen] of Object.entries(witness.witness.heads)) {
      const head = store.terminal(terminal) === undefined ? { seq: 0, hash: '' } : store.head(terminal);
      if (seen.seq <= head.seq) continue;
      lostHeads.push({ terminal, from: head.seq + 1, seq: seen.seq, hash: seen.hash });
      const enrolled = store.terminal(terminal) !== undefined;
      findings.push({
        key: lostKey(terminal, seen.seq),
        problem: {
          code: INTEGRITY_CODES.eventsMissing, severity: 'degraded', terminal, seqs: { from: head.seq + 1, through: seen.seq },
          message: `terminal ${terminal}: events ${range(head.seq + 1, seen.seq)} were acknowledged but are not in the store (its write-ahead log lost them); ` +
            (enrolled ? 'the terminal resends them if it still has them' : 'its enrollment was lost too: enroll it again so it can resend them'),
        },
      });
    }
    // (Queue positions the witness saw and the store lost are not reported on their own: they held
    // the events named above, which get new positions when the terminal resends them.)
  }
  return { findings, raiseQueueHeadTo, lostHeads };
}

/** The integrity key of a lost chain head (witness side), shared with the resolver. */
export function lostKey(terminal: string, seq: number): string {
  return `lost:${terminal}:${seq}`;
}

/** The `LOG` LevelDB wrote while opening `dir` (empty when there is none). */
export async function readLevelLog(dir: string): Promise<string> {
  try {
    const bytes = await readFile(join(dir, 'LOG'));
    return bytes.subarray(0, MAX_LEVEL_LOG_BYTES).toString('utf8');
  } catch {
    return '';
  }
}

function numberOr0(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

async function firstKey(keys: AsyncIterable<string>): Promise<number | null> {
  for await (const key of keys) return unpad(key);
  return null;
}

function missingRuns(from: number, through: number, present: ReadonlyMap<number, string>): [number, number][] {
  const out: [number, number][] = [];
  let start: number | null = null;
  for (let seq = from; seq <= through; seq++) {
    if (!present.has(seq)) start ??= seq;
    else if (start !== null) {
      out.push([start, seq - 1]);
      start = null;
    }
  }
  if (start !== null) out.push([start, through]);
  return out;
}

/** The first seq whose `prev` is not the chain hash of the stored seq before it, or null. */
function linkBreak(from: number, through: number, stored: ReadonlyMap<number, string>): number | null {
  for (let seq = from + 1; seq <= through; seq++) {
    const jws = stored.get(seq);
    const before = stored.get(seq - 1);
    if (jws === undefined || before === undefined) continue;
    if (prevOf(jws) !== chainHash(before)) return seq;
  }
  return null;
}

function prevOf(jws: string): string | null {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { prev?: unknown };
    return typeof payload.prev === 'string' ? payload.prev : null;
  } catch {
    return null;
  }
}
