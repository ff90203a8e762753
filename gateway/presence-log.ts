/**
 * Last-seen times on disk (the `presence` keyspace), so a terminal that has not come back after a
 * gateway restart is named with the time it was last seen. Writes are bounded: the changed times
 * are written together at most once per `flushIntervalMs` (one unsynced batch, at most one record
 * per terminal) and once more at shutdown; a kill -9 loses at most that interval of "last seen".
 */
import type { Logger } from '../lib/logger.js';
import type { Presence } from './presence.js';
import { put, writeBatch, type Db, type Section } from './store/sections.js';

/**
 * How often changed last-seen times are written: a terminal publishes every few seconds, so writing
 * on every message would cost a write per payment; 30 s is finer than any silence threshold.
 */
export const DEFAULT_PRESENCE_FLUSH_INTERVAL_MS = 30_000;

interface PresenceRecord {
  readonly lastSeenAtMs: number;
}

function isPresenceRecord(v: unknown): v is PresenceRecord {
  return typeof v === 'object' && v !== null && Number.isFinite((v as PresenceRecord).lastSeenAtMs);
}

/** Reads at most `max` last-seen times (terminal → ms); a record that fails its check is skipped. */
export async function loadLastSeen(section: Section, max: number, logger: Logger): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let skipped = 0;
  for await (const [terminal, value] of section.iterator({ limit: max })) {
    if (isPresenceRecord(value)) out.set(terminal, value.lastSeenAtMs);
    else skipped++;
  }
  if (skipped > 0) logger.warn('presence records that fail their check were skipped', { skipped });
  return out;
}

export class PresenceLog {
  readonly #db: Db;
  readonly #section: Section;
  readonly #presence: Presence;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #state: 'open' | 'closed' = 'open';

  constructor(db: Db, section: Section, presence: Presence, logger: Logger) {
    this.#db = db;
    this.#section = section;
    this.#presence = presence;
    this.#logger = logger;
  }

  start(flushIntervalMs: number): void {
    this.#timer = setInterval(() => void this.flush(), flushIntervalMs);
    this.#timer.unref();
  }

  /** Writes the times changed since the last flush (one batch). Never throws: telemetry, not money. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const changed = this.#presence.takeChanged();
      if (changed.size === 0) return;
      try {
        await writeBatch(this.#db, [...changed].map(([terminal, lastSeenAtMs]) => put(this.#section, terminal, { lastSeenAtMs } satisfies PresenceRecord)), false);
      } catch (err) {
        this.#logger.warn('last-seen times not written', { err, terminals: changed.size });
      }
    });
    return this.#flushing;
  }

  /** Stops the timer and writes what changed: a graceful stop keeps exact last-seen times. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.flush();
  }
}
