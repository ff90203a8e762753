/**
 * A gateway restored from a backup (`tillgate gateway restore`) does not trust its terminals' chain
 * heads until the cloud has said where each chain stands: payments acknowledged after the backup
 * was taken exist only on the terminals (which keep them until the cloud has them: the `cloud`
 * field of the ack) and, for those already forwarded, in the cloud.
 *
 * `restore` writes a marker file beside the store; the first start after it records the restore in
 * the store (the `restore` keyspace) and removes the marker. From then on a terminal is
 * *unconfirmed* until the cloud answered its head (gateway/resync): the gateway publishes no ack
 * for it and answers its events STORE_FULL ("keep it, retry later"). When the cloud answers:
 * - the cloud is ahead: its head becomes the terminal's head here (the seqs in between are held by
 *   the cloud only: an audit record says which), retention's mark moves past them (they are not
 *   "lost"), and the ack tells the terminal to resend what follows;
 * - the cloud is not ahead: the restored head stands (its event at the cloud's seq must hash the
 *   same, else an alarm), and what the backup holds beyond the cloud is forwarded as usual.
 * Either way the cloud seq of the terminal is set to the cloud's head.
 *
 * Terminals enrolled after the restore are unconfirmed too (the backup may predate them while the
 * cloud knows them). The record stays: a store restored once keeps checking new terminals.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { chainHash, type ChainHead } from '../../protocol/chain.js';
import { terminalIdSchema } from '../../protocol/ids.js';
import type { LevelEventStore } from './level-event-store.js';
import { corrupt } from './records.js';
import { del, put, writeBatch, type BatchOp } from './sections.js';

/** Written by `tillgate gateway restore` into the data directory; consumed by the next start. */
export const RESTORE_MARKER_FILE = 'tillgate-restored.json';
/** A marker is a few hundred bytes. */
const MAX_MARKER_BYTES = 64 * 1024;
/** Terminals named one by one in the status (the rest are counted). */
const MAX_LISTED = 50;

export const restoreMarkerSchema = z.object({
  v: z.literal(1),
  /** When the backup was restored (RFC 3339). */
  restoredAt: z.string().max(40),
  /** When the backup was taken (RFC 3339). */
  backupTakenAt: z.string().max(40),
});
export type RestoreMarker = z.infer<typeof restoreMarkerSchema>;

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const infoSchema = z.object({ v: z.literal(1), restoredAtMs: count, backupTakenAt: z.string().max(40) });
const checkSchema = z.object({
  terminal: terminalIdSchema,
  /** The head the backup had. */
  restoredSeq: count,
  /** The head the cloud answered. */
  cloudSeq: count,
  /** Seqs the cloud holds and this gateway does not (the cloud's head was adopted), or null. */
  cloudOnly: z.object({ from: count, through: count }).nullable(),
  /** The gateway's event at the cloud's head does not hash to the cloud's: an alarm. */
  mismatch: z.boolean(),
  atMs: count,
});
export type RestoreInfo = z.infer<typeof infoSchema>;
export type HeadCheck = z.infer<typeof checkSchema>;

const INFO_KEY = 'info';
const checkKey = (terminal: string) => `c!${terminal}`;

export interface RestoreStatus {
  readonly restoredAt: string;
  readonly backupTakenAt: string;
  /** `confirming` while some terminal's head waits for the cloud. */
  readonly state: 'confirming' | 'confirmed';
  readonly unconfirmedCount: number;
  readonly unconfirmed: readonly string[];
  /** Terminals whose head was adopted from the cloud: which seqs only the cloud holds. */
  readonly cloudOnly: readonly { readonly terminal: string; readonly from: number; readonly through: number }[];
  readonly mismatches: readonly string[];
}

export class RestoreState {
  readonly #store: LevelEventStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** False without a cloud to ask: the restored heads are all there is. */
  readonly #confirmable: boolean;
  #info: RestoreInfo | null;
  readonly #checks: Map<string, HeadCheck>;

  private constructor(store: LevelEventStore, info: RestoreInfo | null, checks: Map<string, HeadCheck>, confirmable: boolean, clock: Clock, logger: Logger) {
    this.#store = store;
    this.#info = info;
    this.#checks = checks;
    this.#confirmable = confirmable;
    this.#clock = clock;
    this.#logger = logger;
  }

  /** Reads the restore record; a marker left by `tillgate gateway restore` starts a new one. */
  static async open(store: LevelEventStore, dataDir: string, deps: { confirmable: boolean; clock: Clock; logger: Logger }): Promise<RestoreState> {
    const section = store.sections.restore;
    let info: RestoreInfo | null = null;
    const checks = new Map<string, HeadCheck>();
    for await (const [key, value] of section.iterator()) {
      if (key === INFO_KEY) {
        const parsed = infoSchema.safeParse(value);
        if (!parsed.success) throw corrupt('bad restore record');
        info = parsed.data;
      } else {
        const parsed = checkSchema.safeParse(value);
        if (!parsed.success || checkKey(parsed.data.terminal) !== key) throw corrupt(`bad restore check ${key}`);
        checks.set(parsed.data.terminal, parsed.data);
      }
    }
    const marker = await readMarker(dataDir);
    if (marker !== null) {
      const fresh: RestoreInfo = { v: 1, restoredAtMs: Date.parse(marker.restoredAt) || deps.clock.now(), backupTakenAt: marker.backupTakenAt };
      const ops: BatchOp[] = [...checks.keys()].map((t) => del(section, checkKey(t)));
      ops.push(put(section, INFO_KEY, fresh));
      await writeBatch(store.db, ops, true);
      info = fresh;
      checks.clear();
      // The record is durable: the marker has done its job.
      await unlink(join(dataDir, RESTORE_MARKER_FILE));
      await fsyncDir(dataDir);
      deps.logger.warn('this gateway was restored from a backup: every terminal\'s chain is confirmed with the cloud before its payments are acknowledged again', {
        backupTakenAt: marker.backupTakenAt, terminals: store.terminalIds().length,
      });
    }
    if (info !== null && !deps.confirmable) {
      deps.logger.warn('restored from a backup, but no cloud is configured to confirm the terminals\' chains: the restored heads stand as they are');
    }
    return new RestoreState(store, info, checks, deps.confirmable, deps.clock, deps.logger);
  }

  /** True once the store was restored from a backup. */
  get restored(): boolean {
    return this.#info !== null;
  }

  /** True while the terminal's head waits for the cloud's word. */
  unconfirmed(terminal: string): boolean {
    return this.#info !== null && this.#confirmable && !this.#checks.has(terminal);
  }

  /** The enrolled terminals still waiting, in id order. */
  unconfirmedTerminals(): string[] {
    return this.#store.terminalIds().filter((t) => this.unconfirmed(t));
  }

  /**
   * The cloud says it holds `terminal` through `cloudHead`: adopt it if it is ahead of the restored
   * head, record the check, set the cloud seq. Idempotent.
   */
  async confirm(terminal: string, cloudHead: ChainHead): Promise<HeadCheck> {
    const store = this.#store;
    const restored = store.head(terminal);
    const atMs = this.#clock.now();
    const ahead = cloudHead.seq > restored.seq;
    let mismatch = false;
    if (!ahead && cloudHead.seq > 0) {
      const event = await store.getEvent(terminal, cloudHead.seq);
      mismatch = event !== undefined && chainHash(event.jws) !== cloudHead.hash;
    }
    const check: HeadCheck = {
      terminal, restoredSeq: restored.seq, cloudSeq: cloudHead.seq, atMs, mismatch,
      cloudOnly: ahead ? { from: restored.seq + 1, through: cloudHead.seq } : null,
    };
    const ops: BatchOp[] = [put(store.sections.restore, checkKey(terminal), check), store.queue.cloudSeqOp(terminal, cloudHead.seq)];
    if (ahead) {
      // The seqs only the cloud holds are not "lost" here: the start-up check reads this mark.
      const prunedBefore = await store.sections.pruned.get(terminal);
      const was = typeof prunedBefore === 'number' ? prunedBefore : 0;
      ops.push(put(store.sections.pruned, terminal, Math.max(was, cloudHead.seq)));
    }
    await store.adoptHead(terminal, ahead ? cloudHead : restored, ops);
    this.#checks.set(terminal, check);
    store.queue.cloudSet(terminal, cloudHead.seq);
    if (ahead) {
      this.#logger.warn('restored gateway: the cloud holds this terminal\'s chain further than the backup; adopting the cloud\'s head (the terminal resends what it kept after it)', {
        terminal, restoredSeq: restored.seq, cloudSeq: cloudHead.seq, cloudOnly: check.cloudOnly,
      });
    } else if (mismatch) {
      this.#logger.error('ALARM restored gateway: the cloud\'s event at its head is not the one this gateway holds at that seq', {
        alarm: 'RESTORE_CHAIN_MISMATCH', terminal, cloudSeq: cloudHead.seq,
      });
    } else {
      this.#logger.info('restored gateway: terminal confirmed with the cloud', { terminal, restoredSeq: restored.seq, cloudSeq: cloudHead.seq });
    }
    return check;
  }

  /** For `/api/status` (`restore`), or null when the store was never restored. */
  status(): RestoreStatus | null {
    if (this.#info === null) return null;
    const unconfirmed = this.unconfirmedTerminals();
    const checks = [...this.#checks.values()];
    return {
      restoredAt: new Date(this.#info.restoredAtMs).toISOString(),
      backupTakenAt: this.#info.backupTakenAt,
      state: unconfirmed.length > 0 ? 'confirming' : 'confirmed',
      unconfirmedCount: unconfirmed.length,
      unconfirmed: unconfirmed.slice(0, MAX_LISTED),
      cloudOnly: checks.flatMap((c) => (c.cloudOnly === null ? [] : [{ terminal: c.terminal, ...c.cloudOnly }])).slice(0, MAX_LISTED),
      mismatches: checks.filter((c) => c.mismatch).map((c) => c.terminal).slice(0, MAX_LISTED),
    };
  }
}

async function readMarker(dataDir: string): Promise<RestoreMarker | null> {
  let text: string;
  try {
    const bytes = await readFile(join(dataDir, RESTORE_MARKER_FILE));
    if (bytes.length > MAX_MARKER_BYTES) throw corrupt(`${RESTORE_MARKER_FILE} is too large`);
    text = bytes.toString('utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = restoreMarkerSchema.safeParse((() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  })());
  if (!parsed.success) throw corrupt(`${RESTORE_MARKER_FILE} is not a restore marker`);
  return parsed.data;
}

async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}
