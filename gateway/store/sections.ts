/**
 * The LevelDB keyspaces of DESIGN §5.1 as sublevels of one database, so one synced batch can
 * write to several of them atomically.
 */
import { ClassicLevel, type BatchOptions, type DatabaseOptions } from 'classic-level';
import type { AbstractBatchOperation } from 'abstract-level';
import { sealedJson, WriteGate, type LevelValueEncoding, type SealCodec } from '../../lib/at-rest/index.js';

/**
 * The gateway's database: classic-level plus the gate every write passes (`writeBatch`), so the
 * background re-encryption after a key rotation never races a commit (lib/at-rest/write-gate.ts).
 */
export class GatewayDb extends ClassicLevel<string, unknown> {
  readonly gate = new WriteGate();
  constructor(dir: string, options: DatabaseOptions<string, unknown>) {
    super(dir, options);
  }
}

export type Db = GatewayDb;

/** Every keyspace's values are sealed at rest (AES-256-GCM, lib/at-rest); keys stay plain. */
function section(db: Db, name: string, encoding: LevelValueEncoding<unknown>) {
  return db.sublevel<string, unknown>(name, { valueEncoding: encoding });
}

export type Section = ReturnType<typeof section>;

export interface Sections {
  /** `terminal!seq` → StoredEvent (with amount and currency). */
  readonly events: Section;
  /** `pos` → QueueRecord: the gateway-wide forward order. */
  readonly queue: Section;
  /** `terminal` → TerminalRecord (keys, password hash). */
  readonly terminals: Section;
  /** `terminal` → ChainHead: written with every commit that extends the chain. */
  readonly heads: Section;
  /** `n` → RejectRecord. */
  readonly rejects: Section;
  /** `pos` → DeadLetter (events the cloud rejected). */
  readonly dead: Section;
  /** `n` → AcceptanceRecord: which positions the cloud took, and when (retention counts from it). */
  readonly accepted: Section;
  /** event `id` → `{terminal, seq}`: the idempotency key is unique in the store (DUPLICATE_ID). */
  readonly ids: Section;
  /**
   * `terminal` → highest seq retention may have deleted: a missing event above it was lost, not
   * pruned (the start-up check tells the two apart).
   */
  readonly pruned: Section;
  /**
   * `terminal` → highest seq of that terminal the cloud accepted (every seq ≤ it is in the cloud:
   * the cloud keeps each chain gapless, DESIGN §3.4). Written in the same batch as the forward
   * cursor; sent to the terminal as `cloud` in its retained ack.
   */
  readonly cloud: Section;
  /**
   * A gateway restored from a backup (gateway/store/restore-state.ts): `info` → RestoreInfo, and
   * `c!terminal` → HeadCheck, one per terminal whose head the cloud confirmed since the restore.
   */
  readonly restore: Section;
  /** `terminal!timeMs` → health sample (unsynced telemetry). */
  readonly health: Section;
  /** `timeMs` → WAN probe result (unsynced telemetry). */
  readonly wanProbes: Section;
  /** `1m|1h!t!terminal!startMs`, `1m|1h!w!startMs` → health roll-up; `~cursor` → roll-up cursor. */
  readonly healthRollups: Section;
  /** `terminal` → when it was last seen (gateway/presence-log.ts): the page's "last seen" survives a restart. */
  readonly presence: Section;
  /** Alarms with start and end, WAN outages, backlog samples (gateway/history/): the page's last 24 hours. */
  readonly history: Section;
  /** `ingest` → IngestMeta, `forward` → ForwardMeta. */
  readonly meta: Section;
}

/**
 * LevelDB memory bounds of the gateway (an appliance with little RAM), the target: RSS < 150 MB while
 * a 1,000,000-event backlog drains. LevelDB 1.20 mmaps every table file it opens (up to 1,000 maps
 * on 64-bit) and keeps it mapped while the table cache holds it, so the pages the forwarder reads
 * stay resident (file-backed RSS) until the table is evicted: with the defaults (1,000 open files,
 * 2 MB tables) a 1M backlog left ~370 MB of table pages mapped.
 */
/**
 * Files LevelDB may hold open: 74 is its own floor (64 table-cache slots plus 10 for the log,
 * manifest and lock), so at most 64 tables are mapped at once.
 */
export const DEFAULT_LEVEL_MAX_OPEN_FILES = 74;
/** Target table size: LevelDB's floor of 1 MiB, so 64 mapped tables hold at most ~64 MiB. */
export const DEFAULT_LEVEL_MAX_FILE_SIZE_BYTES = 1024 * 1024;
/**
 * Block cache (anonymous memory). The gateway reads each stored event about once (the drain), and
 * chain heads live in memory, so a large cache buys nothing: 2 MiB instead of LevelDB's 8 MiB.
 */
export const DEFAULT_LEVEL_CACHE_BYTES = 2 * 1024 * 1024;
/**
 * Memtable size (anonymous memory, up to twice this while one is flushed). Kept at classic-level's
 * 4 MiB: smaller tables from flushes would mean more compaction work on the ingest path.
 */
export const DEFAULT_LEVEL_WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

export function openDb(dir: string): Db {
  return new GatewayDb(dir, {
    keyEncoding: 'utf8',
    valueEncoding: 'json',
    maxOpenFiles: DEFAULT_LEVEL_MAX_OPEN_FILES,
    maxFileSize: DEFAULT_LEVEL_MAX_FILE_SIZE_BYTES,
    cacheSize: DEFAULT_LEVEL_CACHE_BYTES,
    writeBufferSize: DEFAULT_LEVEL_WRITE_BUFFER_BYTES,
  });
}

export function sectionsOf(db: Db, codec: SealCodec): Sections {
  const encoding = sealedJson(codec);
  const sealed = (name: string) => section(db, name, encoding);
  return {
    events: sealed('events'),
    queue: sealed('queue'),
    terminals: sealed('terminals'),
    heads: sealed('heads'),
    rejects: sealed('rejects'),
    dead: sealed('dead'),
    accepted: sealed('accepted'),
    ids: sealed('ids'),
    pruned: sealed('pruned'),
    cloud: sealed('cloud'),
    restore: sealed('restore'),
    health: sealed('health'),
    wanProbes: sealed('wan'),
    healthRollups: sealed('rollup'),
    presence: sealed('presence'),
    history: sealed('history'),
    meta: sealed('meta'),
  };
}

export interface PutOp {
  readonly type: 'put';
  readonly sublevel: Section;
  readonly key: string;
  readonly value: unknown;
}
export interface DelOp {
  readonly type: 'del';
  readonly sublevel: Section;
  readonly key: string;
}
export type BatchOp = PutOp | DelOp;

export const put = (sublevel: Section, key: string, value: unknown): PutOp => ({ type: 'put', sublevel, key, value });
export const del = (sublevel: Section, key: string): DelOp => ({ type: 'del', sublevel, key });

/**
 * One atomic batch; `sync` fsyncs the log before resolving (DESIGN §4: durable before acknowledged).
 * The options are typed as classic-level's own `BatchOptions`, so a misspelt or dropped `sync` is a
 * compile error rather than a silently unsynced write.
 */
export async function writeBatch(db: Db, ops: readonly BatchOp[], sync: boolean): Promise<void> {
  if (ops.length === 0) return;
  const options: BatchOptions<string, unknown> = { sync };
  await db.gate.shared(() => db.batch(ops.map(toLevelOp), options));
}

/** Our sublevel op as abstract-level's batch operation (a sublevel op names its sublevel). */
function toLevelOp(op: BatchOp): AbstractBatchOperation<Db, string, unknown> {
  return op.type === 'put'
    ? { type: 'put', sublevel: op.sublevel, key: op.key, value: op.value }
    : { type: 'del', sublevel: op.sublevel, key: op.key };
}
