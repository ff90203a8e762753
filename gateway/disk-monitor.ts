/**
 * Backpressure and a reserve (DESIGN §4 "never drop a financial record"): past the disk high-water
 * mark the gateway stops accepting new events (STORE_FULL) and says so on the retained status topic;
 * the terminals keep the events in their own outboxes. Three things make that hold on a real disk:
 *
 * - The mark is checked against the bytes about to be written, not only against the last periodic
 *   probe: every commit's bytes are counted (times LevelDB's write amplification) until the next
 *   probe, and a probe runs early once enough was written. So filling the disk through the gateway
 *   stops at the mark instead of overshooting it between probes.
 * - A reserve: a ballast file of `reserveBytes` in the data directory. The reserve counts as used
 *   whether the ballast is on disk or not, so the mark does not move when it is released. It is
 *   released when the disk is nearly full anyway (someone else filled it) or a write failed for lack
 *   of space, so the STORE_FULL answers (small, durable reject records) can always be written; and
 *   at start, before LevelDB opens, when the disk is too full for LevelDB to replay its log. It is
 *   put back once there is room again.
 * - At start a full disk is named (`DISK_FULL`, free bytes, what to do), not "Database failed to open".
 * - A forecast: a robust slope of the disk's use over the last hours says when it reaches the mark
 *   at the rate it is filling (`fillForecast`), so the page can warn a day ahead, not at the mark.
 *
 * The probe is injected so tests can simulate usage; the reserve is real file I/O in `dir`.
 */
import { open, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.js';
import { TillgateError } from '../protocol/errors.js';
import { RobustSlope } from './predict/detectors/slope.js';
import { DEFAULT_LEVEL_WRITE_BUFFER_BYTES } from './store/sections.js';

export interface DiskUsage {
  readonly totalBytes: number;
  /** Bytes available to this process (statfs `bavail`). */
  readonly freeBytes: number;
}

export type DiskProbe = (dir: string) => Promise<DiskUsage>;

export const statfsProbe: DiskProbe = async (dir) => {
  const s = await statfs(dir);
  return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
};

export const RESERVE_FILE = 'tillgate-reserve.ballast';
/**
 * Disk bytes one stored byte may cost until the next probe: LevelDB writes it to its log, then to a
 * level-0 table, and compaction rewrites it (old and new tables exist together for a while).
 */
export const WRITE_AMPLIFICATION = 3;
/**
 * What LevelDB may still put on disk for writes already made: its memtable (up to the 4 MiB write
 * buffer, store/sections.ts) is flushed into a table while the log holding the same data still
 * exists, and compaction rewrites tables before deleting the old ones. Counted into every check, so
 * the mark holds after those land too (noticeable only on small disks).
 */
export const LEVELDB_PENDING_BYTES = 2 * DEFAULT_LEVEL_WRITE_BUFFER_BYTES;
/** Probe early once this share of the disk was written since the last probe. */
const EARLY_PROBE_SHARE = 0.005;
/** The reserve is at most this share of the disk (a small disk keeps most of its room for events). */
export const MAX_RESERVE_SHARE = 0.05;
/** Writing the ballast: zeros in chunks of this size (the blocks must really be allocated). */
const BALLAST_CHUNK_BYTES = 1024 * 1024;

/**
 * The fill forecast's slope: robust over about two hours of probes (LevelDB's compactions make the
 * use saw up and down by megabytes) and known after half an hour.
 */
const FILL_SLOPE = { tauMs: 2 * 3_600_000, clipZ: 3, minScale: 0.01, minPoints: 12, minSpanMs: 30 * 60_000 } as const;
/** Slower than this (percent of the disk per hour) is not filling: a week to fill 1 %. */
const FILL_MIN_PCT_PER_H = 0.006;

/** When the disk reaches the high-water mark at the rate it has been filling. */
export interface FillForecast {
  readonly usedPct: number;
  readonly risingPctPerH: number;
  /** Until the high-water mark (0 when past it). */
  readonly fullInMs: number;
}

export interface DiskMonitorOptions {
  readonly dir: string;
  readonly highWaterPct: number;
  readonly intervalMs: number;
  /** Size of the reserve (0: none), at most MAX_RESERVE_SHARE of the disk. */
  readonly reserveBytes: number;
  readonly probe: DiskProbe;
  readonly logger: Logger;
  /** The time of a probe, for the fill forecast (default: the system clock). */
  readonly now?: () => number;
}

export type ReserveState = 'none' | 'held' | 'released';

export class DiskMonitor {
  readonly #o: DiskMonitorOptions;
  #usage: DiskUsage | null = null;
  #accepting = true;
  #timer: NodeJS.Timeout | null = null;
  #reserve: ReserveState;
  /** Bytes committed since the last probe (times the amplification when estimating). */
  #writtenSinceProbe = 0;
  #probing: Promise<void> | null = null;
  #reserveWork: Promise<void> = Promise.resolve();
  readonly #listeners = new Set<(accepting: boolean) => void>();
  readonly #fill = new RobustSlope(FILL_SLOPE);

  constructor(options: DiskMonitorOptions) {
    this.#o = options;
    this.#reserve = options.reserveBytes > 0 ? 'released' : 'none';
  }

  /**
   * Before the store opens: when the disk is too full for LevelDB (it needs room to replay its log
   * into a table), the ballast of a previous run is deleted. Returns what the disk looks like then.
   */
  static async beforeOpen(dir: string, reserveBytes: number, probe: DiskProbe, logger: Logger): Promise<DiskUsage | null> {
    let usage: DiskUsage;
    try {
      usage = await probe(dir);
    } catch {
      return null;
    }
    if (reserveBytes > 0 && usage.freeBytes < Math.min(reserveBytes, usage.totalBytes * MAX_RESERVE_SHARE) && (await exists(join(dir, RESERVE_FILE)))) {
      await rm(join(dir, RESERVE_FILE), { force: true });
      logger.warn('disk nearly full at start: released the reserve so the event store can open', { freeBytes: usage.freeBytes, reserveBytes });
      usage = await probe(dir).catch(() => usage);
    }
    return usage;
  }

  /** The error to throw when the store cannot open because the disk is full: says what to do. */
  static diskFullAtStart(dir: string, usage: DiskUsage | null, cause: unknown): TillgateError {
    const free = usage === null ? 'unknown' : `${usage.freeBytes} bytes free of ${usage.totalBytes}`;
    return new TillgateError(
      'DISK_FULL',
      `cannot open the event store in ${dir}: the disk is full (${free}) and LevelDB needs room to replay its write-ahead log ` +
        '(up to a few MB). Free space on that disk (the gateway\'s own reserve is already released), then start the gateway again; nothing stored is lost.',
      { cause },
    );
  }

  async start(): Promise<void> {
    if (this.#reserve !== 'none' && (await exists(join(this.#o.dir, RESERVE_FILE)))) this.#reserve = 'held';
    await this.check();
    this.#timer = setInterval(() => void this.check(), this.#o.intervalMs);
    this.#timer.unref();
  }

  accepting(): boolean {
    return this.#accepting;
  }

  /** Called whenever `accepting` flips. */
  onChange(listener: (accepting: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  usage(): DiskUsage | null {
    return this.#usage;
  }

  get reserve(): ReserveState {
    return this.#reserve;
  }

  /** When the disk reaches the mark at its recent rate; null until known, or while it is not filling. */
  fillForecast(): FillForecast | null {
    if (!this.#fill.ready || this.#fill.slopePerH < FILL_MIN_PCT_PER_H) return null;
    // Ready and rising, so the time to the mark is finite (0 when past it).
    const hours = this.#fill.hoursTo(this.#o.highWaterPct, 'up');
    return { usedPct: this.#fill.level, risingPctPerH: this.#fill.slopePerH, fullInMs: hours * 3_600_000 };
  }

  /** `fillForecast` in whole seconds until the mark, as /api/status and /metrics say it; null while not filling. */
  fullInSeconds(): number | null {
    const f = this.fillForecast();
    return f === null ? null : Math.round(f.fullInMs / 1000);
  }

  /**
   * Whether `bytes` more may be written now without passing the mark, counting what was written
   * since the last probe (with amplification). False also while not accepting.
   */
  admits(bytes: number): boolean {
    if (!this.#accepting) return false;
    const usage = this.#usage;
    if (usage === null || usage.totalBytes <= 0) return true;
    const estimate = this.#usedBytes(usage) + LEVELDB_PENDING_BYTES + (this.#writtenSinceProbe + bytes) * WRITE_AMPLIFICATION;
    if (estimate / usage.totalBytes * 100 < this.#o.highWaterPct) return true;
    // The estimate says the mark is reached: measure now (the next write waits for no one).
    void this.check();
    return false;
  }

  /** A commit wrote `bytes`: counted until the next probe; probes early when enough was written. */
  wrote(bytes: number): void {
    this.#writtenSinceProbe += bytes;
    const total = this.#usage?.totalBytes ?? 0;
    if (total > 0 && this.#writtenSinceProbe * WRITE_AMPLIFICATION >= total * EARLY_PROBE_SHARE) void this.check();
  }

  /** A write failed for lack of space: free the reserve now and stop accepting. */
  async diskFull(): Promise<void> {
    this.#o.logger.error('ALARM the disk is full: releasing the reserve so answers can still be written', { alarm: 'DISK_FULL', reserve: this.#reserve });
    this.#setAccepting(false, 100);
    await this.#releaseReserve();
    await this.check();
  }

  /** Measures now (one probe at a time); a failing probe keeps the last verdict (and logs). */
  check(): Promise<void> {
    this.#probing ??= this.#check().finally(() => {
      this.#probing = null;
    });
    return this.#probing;
  }

  async #check(): Promise<void> {
    const writtenBefore = this.#writtenSinceProbe;
    let usage: DiskUsage;
    try {
      usage = await this.#o.probe(this.#o.dir);
    } catch (err) {
      this.#o.logger.warn('disk probe failed', { err });
      return;
    }
    this.#usage = usage;
    this.#writtenSinceProbe = Math.max(0, this.#writtenSinceProbe - writtenBefore);
    const usedPct = usage.totalBytes > 0 ? (this.#usedBytes(usage) / usage.totalBytes) * 100 : 0;
    if (usage.totalBytes > 0) this.#fill.update(usedPct, (this.#o.now ?? Date.now)());
    this.#setAccepting(usedPct < this.#o.highWaterPct, usedPct);
    await this.#tendReserve(usage);
  }

  /** The reserve's size on this disk. */
  #reserveSize(usage: DiskUsage | null): number {
    const total = usage?.totalBytes ?? 0;
    return total > 0 ? Math.min(this.#o.reserveBytes, Math.floor(total * MAX_RESERVE_SHARE)) : 0;
  }

  /** Used bytes with the reserve counted as used whether the ballast is on disk or not. */
  #usedBytes(usage: DiskUsage): number {
    const released = this.#reserve === 'released' ? this.#reserveSize(usage) : 0;
    return usage.totalBytes - usage.freeBytes + released;
  }

  #setAccepting(accepting: boolean, usedPct: number): void {
    if (accepting === this.#accepting) return;
    this.#accepting = accepting;
    this.#o.logger.warn(accepting ? 'disk below high-water mark: accepting events again' : 'disk past high-water mark: refusing new events (STORE_FULL)', { usedPct: Math.round(usedPct) });
    for (const listener of [...this.#listeners]) listener(accepting);
  }

  /** Releases the ballast when the disk is nearly full, puts it back when there is room. */
  async #tendReserve(usage: DiskUsage): Promise<void> {
    const size = this.#reserveSize(usage);
    if (this.#reserve === 'held' && usage.freeBytes < size) await this.#releaseReserve();
    // Put back in the background: nothing waits for it.
    else if (this.#reserve === 'released' && size > 0 && this.#accepting && usage.freeBytes >= 2 * size) void this.#holdReserve(size);
  }

  #releaseReserve(): Promise<void> {
    this.#reserveWork = this.#reserveWork.then(async () => {
      if (this.#reserve !== 'held') return;
      await rm(join(this.#o.dir, RESERVE_FILE), { force: true });
      this.#reserve = 'released';
      this.#o.logger.warn('disk reserve released', { reserveBytes: this.#reserveSize(this.#usage) });
    });
    return this.#reserveWork;
  }

  #holdReserve(size: number): Promise<void> {
    this.#reserveWork = this.#reserveWork.then(async () => {
      if (this.#reserve !== 'released') return;
      const file = join(this.#o.dir, RESERVE_FILE);
      try {
        await writeZeros(file, size);
        this.#reserve = 'held';
      } catch (err) {
        await rm(file, { force: true });
        this.#o.logger.warn('disk reserve not written', { err });
      }
    });
    return this.#reserveWork;
  }

  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#probing;
    await this.#reserveWork;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes `bytes` zeros (allocated blocks, not a sparse file) and fsyncs them. */
async function writeZeros(file: string, bytes: number): Promise<void> {
  const fd = await open(file, 'w');
  try {
    const chunk = Buffer.alloc(Math.min(BALLAST_CHUNK_BYTES, bytes));
    for (let written = 0; written < bytes; ) {
      const n = Math.min(chunk.length, bytes - written);
      await fd.write(chunk, 0, n);
      written += n;
    }
    await fd.sync();
  } finally {
    await fd.close();
  }
}
