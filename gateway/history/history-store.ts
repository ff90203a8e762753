/**
 * The history on disk (the `history` keyspace of the gateway's store, sealed at rest like every
 * value): `a!{start}!{code}!{subject}` alarms, `o!{start}` outages, `b!{at}` backlog samples, all
 * ordered by time. Writes are small and rare (an alarm's start and end, an outage's start, peak
 * and end, one sample a minute); trimming deletes what is older than the kept window, bounded per
 * call. Alarm and outage changes are synced (a technician must find them after a power cut);
 * samples are not.
 */
import { pad } from '../store/keys.js';
import { del, put, writeBatch, type BatchOp, type Db, type Section } from '../store/sections.js';
import { alarmKey } from './tracker.js';
import { assertRecord, isAlarmRecord, isBacklogSample, isOutageRecord, type AlarmRecord, type BacklogSample, type OutageRecord } from './records.js';

/** The edge the recorder writes through. */
export interface HistoryStore {
  /** Records from `sinceMs` on (by start time; samples by time), oldest first, at most `limit` of each kind. */
  load(sinceMs: number, limit: number): Promise<{ alarms: AlarmRecord[]; outages: OutageRecord[]; samples: BacklogSample[] }>;
  /** Writes alarms (opened or closed) and an outage change in one batch. */
  write(alarms: readonly AlarmRecord[], outage: OutageRecord | null, sync: boolean): Promise<void>;
  addSample(sample: BacklogSample): Promise<void>;
  /** Deletes records older than `beforeMs` (ended alarms and outages, samples), at most `maxDeletes`. */
  trim(beforeMs: number, maxDeletes: number): Promise<number>;
}

const alarmDbKey = (a: AlarmRecord) => `a!${pad(a.startedAtMs)}!${alarmKey(a).replace('\u0000', '!')}`;
const outageDbKey = (o: OutageRecord) => `o!${pad(o.startedAtMs)}`;
const sampleDbKey = (s: BacklogSample) => `b!${pad(s.atMs)}`;

export class LevelHistoryStore implements HistoryStore {
  readonly #db: Db;
  readonly #section: Section;
  /** Records that failed their read-back check (skipped, counted). */
  skipped = 0;

  constructor(db: Db, section: Section) {
    this.#db = db;
    this.#section = section;
  }

  async load(sinceMs: number, limit: number) {
    const from = pad(Math.max(0, Math.floor(sinceMs)));
    const alarms = await this.#read('a', from, limit, isAlarmRecord);
    // An alarm or outage that started before the window but is still open belongs to it too.
    const earlierOpen = (await this.#read('a', pad(0), limit, isAlarmRecord, from)).filter((a) => a.endedAtMs === null || a.endedAtMs >= sinceMs);
    const outages = await this.#read('o', from, limit, isOutageRecord);
    const earlierOutages = (await this.#read('o', pad(0), limit, isOutageRecord, from)).filter((o) => o.endedAtMs === null || o.endedAtMs >= sinceMs);
    const samples = await this.#read('b', from, limit, isBacklogSample);
    return { alarms: [...earlierOpen, ...alarms], outages: [...earlierOutages, ...outages], samples };
  }

  async write(alarms: readonly AlarmRecord[], outage: OutageRecord | null, sync: boolean): Promise<void> {
    const ops: BatchOp[] = [];
    for (const a of alarms) {
      assertRecord(isAlarmRecord(a), `alarm ${a.code}`);
      ops.push(put(this.#section, alarmDbKey(a), a));
    }
    if (outage !== null) {
      assertRecord(isOutageRecord(outage), 'outage');
      ops.push(put(this.#section, outageDbKey(outage), outage));
    }
    await writeBatch(this.#db, ops, sync);
  }

  async addSample(sample: BacklogSample): Promise<void> {
    assertRecord(isBacklogSample(sample), 'backlog sample');
    await writeBatch(this.#db, [put(this.#section, sampleDbKey(sample), sample)], false);
  }

  async trim(beforeMs: number, maxDeletes: number): Promise<number> {
    const before = pad(Math.max(0, Math.floor(beforeMs)));
    const ops: BatchOp[] = [];
    for (const kind of ['b', 'a', 'o'] as const) {
      for await (const [key, value] of this.#section.iterator({ gte: `${kind}!`, lt: `${kind}!${before}` })) {
        if (ops.length >= maxDeletes) break;
        // An alarm or outage still open is kept, however old: it is still true.
        const open = (kind === 'a' || kind === 'o') && typeof value === 'object' && value !== null && (value as { endedAtMs?: unknown }).endedAtMs === null;
        const endedRecently = (kind === 'a' || kind === 'o') && typeof value === 'object' && value !== null && Number((value as { endedAtMs?: unknown }).endedAtMs) >= beforeMs;
        if (!open && !endedRecently) ops.push(del(this.#section, key));
      }
    }
    await writeBatch(this.#db, ops, false);
    return ops.length;
  }

  async #read<T>(kind: 'a' | 'o' | 'b', from: string, limit: number, check: (v: unknown) => v is T, before?: string): Promise<T[]> {
    const out: T[] = [];
    // Newest first, so a bound keeps the latest records; returned oldest first.
    const range = { gte: `${kind}!${from}`, lt: before === undefined ? `${kind}"` : `${kind}!${before}`, limit, reverse: true };
    for await (const value of this.#section.values(range)) {
      if (check(value)) out.push(value);
      else this.skipped++;
    }
    return out.reverse();
  }
}
