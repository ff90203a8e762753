/**
 * Backpressure (DESIGN §4 "never drop a financial record"): past the disk high-water mark the
 * gateway stops accepting new events (STORE_FULL) and says so on the retained status topic; the
 * terminals keep the events in their own outboxes. The probe is injected so tests can fill the
 * disk without filling the disk.
 */
import { statfs } from 'node:fs/promises';
import type { Logger } from '../lib/logger.js';

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

export interface DiskMonitorOptions {
  readonly dir: string;
  readonly highWaterPct: number;
  readonly intervalMs: number;
  readonly probe: DiskProbe;
  readonly logger: Logger;
  /** Called when `accepting` flips. */
  readonly onChange: (accepting: boolean) => void;
}

export class DiskMonitor {
  readonly #o: DiskMonitorOptions;
  #usage: DiskUsage | null = null;
  #accepting = true;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: DiskMonitorOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    await this.check();
    this.#timer = setInterval(() => void this.check(), this.#o.intervalMs);
    this.#timer.unref();
  }

  accepting(): boolean {
    return this.#accepting;
  }

  usage(): DiskUsage | null {
    return this.#usage;
  }

  /** Measures now; a failing probe keeps the last verdict (and logs). */
  async check(): Promise<void> {
    let usage: DiskUsage;
    try {
      usage = await this.#o.probe(this.#o.dir);
    } catch (err) {
      this.#o.logger.warn('disk probe failed', { err });
      return;
    }
    this.#usage = usage;
    const usedPct = usage.totalBytes > 0 ? ((usage.totalBytes - usage.freeBytes) / usage.totalBytes) * 100 : 0;
    const accepting = usedPct < this.#o.highWaterPct;
    if (accepting !== this.#accepting) {
      this.#accepting = accepting;
      this.#o.logger.warn(accepting ? 'disk below high-water mark: accepting events again' : 'disk past high-water mark: refusing new events (STORE_FULL)', { usedPct: Math.round(usedPct) });
      this.#o.onChange(accepting);
    }
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
