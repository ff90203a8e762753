/**
 * The LevelDB keyspaces of DESIGN §5.1 as sublevels of one database, so one synced batch can
 * write to several of them atomically.
 */
import { ClassicLevel } from 'classic-level';

export type Db = ClassicLevel<string, unknown>;

function section(db: Db, name: string) {
  return db.sublevel<string, unknown>(name, { valueEncoding: 'json' });
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
  /** `terminal!timeMs` → health sample (unsynced telemetry). */
  readonly health: Section;
  /** `ingest` → IngestMeta, `forward` → ForwardMeta. */
  readonly meta: Section;
}

export function openDb(dir: string): Db {
  return new ClassicLevel<string, unknown>(dir, { keyEncoding: 'utf8', valueEncoding: 'json' });
}

export function sectionsOf(db: Db): Sections {
  return {
    events: section(db, 'events'),
    queue: section(db, 'queue'),
    terminals: section(db, 'terminals'),
    heads: section(db, 'heads'),
    rejects: section(db, 'rejects'),
    dead: section(db, 'dead'),
    health: section(db, 'health'),
    meta: section(db, 'meta'),
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

/** One atomic batch; `sync` fsyncs the log before resolving (DESIGN §4: durable before acknowledged). */
export async function writeBatch(db: Db, ops: readonly BatchOp[], sync: boolean): Promise<void> {
  if (ops.length === 0) return;
  await db.batch(ops as never, { sync } as never);
}
